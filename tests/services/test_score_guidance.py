"""Score guidance: level descriptors per criterion, comments per criterion, a comment required
for extreme scores on submission, and the campaign's stage dates in order."""

from __future__ import annotations

import copy
import tomllib
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from scoring.errors import ValidationFailed
from scoring.importers.scores import apply_scores_import, plan_scores_import
from scoring.services.campaigns import (
    levels_text,
    parse_levels,
    validate_campaign_data,
)
from scoring.services.review import sheet_view
from scoring.services.setup import setup_view, update_campaign
from scoring.services.sheet_rules import needs_comment
from scoring.services.sheets import save_own_sheet
from scoring.storage.models import AuditEvent, Campaign, Criterion, Score
from tests.factories import (
    ORGANISER,
    actor_of,
    assigned,
    campaign_data,
    make_account,
    make_campaign,
    make_entry,
)

DEMO = Path(__file__).resolve().parents[2] / "scoring" / "demo"

LEVELS = [
    {"label": "优", "low": 54, "high": 60},
    {"label": "良", "low": 40, "high": 53},
    {"label": "差", "low": 0, "high": 39},
]


def _with_levels(levels, **changes):
    data = campaign_data(**changes)
    data["criteria"][0]["levels"] = levels
    return data


def _messages(data) -> list[tuple[str, str]]:
    """(key, Chinese message) of every problem: what the organiser reads."""
    return [(p.key, p.message("zh")) for p in validate_campaign_data(data).problems]


# --- the campaign file ---------------------------------------------------------------------


def test_good_levels_and_dates_pass():
    data = _with_levels(
        LEVELS,
        comment_at_extremes=True,
        intake_opens_on="2020-08-01",
        intake_closes_on="2020-09-30",
        review_opens_on="2020-11-02",
    )
    assert _messages(data) == []


@pytest.mark.parametrize(
    ("level", "key", "words"),
    [
        ({"label": "", "low": 0, "high": 10}, "guidance.level_label_empty", ["创新性", "第 2 档"]),
        (
            {"label": "非常非常非常非常非常好的一档", "low": 0, "high": 10},
            "guidance.level_label_long",
            ["创新性", "非常"],
        ),
        ({"label": "中", "low": 20, "high": 10}, "guidance.level_low_above_high", ["创新性", "中"]),
        ({"label": "中", "low": 0, "high": 61}, "guidance.level_outside", ["创新性", "0–60"]),
        ({"label": "中", "low": -1, "high": 10}, "guidance.level_outside", ["创新性", "中"]),
        ({"label": "中", "low": 50, "high": 54}, "guidance.levels_overlap", ["“优”", "“中”"]),
        ({"label": "优", "low": 0, "high": 10}, "guidance.level_label_twice", ["创新性", "优"]),
        ({"label": "中", "low": "a", "high": 10}, "guidance.level_not_numbers", ["中"]),
    ],
)
def test_a_bad_level_is_named_with_its_criterion(level, key, words):
    problems = _messages(_with_levels([LEVELS[0], level]))
    assert [k for k, _ in problems] == [key]
    assert all(word in problems[0][1] for word in words), problems


def test_a_level_off_the_step_is_refused():
    data = campaign_data()
    data["criteria"][1]["levels"] = [{"label": "优", "low": 35.25, "high": 40}]  # step 0.5
    problems = _messages(data)
    assert [k for k, _ in problems] == ["guidance.level_off_step"]
    assert "成效性" in problems[0][1] and "0.5" in problems[0][1]


def _order(**dates) -> list[str]:
    return [m for k, m in _messages(campaign_data(**dates)) if k == "guidance.stage_order"]


def test_stage_dates_must_be_dates_and_in_order():
    problems = _messages(campaign_data(intake_opens_on="2020-13-01"))
    assert [k for k, _ in problems] == ["guidance.bad_date"]
    (message,) = _order(intake_opens_on="2020-11-05", review_opens_on="2020-11-02")
    assert "评审开始日期（2020-11-02）" in message and "征集开始日期（2020-11-05）" in message
    (message,) = _order(review_closes_on="2020-11-20", announce_on="2020-11-19")
    assert "公布日期（2020-11-19）" in message and "评审截止日期（2020-11-20）" in message
    (message,) = _order(intake_opens_on="2020-09-01", intake_closes_on="2020-08-31")
    assert "征集截止日期（2020-08-31）" in message
    # The voting window sits between intake and review, by its Beijing day.
    (message,) = _order(
        intake_opens_on="2020-10-01", vote_opens="2020-09-20 09:00", vote_closes="2020-10-30 18:00"
    )
    assert "投票开始日期（2020-09-20）" in message
    # Stages may overlap: votes still come in while the review starts.
    assert (
        _order(
            intake_opens_on="2020-08-01",
            intake_closes_on="2020-09-30",
            vote_opens="2020-09-01 09:00",
            vote_closes="2020-11-05 18:00",
            review_opens_on="2020-11-02",
            review_closes_on="2020-11-20",
            announce_on="2020-11-20",
        )
        == []
    )
    assert _messages(campaign_data(review_opens_on=date(2020, 11, 2))) == []  # a TOML date


def test_comment_at_extremes_is_a_switch():
    assert [k for k, _ in _messages(campaign_data(comment_at_extremes="yes"))] == [
        "guidance.not_a_switch"
    ]


def test_levels_text_reads_and_writes_the_set_up_form():
    levels = parse_levels("优 26-30; 良 20–25；中 12~19\n差 0-11", "创新性")
    assert levels == [
        {"label": "优", "low": 26, "high": 30},
        {"label": "良", "low": 20, "high": 25},
        {"label": "中", "low": 12, "high": 19},
        {"label": "差", "low": 0, "high": 11},
    ]
    assert levels_text(levels) == "优 26-30; 良 20-25; 中 12-19; 差 0-11"
    assert parse_levels(levels_text(levels), "x") == levels
    assert parse_levels("", "x") == []
    assert parse_levels("A 1.5-2", "x") == [{"label": "A", "low": 1.5, "high": 2}]
    with pytest.raises(ValidationFailed) as refused:
        parse_levels("优 26-30; 很好", "创新性")
    assert "创新性" in refused.value.message("zh") and "很好" in refused.value.message("zh")
    with pytest.raises(ValidationFailed):
        parse_levels("26-30", "创新性")  # no label


@pytest.mark.parametrize("name", ["qd-2020.toml", "dg-person-2020.toml"])
def test_the_demo_files_show_levels_and_intake_dates(name):
    data = tomllib.loads((DEMO / name).read_text("utf-8"))
    assert validate_campaign_data(data).problems == []
    assert data["intake_opens_on"] < data["intake_closes_on"]
    experts = [c for c in data["criteria"] if c["panel"] == "expert"]
    assert experts and all(len(c["levels"]) == 4 for c in experts)


# --- stored, and round trip through set-up -------------------------------------------------


@pytest.fixture
def scene(database):
    def setup(session):
        campaign = make_campaign(
            session,
            **_with_levels(
                LEVELS,
                comment_at_extremes=True,
                intake_opens_on="2020-08-01",
                intake_closes_on="2020-09-30",
            ),
        )
        entry = make_entry(session, campaign, "G-1")
        expert = make_account(session, "expert1", "expert")
        assigned(session, entry, expert)
        return {"slug": campaign.slug, "expert": actor_of(expert), "entry": entry.id}

    return database.write(setup)


def _campaign(session, slug="test-2020"):
    return session.exec(select(Campaign).where(Campaign.slug == slug)).one()


def _edit(database, change, confirmed=False):
    def work(session):
        campaign = _campaign(session)
        view = setup_view(session, ORGANISER, campaign)
        data = copy.deepcopy(view.definition)
        change(data)
        return update_campaign(
            session, ORGANISER, campaign, data, expected_version=view.version, confirmed=confirmed
        )

    return database.write(work)


def test_a_campaign_file_keeps_levels_switch_and_dates(database):
    data = _with_levels(
        [LEVELS[2], LEVELS[0], LEVELS[1]],  # any order in the file: stored best first
        comment_at_extremes=True,
        intake_opens_on="2020-08-01",
        intake_closes_on="2020-09-30",
    )
    database.write(lambda s: make_campaign(s, **data))
    with database.read() as session:
        definition = setup_view(session, ORGANISER, _campaign(session)).definition
    assert definition["criteria"][0]["levels"] == LEVELS
    assert definition["criteria"][1]["levels"] == []
    assert definition["comment_at_extremes"] is True
    assert (definition["intake_opens_on"], definition["intake_closes_on"]) == (
        "2020-08-01",
        "2020-09-30",
    )
    # Unchanged, the definition saves as no change at all: the round trip keeps everything.
    assert _edit(database, lambda d: None) == []


def test_levels_switch_and_dates_are_edited_in_set_up_and_audited(database, scene):
    def change(d):
        d["criteria"][1]["levels"] = parse_levels("好 30-40; 一般 0-29.5", "成效性")
        d["comment_at_extremes"] = False
        d["intake_closes_on"] = "2020-09-15"

    changed = _edit(database, change)
    assert set(changed) == {"criteria", "comment_at_extremes", "intake_closes_on"}
    with database.read() as session:
        campaign = _campaign(session)
        assert campaign.comment_at_extremes is False
        assert campaign.intake_closes_on == "2020-09-15"
        impact = session.exec(select(Criterion).where(Criterion.key == "impact")).one()
        assert impact.levels == [
            {"label": "好", "low": 30, "high": 40},
            {"label": "一般", "low": 0, "high": 29.5},
        ]
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "campaign.update")).one()
    assert event.new_value["intake_closes_on"] == "2020-09-15"
    assert event.old_value["intake_closes_on"] == "2020-09-30"


def test_set_up_refuses_bad_levels_and_dates_out_of_order_whole(database, scene):
    def bad(d):
        d["criteria"][1]["levels"] = [{"label": "好", "low": 30, "high": 41}]
        d["review_opens_on"] = "2020-07-01"  # before intake opens

    with pytest.raises(ValidationFailed) as refused:
        _edit(database, bad)
    assert {p.key for p in refused.value.problems} == {
        "guidance.level_outside",
        "guidance.stage_order",
    }
    with database.read() as session:
        assert session.exec(select(Criterion).where(Criterion.key == "impact")).one().levels == []
        assert _campaign(session).review_opens_on is None


def test_after_scoring_started_levels_change_without_confirmation(database, scene):
    _save(database, scene, {"innovation": 30}, submit=False)

    def relabel(d):
        d["criteria"][0]["levels"][0]["label"] = "卓越"

    assert _edit(database, relabel) == ["criteria"]
    # The range itself still needs the confirmation: it changes what a score means.
    with pytest.raises(ValidationFailed) as refused:
        _edit(database, lambda d: d["criteria"][0].update(max_points=70))
    assert refused.value.key == "setup.confirm_needed"


def test_set_up_keeps_levels_of_an_edit_that_does_not_mention_them(database, scene):
    def without_levels(d):
        for crit in d["criteria"]:
            crit.pop("levels")

    assert _edit(database, without_levels) == []
    with database.read() as session:
        innovation = session.exec(select(Criterion).where(Criterion.key == "innovation")).one()
        assert innovation.levels == LEVELS


# --- the sheet ------------------------------------------------------------------------------


def _save(database, scene, points, *, submit, comments=None, version=None):
    return database.write(
        lambda s: (
            save_own_sheet(
                s,
                scene["expert"],
                entry_id=scene["entry"],
                points=points,
                comment="",
                submit=submit,
                expected_version=version,
                comments=comments,
            ).version
        )
    )


def _view(database, scene):
    with database.read() as session:
        return sheet_view(session, scene["expert"], _campaign(session), "G-1")


@pytest.mark.parametrize(
    ("points", "needed"),
    [
        (54, True),  # 0.9 of 60
        (53, False),
        (6, True),  # 0.1 of 60
        (6.5, False),
        (0, True),
        (60, True),
        (None, False),
    ],
)
def test_needs_comment_at_the_top_and_bottom_tenth(points, needed):
    criterion = Criterion(component_id=1, key="k", name="n", max_points=60)
    assert needs_comment(criterion, points, True) is needed
    assert needs_comment(criterion, points, False) is False


def test_an_extreme_score_without_its_comment_is_a_draft_not_a_submission(database, scene):
    points = {"innovation": 58, "impact": 20}
    version = _save(database, scene, points, submit=False)  # a draft may lack it
    with pytest.raises(ValidationFailed) as refused:
        _save(database, scene, points, submit=True, version=version)
    assert refused.value.key == "guidance.comment_required"
    message = refused.value.message("zh")
    assert "创新性" in message and "成效性" not in message and "G-1" in message
    assert _view(database, scene).status == "draft"

    _save(
        database,
        scene,
        points,
        submit=True,
        version=version,
        comments={"innovation": "  技术路线全国首创  "},
    )
    view = _view(database, scene)
    assert view.status == "submitted"
    assert view.comments == {"innovation": "技术路线全国首创"}
    assert view.comment_at_extremes is True


def test_a_revision_of_a_submission_keeps_to_the_rule(database, scene):
    comments = {"innovation": "首创"}
    points = {"innovation": 58, "impact": 20}
    version = _save(database, scene, points, submit=True, comments=comments)
    # A revision that keeps the score but clears its comment is refused, as a submission.
    with pytest.raises(ValidationFailed) as refused:
        _save(
            database,
            scene,
            {"innovation": 58},
            submit=False,
            version=version,
            comments={"innovation": ""},
        )
    assert refused.value.key == "guidance.comment_required"
    # Moving the score inside the range needs no comment any more.
    _save(
        database,
        scene,
        {"innovation": 40},
        submit=False,
        version=version,
        comments={"innovation": ""},
    )
    assert _view(database, scene).comments == {}


def test_per_criterion_comments_are_stored_shown_back_and_audited(database, scene):
    version = _save(
        database,
        scene,
        {"innovation": 30, "impact": 20},
        submit=False,
        comments={"innovation": "思路新", "impact": "数据不足"},
    )
    version = _save(database, scene, {"impact": 21}, submit=False, version=version)
    view = _view(database, scene)
    assert view.comments == {"innovation": "思路新", "impact": "数据不足"}  # left out: kept
    assert view.points == {"innovation": 30, "impact": 21}
    # Removing a score takes its comment along.
    _save(database, scene, {"impact": None}, submit=False, version=version)
    assert _view(database, scene).comments == {"innovation": "思路新"}
    with database.read() as session:
        assert [s.comment for s in session.exec(select(Score))] == ["思路新"]
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "sheet.save").order_by(AuditEvent.id)
        ).all()
    assert events[0].new_value["comments"] == {"innovation": "思路新", "impact": "数据不足"}
    assert events[-1].new_value["comments"] == {"innovation": "思路新"}


def test_a_comment_without_points_is_refused_naming_the_criterion(database, scene):
    with pytest.raises(ValidationFailed) as refused:
        _save(database, scene, {"innovation": 30}, submit=False, comments={"impact": "好"})
    assert refused.value.key == "guidance.comment_without_points"
    assert "成效性" in refused.value.message("zh")
    assert _view(database, scene).status == "new"


def test_the_sheet_view_carries_the_levels_best_first(database, scene):
    view = _view(database, scene)
    innovation = next(c for c in view.criteria if c.key == "innovation")
    impact = next(c for c in view.criteria if c.key == "impact")
    assert innovation.levels == LEVELS
    assert impact.levels == []


def test_imported_paper_marks_are_not_held_to_the_comment_rule(database, scene, tmp_path):
    """Paper forms are transcribed as they were marked: an extreme score without a comment
    is imported and submitted, and a row's comment is its criterion's (docs/decisions.md,
    "Score guidance")."""
    path = tmp_path / "scores.csv"
    path.write_text(
        "reviewer,code,criterion,score,comment\n"
        "expert1,G-1,innovation,60,\n"
        "expert1,G-1,impact,40,纸质评分表\n",
        encoding="utf-8",
    )

    def work(session):
        campaign = _campaign(session)
        plan = plan_scores_import(session, campaign, path, submit=True)
        return apply_scores_import(session, ORGANISER, plan)

    assert database.write(work)["submitted"] == 1
    view = _view(database, scene)
    assert view.status == "submitted" and view.points == {"innovation": 60, "impact": 40}
    assert view.comments == {"impact": "纸质评分表"}
