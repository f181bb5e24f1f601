"""A reviewer's own scores (issue 14, point 5): only their own sheets, their spread, deadline."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from scoring.beijing_time import BEIJING
from scoring.errors import PermissionDenied
from scoring.services.my_scores import my_scores
from scoring.services.review import declare_conflict
from scoring.services.sheets import save_own_sheet
from scoring.storage.models import Campaign, ScoreSheet
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry


@pytest.fixture
def scene(database):
    def setup(session):
        campaign = make_campaign(session, blind_review=True)
        campaign.review_opens_on, campaign.review_closes_on = "2020-11-02", "2020-11-20"
        entries = {
            code: make_entry(session, campaign, code, title=f"作品{code}", applicant="秘密单位")
            for code in ("M-1", "M-2", "M-3", "M-4")
        }
        mine = make_account(session, "expert1", "expert")
        other = make_account(session, "expert2", "expert")
        for entry in entries.values():
            assigned(session, entry, mine)
            assigned(session, entry, other)
        media = make_account(session, "media1", "media")
        assigned(session, entries["M-1"], media)
        return {
            "slug": campaign.slug,
            "ids": {code: e.id for code, e in entries.items()},
            "mine": actor_of(mine),
            "other": actor_of(other),
            "media": actor_of(media),
            "organiser": actor_of(make_account(session, "boss", "organiser")),
        }

    return database.write(setup)


def _save(database, actor, entry_id, points, *, submit=True):
    database.write(
        lambda s: save_own_sheet(
            s,
            actor,
            entry_id=entry_id,
            points=points,
            comment="",
            submit=submit,
            expected_version=None,
        )
    )


def _campaign(session, scene) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.slug == scene["slug"])).one()


def _view(database, scene, actor, now=None):
    with database.read() as session:
        return my_scores(session, actor, _campaign(session, scene), now)


@pytest.fixture
def scored(database, scene):
    ids = scene["ids"]
    _save(database, scene["mine"], ids["M-1"], {"innovation": 48, "impact": 30.5})  # 78.5
    _save(database, scene["mine"], ids["M-2"], {"innovation": 30, "impact": 20})  # 50
    _save(database, scene["mine"], ids["M-3"], {"innovation": 60}, submit=False)  # a draft
    # Another reviewer of the same panel scores every entry, with other totals.
    for code in ("M-1", "M-2", "M-3", "M-4"):
        _save(database, scene["other"], ids[code], {"innovation": 10, "impact": 10})
    _save(database, scene["media"], ids["M-1"], {"story": 99})
    return scene


def test_a_reviewer_sees_their_own_sheets_with_totals_and_never_anyone_elses(database, scored):
    view = _view(database, scored, scored["mine"])
    assert [(s.code, s.status, s.total) for s in view.sheets] == [
        ("M-1", "submitted", 78.5),
        ("M-2", "submitted", 50.0),
        ("M-3", "draft", None),  # a criterion is still empty: no total
    ]
    assert (view.spread.count, view.spread.mean) == (2, pytest.approx(64.25))
    assert (view.spread.lowest, view.spread.highest) == (50.0, 78.5)
    assert view.drafts == 1
    assert view.panel == "expert"
    # The other expert's 20.0 everywhere and the media sheet's 99.0 appear nowhere.
    assert 20.0 not in [s.total for s in view.sheets] and 99.0 not in [s.total for s in view.sheets]
    theirs = _view(database, scored, scored["other"])
    assert [(s.code, s.total) for s in theirs.sheets] == [
        (code, 20.0) for code in ("M-1", "M-2", "M-3", "M-4")
    ]
    assert [(s.code, s.total) for s in _view(database, scored, scored["media"]).sheets] == [
        ("M-1", 99.0)
    ]


def test_times_are_beijing_time_and_a_draft_has_no_submission_time(database, scored):
    with database.read() as session:
        stored = session.exec(
            select(ScoreSheet).where(
                ScoreSheet.reviewer_id == scored["mine"].account_id,
                ScoreSheet.entry_id == scored["ids"]["M-1"],
            )
        ).one()
        submitted_utc = stored.submitted_at
    first, _, draft = _view(database, scored, scored["mine"]).sheets
    assert first.submitted_at.utcoffset() == BEIJING.utcoffset(datetime(2020, 1, 1))
    assert first.submitted_at.replace(tzinfo=None) == (
        submitted_utc.replace(tzinfo=UTC).astimezone(BEIJING).replace(tzinfo=None)
    )
    assert draft.submitted_at is None and draft.updated_at.tzinfo is not None


def test_the_organiser_and_other_roles_are_refused(database, scored):
    boss = scored["organiser"]
    for actor in (boss, ORGANISER):
        with pytest.raises(PermissionDenied):
            _view(database, scored, actor)


def test_blind_review_shows_code_and_title_and_nothing_of_the_applicant(database, scored):
    view = _view(database, scored, scored["mine"])
    assert view.campaign.blind_review
    shown = [str(value) for sheet in view.sheets for value in vars(sheet).values()]
    assert not any("秘密单位" in value for value in shown)
    assert view.sheets[0].title == "作品M-1"


def test_declared_conflicts_are_listed_and_their_sheet_leaves_the_table(database, scored):
    database.write(
        lambda s: declare_conflict(
            s, scored["mine"], _campaign(s, scored), "M-2", "本单位参与了该项目"
        )
    )
    view = _view(database, scored, scored["mine"])
    assert [(c.code, c.reason) for c in view.conflicts] == [("M-2", "本单位参与了该项目")]
    assert [s.code for s in view.sheets] == ["M-1", "M-3"]
    assert view.spread.count == 1


def test_the_deadline_is_the_end_of_the_last_review_day_in_beijing(database, scene):
    open_view = _view(
        database, scene, scene["mine"], datetime(2020, 11, 17, 19, 30, tzinfo=BEIJING)
    )
    assert open_view.deadline == datetime(2020, 11, 21, tzinfo=BEIJING)
    assert open_view.left == ("stages.left.days_hours", {"days": 3, "hours": 4})
    assert (open_view.review.shown_from, open_view.review.shown_to) == ("2020-11-02", "2020-11-20")
    assert open_view.sheets == () and open_view.spread.count == 0 and open_view.spread.mean is None
    closed = _view(database, scene, scene["mine"], datetime(2020, 11, 21, 0, 1, tzinfo=BEIJING))
    assert closed.left == ("stages.left.closed", {})


def test_a_finalised_campaign_still_shows_the_reviewer_their_sheets(database, scored):
    def finalise(session):
        _campaign(session, scored).finalised_at = datetime(2020, 12, 1, tzinfo=UTC)

    database.write(finalise)
    assert [s.code for s in _view(database, scored, scored["mine"]).sheets] == [
        "M-1",
        "M-2",
        "M-3",
    ]
