"""Stages and dates of a campaign: where it is now, and what is late (issue 14, point 8)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from scoring.beijing_time import BEIJING
from scoring.errors import PermissionDenied
from scoring.services.overview import overview_view
from scoring.services.sheets import save_own_sheet
from scoring.services.stages import (
    current_phase,
    review_deadline,
    stage_report,
    stage_timeline,
    time_left,
)
from scoring.storage.models import Campaign, Entry
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry

DATES = {
    "intake_opens_on": "2020-09-01",
    "intake_closes_on": "2020-09-30",
    "vote_opens_at": datetime(2020, 10, 1, 1, 0, tzinfo=UTC),  # 09:00 Beijing
    "vote_closes_at": datetime(2020, 10, 15, 10, 0, tzinfo=UTC),  # 18:00 Beijing
    "review_opens_on": "2020-11-02",
    "review_closes_on": "2020-11-20",
    "announce_on": "2020-12-10",
}


def _beijing(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BEIJING)


def _campaign(**changes) -> Campaign:
    return Campaign(slug="x", name="x", year=2020, **(DATES | changes))


@pytest.mark.parametrize(
    ("now", "phase"),
    [
        (_beijing(2020, 8, 31, 23, 59), "not_started"),
        (_beijing(2020, 9, 1, 0, 0), "intake"),
        (_beijing(2020, 9, 30, 23, 59), "intake"),  # the last day counts whole
        (_beijing(2020, 10, 1, 8, 59), "between"),
        (_beijing(2020, 10, 1, 9, 0), "vote"),
        (_beijing(2020, 10, 15, 18, 0), "between"),  # the vote's close is exclusive
        (_beijing(2020, 11, 20, 23, 59), "review"),
        (_beijing(2020, 11, 21, 0, 0), "between"),
        (_beijing(2020, 12, 10, 0, 0), "announcement"),
        (_beijing(2021, 3, 1), "announcement"),  # not finalised: the announcement is still due
    ],
)
def test_the_phase_follows_the_dates_in_beijing_time(now, phase):
    campaign = _campaign()
    assert current_phase(campaign, stage_timeline(campaign, now)) == phase


def test_overlapping_stages_report_the_later_one_and_a_finalised_campaign_is_done():
    campaign = _campaign(review_opens_on="2020-10-10")  # review opens while the vote runs
    now = _beijing(2020, 10, 12, 12)
    stages = stage_timeline(campaign, now)
    assert {s.key: s.state for s in stages} == {
        "intake": "done",
        "vote": "now",
        "review": "now",
        "announcement": "upcoming",
    }
    assert current_phase(campaign, stages) == "review"
    campaign.finalised_at = datetime(2020, 10, 12, tzinfo=UTC)
    assert current_phase(campaign, stage_timeline(campaign, now)) == "finalised"


def test_missing_or_broken_dates_show_not_set_and_never_crash():
    campaign = Campaign(
        slug="x", name="x", year=2020, review_opens_on="2020-11-02", review_closes_on="11/20"
    )
    stages = {s.key: s for s in stage_timeline(campaign, _beijing(2020, 11, 5))}
    assert {k: s.state for k, s in stages.items()} == dict.fromkeys(
        ("intake", "vote", "review", "announcement"), "not_set"
    )
    assert (stages["review"].shown_from, stages["review"].shown_to) == ("2020-11-02", None)
    assert current_phase(campaign, tuple(stages.values())) == "not_set"
    assert review_deadline(campaign) is None
    assert time_left(None, _beijing(2020, 11, 5)) == ("stages.left.not_set", {})
    # A window closing before it opens is not a window either.
    backwards = _campaign(intake_opens_on="2020-09-30", intake_closes_on="2020-09-01")
    assert stage_timeline(backwards, _beijing(2020, 9, 15))[0].state == "not_set"


def test_the_vote_is_shown_in_beijing_time():
    vote = stage_timeline(_campaign(), _beijing(2020, 10, 2))[1]
    assert (vote.shown_from, vote.shown_to) == ("2020-10-01 09:00", "2020-10-15 18:00")


def test_time_left_counts_to_the_end_of_the_last_day_in_beijing():
    deadline = review_deadline(_campaign())
    assert deadline == _beijing(2020, 11, 21, 0, 0)
    assert time_left(deadline, _beijing(2020, 11, 17, 19, 30)) == (
        "stages.left.days_hours",
        {"days": 3, "hours": 4},
    )
    assert time_left(deadline, _beijing(2020, 11, 20, 21, 15)) == (
        "stages.left.hours_minutes",
        {"hours": 2, "minutes": 45},
    )
    assert time_left(deadline, _beijing(2020, 11, 20, 23, 59, 30)) == (
        "stages.left.minutes",
        {"minutes": 1},
    )
    assert time_left(deadline, deadline) == ("stages.left.closed", {})
    # 16:00 UTC on the 20th is midnight in Beijing: closed, whatever the server's zone.
    assert time_left(deadline, datetime(2020, 11, 20, 16, 0, tzinfo=UTC))[0] == (
        "stages.left.closed"
    )


# The database side: late items from the same counts the overview shows.


@pytest.fixture
def scene(database):
    def setup(session):
        campaign = make_campaign(session)
        for name, value in DATES.items():  # set as stored, whatever the campaign file accepts
            setattr(campaign, name, value)
        entries = [make_entry(session, campaign, f"S-{i}") for i in (1, 2)]
        make_entry(session, campaign, "S-9", status="submitted")  # still awaits the pre-check
        expert = make_account(session, "expert1", "expert")
        for entry in entries:
            assigned(session, entry, expert)
        return {
            "slug": campaign.slug,
            "expert": actor_of(expert),
            "entry": entries[0].id,
            "organiser": actor_of(make_account(session, "boss", "organiser")),
        }

    return database.write(setup)


def _read_campaign(session, slug) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.slug == slug)).one()


def _late(database, scene, now):
    with database.read() as session:
        report = stage_report(
            session, scene["organiser"], _read_campaign(session, scene["slug"]), now
        )
    return report, {(item.key, item.panel): item.params for item in report.late}


def test_after_the_review_closes_the_missing_sheets_per_panel_are_late(database, scene):
    database.write(
        lambda s: save_own_sheet(
            s,
            scene["expert"],
            entry_id=scene["entry"],
            points={"innovation": 50, "impact": 30},
            comment="",
            submit=True,
            expected_version=None,
        )
    )
    during, late_during = _late(database, scene, _beijing(2020, 11, 20, 12))
    assert during.phase == "review"
    assert ("stages.late.review_missing", "expert") not in late_during
    after, late = _late(database, scene, _beijing(2020, 11, 21, 9))
    assert after.phase == "between"
    # 2 shortlisted × 2 expert reviews = 4 needed, 1 submitted; media needs 2, has none.
    assert late[("stages.late.review_missing", "expert")] == {
        "closed": "2020-11-20",
        "missing": 3,
        "submitted": 1,
        "needed": 4,
    }
    assert late[("stages.late.review_missing", "media")]["missing"] == 2
    assert late[("stages.late.no_reviewers", "media")] == {"opened": "2020-11-02"}
    assert late[("stages.late.precheck_pending", None)] == {"closed": "2020-09-30", "count": 1}
    assert ("stages.late.not_finalised", None) not in late


def test_the_announcement_day_without_a_final_result_is_late_and_finalising_ends_it(
    database, scene
):
    report, late = _late(database, scene, _beijing(2020, 12, 10, 8))
    assert report.phase == "announcement"
    assert late[("stages.late.not_finalised", None)] == {"day": "2020-12-10"}

    def finalise(session):
        _read_campaign(session, scene["slug"]).finalised_at = datetime(2020, 12, 9, tzinfo=UTC)

    database.write(finalise)
    report, late = _late(database, scene, _beijing(2020, 12, 10, 8))
    assert (report.phase, late) == ("finalised", {})


def test_a_vote_still_open_on_announcement_day_is_late(database, scene):
    def long_vote(session):
        _read_campaign(session, scene["slug"]).vote_closes_at = datetime(2020, 12, 31, tzinfo=UTC)

    database.write(long_vote)
    _, late = _late(database, scene, _beijing(2020, 12, 10, 8))
    assert late[("stages.late.vote_still_open", None)] == {
        "day": "2020-12-10",
        "closes": "2020-12-31 08:00",
    }


def test_no_shortlist_once_the_review_opened_is_late(database, scene):
    def unshortlist(session):
        for entry in session.exec(select(Entry).where(Entry.status == "shortlisted")).all():
            entry.status = "accepted"

    database.write(unshortlist)
    _, late = _late(database, scene, _beijing(2020, 11, 3))
    assert late[("stages.late.no_shortlist", None)] == {"opened": "2020-11-02"}


def test_the_overview_carries_the_same_report_and_reviewers_are_refused(database, scene):
    now = _beijing(2020, 11, 21, 9)
    with database.read() as session:
        campaign = _read_campaign(session, scene["slug"])
        view = overview_view(session, ORGANISER, campaign, now)
        report = stage_report(session, ORGANISER, campaign, now)
        with pytest.raises(PermissionDenied):
            stage_report(session, scene["expert"], campaign, now)
    assert view.stages == report
    assert report.now == now
    assert [s.key for s in view.stages.stages] == ["intake", "vote", "review", "announcement"]
