"""The bulk score import writes what one save at a time wrote, on both databases.

The reference is the import as it was: for each sheet, in the order of its first row,
``assign`` then ``write_sheet``. The same rows go through the bulk import into one campaign
and through the reference into a twin campaign; sheets, points, per-criterion comments and
audit events must match, on a first import and on a revision, and the audit chain must hold
afterwards. A row's comment is its criterion's comment, never the sheet's.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from scoring.errors import ValidationFailed
from scoring.importers.scores import apply_scores_import
from scoring.services.assignments import assign
from scoring.services.audit import check_chain
from scoring.services.campaigns import panel_component, rubric
from scoring.services.sheets import write_sheet
from scoring.storage.models import (
    Account,
    Assignment,
    AuditEvent,
    Campaign,
    Criterion,
    Entry,
    Score,
    ScoreSheet,
)
from tests.factories import ORGANISER, make_campaign, make_entry
from tests.importers.import_helpers import CLI, plan, row_counts, run_import, write_csv

HEADER = ["reviewer", "code", "criterion", "score", "comment"]
SLUGS = ("test-2020", "twin-2020")
FIRST = [
    ["expert1", "A-1", "innovation", "50", ""],
    ["expert1", "A-1", "成效性", "30.5", "扎实"],  # a criterion named by its name
    ["expert2", "A-1", "innovation", "40", ""],  # incomplete: stays a draft
    ["EXPERT2", "A-2", "innovation", "20", ""],  # usernames are not case-sensitive
    ["expert2", "A-2", "impact", "10", ""],
    ["media1", "A-2", "story", "88", "好故事"],
]
REVISION = [
    ["expert1", "A-1", "innovation", "55", "有突破"],  # stays submitted; the other keeps 扎实
    ["expert2", "A-1", "impact", "12", ""],  # the file alone is incomplete: still a draft
    ["expert2", "A-2", "innovation", "20", ""],  # unchanged: no sheet.save event
    ["media1", "A-1", "story", "70", ""],  # a new sheet and a new assignment
    ["expert1", "A-1", "impact", "30.5", ""],  # an empty cell keeps the reason 扎实
    ["media1", "A-2", "story", "88", "好故事，可推广"],  # the reason alone changes: audited
]


@pytest.fixture
def twins(database, password_hash):
    """Two campaigns with the same entries; expert1 is already assigned A-1 in both."""

    def setup(session):
        reviewers = {}
        for username, role in (("expert1", "expert"), ("expert2", "expert"), ("media1", "media")):
            account = Account(
                username=username, display_name=username, role=role, password_hash=password_hash
            )
            session.add(account)
            reviewers[username] = account
        session.flush()
        for slug in SLUGS:
            campaign = make_campaign(session, slug=slug)
            first = make_entry(session, campaign, "A-1")
            make_entry(session, campaign, "A-2")
            assign(session, ORGANISER, entry=first, reviewer=reviewers["expert1"])

    database.write(setup)
    return database


@pytest.fixture
def password_hash() -> str:
    from scoring.services.accounts import hash_password

    return hash_password("secret-pass")


def reference_import(database, slug: str, lines: list[list[str]], *, submit: bool) -> None:
    """The import as it was: one ``assign`` and one ``write_sheet`` per sheet."""

    def work(session):
        campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).one()
        sheets: dict[tuple[str, str], dict] = {}
        for username, code, criterion_name, score, comment in lines:
            reviewer = session.exec(select(Account).where(Account.username == username.lower()))
            reviewer = reviewer.one()
            entry = session.exec(
                select(Entry).where(Entry.campaign_id == campaign.id, Entry.code == code)
            ).one()
            component = panel_component(session, campaign.id, reviewer.role)
            criteria = rubric(session, component.id)
            criterion = next(c for c in criteria if criterion_name in (c.key, c.name))
            sheet = sheets.setdefault(
                (reviewer.username, code),
                {"reviewer": reviewer, "entry": entry, "points": {}, "comments": {}},
            )
            sheet["points"][criterion.key] = float(score)
            sheet["criteria"] = criteria
            if comment:
                sheet["comments"][criterion.key] = comment
        for sheet in sheets.values():
            assign(session, ORGANISER, entry=sheet["entry"], reviewer=sheet["reviewer"])
            complete = all(c.key in sheet["points"] for c in sheet["criteria"])
            write_sheet(
                session,
                ORGANISER,
                reviewer=sheet["reviewer"],
                entry=sheet["entry"],
                points=sheet["points"],
                comment=None,
                comments=sheet["comments"],
                submit=submit and complete,
            )

    database.write(work)


def stored(database, slug: str) -> dict:
    """What a user of the campaign sees: sheets with their points, assignments, audit events."""
    with database.read() as session:
        campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).one()
        sheets = {}
        for sheet, code, username in session.exec(
            select(ScoreSheet, Entry.code, Account.username)
            .join(Entry, Entry.id == ScoreSheet.entry_id)
            .join(Account, Account.id == ScoreSheet.reviewer_id)
            .where(Entry.campaign_id == campaign.id)
        ):
            scores = session.exec(
                select(Criterion.key, Score.points, Score.comment)
                .join(Criterion, Criterion.id == Score.criterion_id)
                .where(Score.sheet_id == sheet.id)
            ).all()
            points = {key: value for key, value, _ in scores}
            comments = {key: comment for key, _, comment in scores if comment}
            submitted = sheet.submitted_at is not None
            sheets[(code, username)] = (
                sheet.panel,
                sheet.status,
                sheet.version,
                sheet.comment,
                submitted,
                points,
                comments,
            )
        assignments = set(
            session.exec(
                select(Entry.code, Account.username)
                .select_from(Assignment)
                .join(Entry, Entry.id == Assignment.entry_id)
                .join(Account, Account.id == Assignment.reviewer_id)
                .where(Entry.campaign_id == campaign.id)
            ).all()
        )
        events = [
            (e.actor, e.action, e.target, e.old_value, e.new_value)
            for e in session.exec(
                select(AuditEvent)
                .where(
                    AuditEvent.campaign_id == campaign.id,
                    AuditEvent.action.in_(("assignment.create", "sheet.save")),
                )
                .order_by(AuditEvent.id)
            )
        ]
        return {"sheets": sheets, "assignments": assignments, "events": events}


STAGES = [
    # (file, counts, what expert1's A-1 sheet holds afterwards: status, version, comment,
    # submitted, points, comments by criterion)
    (
        FIRST,
        {"rows": 6, "sheets": 4, "submitted": 3},
        ("submitted", 1, "", True, {"innovation": 50.0, "impact": 30.5}, {"impact": "扎实"}),
    ),
    (
        REVISION,
        {"rows": 6, "sheets": 5, "submitted": 4},
        (
            "submitted",
            2,
            "总体意见",  # the sheet's own comment, written on the page, is kept
            True,
            {"innovation": 55.0, "impact": 30.5},
            {"innovation": "有突破", "impact": "扎实"},
        ),
    ),
]


def _overall_comment_on_expert1s_sheets(session) -> None:
    """What expert1 wrote in the sheet's own comment box on the page, in both campaigns."""
    for sheet in session.exec(
        select(ScoreSheet).join(Account, Account.id == ScoreSheet.reviewer_id)
    ).all():
        if session.get(Account, sheet.reviewer_id).username == "expert1":
            sheet.comment = "总体意见"


def test_bulk_import_writes_what_one_save_at_a_time_wrote(twins, tmp_path):
    """A first import, then a revision: after each, the two campaigns hold the same."""
    for number, (lines, counts, expert1) in enumerate(STAGES, 1):
        if number == 2:
            twins.write(_overall_comment_on_expert1s_sheets)
        path = write_csv(tmp_path / f"stage{number}.csv", HEADER, lines)
        assert run_import(twins, "scores", path, slug="test-2020", submit=True) == counts
        reference_import(twins, "twin-2020", lines, submit=True)
        bulk, reference = stored(twins, "test-2020"), stored(twins, "twin-2020")
        assert bulk == reference
        assert bulk["sheets"][("A-1", "expert1")][1:] == expert1
        assert bulk["sheets"][("A-1", "expert2")][1:3] == ("draft", number)

    assert bulk["sheets"][("A-2", "expert2")][2] == 2  # saved again, so a new version
    saves = [e for e in bulk["events"] if e[1] == "sheet.save" and e[2] == "A-2/expert2"]
    assert len(saves) == 1  # the unchanged revision is not audited
    assert ("A-1", "media1") in bulk["assignments"]
    reason = [e for e in bulk["events"] if e[1] == "sheet.save" and e[2] == "A-2/media1"][-1]
    assert reason[3]["comments"] == {"story": "好故事"}
    assert reason[4]["comments"] == {"story": "好故事，可推广"}

    twins.seal_audit()
    with twins.read() as session:
        chain = check_chain(session, ORGANISER)
    assert chain.ok, chain.problems
    assert chain.unsealed == 0


BAD = [
    ["expert1", "A-1", "innovation", "50", ""],
    ["nobody", "A-1", "innovation", "50", ""],
    ["expert1", "Z-9", "innovation", "50", ""],
    ["expert1", "A-2", "colour", "5", ""],
    ["expert1", "A-1", "创新性", "40", ""],
    ["expert1", "A-2", "impact", "20.3", ""],
    ["media1", "A-2", "story", "101", ""],
]


def test_every_bad_row_is_reported_and_nothing_is_written(twins, tmp_path):
    path = write_csv(tmp_path / "bad.csv", HEADER, BAD)
    before = row_counts(twins)
    with pytest.raises(ValidationFailed) as refused:
        run_import(twins, "scores", path, submit=True)
    found = [(p.row, p.column, p.key) for p in refused.value.problems]
    assert found == [
        (3, "reviewer", "scores.unknown_reviewer"),
        (4, "code", "scores.unknown_code"),
        (5, "criterion", "scores.unknown_criterion"),
        (6, "criterion", "scores.duplicate"),
        (7, "score", "sheet.not_a_step"),
        (8, "score", "sheet.out_of_range"),
    ]
    assert refused.value.problems[3].params == {"first": 2}
    assert row_counts(twins) == before


def test_a_refusal_after_the_checks_still_writes_nothing(twins, tmp_path):
    """A revision of a submitted sheet must be complete; the whole file is refused."""
    complete = write_csv(
        tmp_path / "complete.csv",
        HEADER,
        [
            ["expert2", "A-2", "innovation", "20", ""],
            ["expert2", "A-2", "impact", "10", ""],
        ],
    )
    run_import(twins, "scores", complete, submit=True)

    def add_a_criterion(session):
        # A criterion added to the rubric since: the submitted sheet now lacks it.
        campaign = session.exec(select(Campaign).where(Campaign.slug == "test-2020")).one()
        component = panel_component(session, campaign.id, "expert")
        session.add(
            Criterion(
                component_id=component.id, key="reach", name="覆盖面", max_points=10, position=9
            )
        )

    twins.write(add_a_criterion)
    revision = write_csv(
        tmp_path / "revision.csv",
        HEADER,
        [
            ["expert1", "A-1", "innovation", "10", ""],
            ["expert2", "A-2", "innovation", "25", ""],
        ],
    )
    before = row_counts(twins)
    with pytest.raises(ValidationFailed) as refused:
        run_import(twins, "scores", revision, submit=True)
    assert refused.value.key == "sheet.incomplete"
    assert row_counts(twins) == before


def test_the_row_numbers_follow_the_file_on_a_large_import(twins, tmp_path):
    """Row numbers come from the file, also past the first thousand rows."""
    lines = [["expert1", "A-1", "innovation", "50", ""]] * 1500 + [["x", "A-1", "impact", "1", ""]]
    path = write_csv(tmp_path / "many.csv", HEADER, lines)
    with pytest.raises(ValidationFailed) as refused:
        run_import(twins, "scores", path)
    problems = refused.value.problems
    assert (problems[0].row, problems[0].key) == (3, "scores.duplicate")
    assert (problems[-1].row, problems[-1].key) == (1502, "scores.unknown_reviewer")
    assert len(problems) == 1500


def test_the_progress_callback_reaches_every_sheet_and_changes_nothing(twins, tmp_path):
    """The intake page's bar is drawn from these calls: they rise and end at the total.

    A small file may be written between two browser frames, so the browser test cannot
    always see the bar; this is where its counts are held to the sheets of the file.
    """
    calls: list[tuple[int, int]] = []
    path = write_csv(tmp_path / "first.csv", HEADER, FIRST)
    checked = plan(twins, "scores", path, slug=SLUGS[0], submit=True)
    twins.write(
        lambda session: apply_scores_import(
            session, CLI, checked, progress=lambda done, total: calls.append((done, total))
        )
    )
    sheets = {(row[0].lower(), row[1]) for row in FIRST}
    assert calls and calls[-1] == (len(sheets), len(sheets)), calls
    assert [done for done, _ in calls] == sorted({done for done, _ in calls}), calls
    reference_import(twins, SLUGS[1], FIRST, submit=True)
    assert stored(twins, SLUGS[0]) == stored(twins, SLUGS[1])


def test_a_reason_the_score_box_could_not_hold_is_refused_not_cut(twins, tmp_path):
    """A criterion's reason is one line of at most 500 characters on the page; a longer or
    multi-line one from a file would be cut at the reviewer's next save, so it is refused,
    naming the row and the column."""
    lines = [
        ["expert2", "A-2", "innovation", "20", "甲" * 501],
        ["expert2", "A-2", "impact", "10", "第一行\n第二行"],
        ["media1", "A-2", "story", "88", "乙" * 500],
    ]
    path = write_csv(tmp_path / "long.csv", HEADER, lines)
    before = row_counts(twins)
    with pytest.raises(ValidationFailed) as refused:
        run_import(twins, "scores", path)
    found = [(p.row, p.column, p.key) for p in refused.value.problems]
    assert found == [
        (2, "comment", "import.too_long"),
        (3, "comment", "imports.control_character"),
    ]
    assert row_counts(twins) == before
