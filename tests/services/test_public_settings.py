"""The organiser's public settings: hall switch, public fields and voting window, and the file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from scoring.beijing_time import BEIJING
from scoring.errors import PermissionDenied, ValidationFailed
from scoring.importers.report import Report
from scoring.services.campaigns import create_campaign, parse_campaign_toml, validate_campaign_data
from scoring.services.guard import voting_window_holds
from scoring.services.public_settings import (
    campaign_file_settings,
    changes_voting_state,
    configure_public,
)
from scoring.storage.models import AuditEvent, Campaign, utcnow
from tests.factories import (
    ORGANISER,
    actor_of,
    campaign_data,
    make_account,
    make_campaign,
    make_entry,
)
from tests.test_publication import freeze


def _campaign(session) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.slug == "test-2020")).one()


def _configure(database, actor=ORGANISER, **settings):
    values = {
        "gallery": True,
        "public_fields": ["code", "category"],
        "vote_opens": datetime(2026, 6, 1, 9, 0),
        "vote_closes": datetime(2026, 6, 8, 18, 0),
    }
    values.update(settings)
    return database.write(lambda s: configure_public(s, actor, _campaign(s), **values))


@pytest.fixture
def campaign(database):
    database.write(lambda s: make_entry(s, make_campaign(s), "T-1"))


def test_times_are_beijing_wall_clock_stored_as_utc_and_audited_old_to_new(database, campaign):
    change = _configure(database)
    with database.read() as session:
        stored = _campaign(session)
        assert stored.vote_opens_at == datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
        assert stored.vote_closes_at == datetime(2026, 6, 8, 10, 0, tzinfo=UTC)
        assert (stored.public_gallery, stored.public_fields) == (True, ["code", "category"])
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "public.configure")
        ).one()
    assert event.old_value["public_gallery"] is False
    assert event.old_value["vote_opens_at"] is None
    assert event.new_value["vote_opens_at"] == "2026-06-01T09:00:00+08:00"
    assert event.new_value["vote_closes_at"] == "2026-06-08T18:00:00+08:00"
    assert set(change.changed) == {
        "public_gallery",
        "public_fields",
        "vote_opens_at",
        "vote_closes_at",
    }


def test_saving_the_same_settings_again_audits_nothing(database, campaign):
    _configure(database)
    assert _configure(database).changed == {}
    with database.read() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "public.configure"))
        assert len(events.all()) == 1


@pytest.mark.parametrize(
    ("settings", "key", "named"),
    [
        ({"public_fields": ["code", "phone"]}, "public_settings.unknown_field", "phone"),
        (
            {"vote_closes": datetime(2026, 6, 1, 9, 0)},
            "public_settings.closes_not_after_opens",
            "2026-06-01 09:00",
        ),
        ({"vote_closes": None}, "public_settings.half_window", "both"),
        ({"vote_opens": None}, "public_settings.half_window", "both"),
    ],
)
def test_bad_settings_are_refused_with_what_is_wrong(database, campaign, settings, key, named):
    with pytest.raises(ValidationFailed) as refused:
        _configure(database, **settings)
    assert refused.value.key == key
    assert named in refused.value.message("en")
    with database.read() as session:
        assert _campaign(session).public_gallery is False  # nothing saved


def test_no_window_means_voting_stays_closed(database, campaign):
    change = _configure(database, vote_opens=None, vote_closes=None)
    assert change.voting_open is False
    with database.read() as session:
        assert _campaign(session).vote_opens_at is None


def test_only_organisers_configure_and_they_can_close_the_hall_of_a_finalised_campaign(
    database, campaign
):
    expert = actor_of(database.write(lambda s: make_account(s, "expert1", "expert")))
    with pytest.raises(PermissionDenied):
        _configure(database, actor=expert)
    database.write(lambda s: freeze(s, _campaign(s)))
    _configure(database, gallery=False)
    with database.read() as session:
        assert _campaign(session).public_gallery is False


def test_the_page_is_told_when_a_save_opens_or_closes_voting_now(database, campaign):
    now = utcnow()
    local_now = now.astimezone(BEIJING).replace(tzinfo=None)  # as the page's boxes
    with database.read() as session:
        closed = _campaign(session)
    opening = (local_now - timedelta(hours=1), local_now + timedelta(days=1))
    assert changes_voting_state(closed, *opening, now)
    assert not changes_voting_state(
        closed, local_now + timedelta(days=1), local_now + timedelta(days=2), now
    )
    _configure(database, vote_opens=opening[0], vote_closes=opening[1])
    with database.read() as session:
        opened = _campaign(session)
    assert voting_window_holds(opened, now)
    assert changes_voting_state(opened, None, None, now)
    assert not changes_voting_state(opened, *opening, now)


# --- the campaign file (SPEC §5.1) ------------------------------------------------------------


def test_a_campaign_file_sets_the_public_fields_and_the_voting_window(database):
    data = campaign_data(
        public_gallery=True,
        public_fields=["code", "summary"],
        vote_opens="2026-06-01 09:00",
        vote_closes="2026-06-08 18:00",
    )
    database.write(lambda s: create_campaign(s, ORGANISER, data))
    with database.read() as session:
        stored = _campaign(session)
    assert stored.public_fields == ["code", "summary"]
    assert stored.vote_opens_at == datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    assert stored.vote_closes_at == datetime(2026, 6, 8, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("keys", "column", "named"),
    [
        ({"public_fields": ["code", "phone"]}, "public_fields", "phone"),
        ({"vote_opens": "2026-06-01 09:00"}, "vote_opens", "both"),
        ({"vote_opens": "1 June 9am", "vote_closes": "2026-06-08 18:00"}, "vote_opens", "1 June"),
        (
            {"vote_opens": "2026-06-08 18:00", "vote_closes": "2026-06-01 09:00"},
            "vote_opens",
            "close after it opens",
        ),
    ],
)
def test_a_campaign_file_with_bad_public_keys_is_refused_naming_the_key(keys, column, named):
    report = validate_campaign_data(campaign_data(**keys))
    assert [p.column for p in report.problems] == [column]
    assert named in report.problems[0].message("en")


def test_a_campaign_file_without_public_keys_keeps_the_defaults(database):
    database.write(lambda s: make_campaign(s))
    with database.read() as session:
        stored = _campaign(session)
    assert stored.vote_opens_at is None and stored.vote_closes_at is None
    assert stored.public_fields == ["code", "applicant", "category", "domain", "summary"]


def test_the_readme_example_of_a_campaign_file_reads_as_beijing_time():
    data = parse_campaign_toml(
        'public_fields = ["code", "category"]\n'
        'vote_opens = "2026-06-01 09:00"\n'
        "vote_closes = 2026-06-08T18:00:00\n"  # a TOML local date-time is Beijing time too
    )
    report = Report()
    assert campaign_file_settings(data, report) == {
        "public_fields": ["code", "category"],
        "vote_opens_at": datetime(2026, 6, 1, 1, 0, tzinfo=UTC),
        "vote_closes_at": datetime(2026, 6, 8, 10, 0, tzinfo=UTC),
    }
    assert report.ok
