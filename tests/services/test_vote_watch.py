"""Watching the public vote: burst warnings with their evidence, and voiding a burst."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from scoring.errors import PermissionDenied, StateRefused, ValidationFailed
from scoring.services.standings import load_frames
from scoring.services.vote_watch import (
    BURST_VOTES,
    cumulative,
    void_burst,
    watch_votes,
)
from scoring.storage.models import AuditEvent, Campaign, Entry, PublicVote, VoteTally, VoteVoid
from tests.factories import (
    ORGANISER,
    actor_of,
    cast_votes,
    make_account,
    make_campaign,
    make_entry,
)
from tests.test_publication import freeze

STUFFER = "ab12cd34" + "0" * 56
T0 = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def _network(i: int) -> str:
    return f"{i:08x}" + "f" * 56


@pytest.fixture
def scene(database):
    """Two entries; T-1 got 200 votes from one network within a minute plus 50 honest ones."""

    def setup(session):
        campaign = make_campaign(session)
        stuffed = make_entry(session, campaign, "T-1", title="智慧社区")
        quiet = make_entry(session, campaign, "T-2", title="另一作品")
        cast_votes(
            session,
            stuffed,
            200,
            network_key=STUFFER,
            start=T0 + timedelta(minutes=30),
            spacing=timedelta(milliseconds=300),
        )
        for i in range(50):  # one vote per network, every ten minutes across the day
            cast_votes(
                session, stuffed, 1, network_key=_network(i), start=T0 + timedelta(minutes=10 * i)
            )
            cast_votes(
                session, quiet, 1, network_key=_network(i), start=T0 + timedelta(minutes=10 * i + 3)
            )
        return campaign.slug

    return database.write(setup)


def _campaign(session, slug="test-2020") -> Campaign:
    return session.exec(select(Campaign).where(Campaign.slug == slug)).one()


def _watch(database):
    with database.read() as session:
        return watch_votes(session, ORGANISER, _campaign(session))


def _votes_in_standings(database) -> dict[str, int]:
    with database.read() as session:
        entries = load_frames(session, _campaign(session))[0]
    return dict(zip(entries["code"], entries["votes"], strict=True))


def _void(database, warning, reason="同一网段一分钟内 200 票"):
    return database.write(
        lambda s: void_burst(
            s,
            ORGANISER,
            _campaign(s),
            warning.entry_code,
            warning.network_key,
            warning.window_start,
            warning.window_end,
            reason,
        )
    )


def test_two_hundred_votes_from_one_network_in_a_minute_raise_one_warning_with_evidence(
    database, scene
):
    watch = _watch(database)
    assert [(w.rule, w.entry_code) for w in watch.warnings] == [("network", "T-1")]
    warning = watch.warnings[0]
    assert warning.entry_title == "智慧社区"
    assert warning.network == "ab12cd34"  # a prefix of the keyed hash, never an address
    assert warning.votes == 200 and warning.still_counted == 200
    assert warning.share == pytest.approx(200 / 250)
    assert warning.window_start == T0 + timedelta(minutes=30)
    # the last vote was cast at +59.7 s; the window ends on the next whole second
    assert warning.window_end == T0 + timedelta(minutes=31)
    assert (watch.total, watch.counted) == (300, 300)


def test_votes_spread_over_many_networks_raise_no_warning(database):
    def setup(session):
        campaign = make_campaign(session)
        entry = make_entry(session, campaign, "T-1")
        for i in range(300):  # 300 networks, one vote each, all within the same hour
            cast_votes(
                session, entry, 1, network_key=_network(i), start=T0 + timedelta(seconds=10 * i)
            )

    database.write(setup)
    assert _watch(database).warnings == []


def test_nineteen_votes_of_one_network_in_ten_minutes_are_no_burst(database):
    def setup(session):
        entry = make_entry(session, make_campaign(session), "T-1")
        cast_votes(
            session,
            entry,
            BURST_VOTES - 1,
            network_key=STUFFER,
            start=T0,
            spacing=timedelta(seconds=30),
        )
        # ...and 20 spread so that no 10 minutes hold 20 of them
        cast_votes(
            session,
            entry,
            BURST_VOTES,
            network_key=STUFFER,
            start=T0 + timedelta(hours=2),
            spacing=timedelta(seconds=32),
        )

    database.write(setup)
    assert _watch(database).warnings == []


def test_an_hour_far_above_the_entrys_own_baseline_is_flagged(database):
    def setup(session):
        entry = make_entry(session, make_campaign(session), "T-1", title="基线")
        for hour in range(6):  # a steady 6 votes an hour from six networks...
            for i in range(6):
                cast_votes(
                    session,
                    entry,
                    1,
                    network_key=_network(100 * hour + i),
                    start=T0 + timedelta(hours=hour, minutes=9 * i),
                )
        for i in range(40):  # ...then 40 in one hour from 40 networks (no network bursts)
            cast_votes(
                session,
                entry,
                1,
                network_key=_network(1000 + i % 8),
                start=T0 + timedelta(hours=7, seconds=85 * i),
            )

    database.write(setup)
    warnings = _watch(database).warnings
    assert [(w.rule, w.votes, w.baseline) for w in warnings] == [("baseline", 40, 6.0)]
    warning = warnings[0]
    assert (warning.window_start, warning.window_end) == (
        T0 + timedelta(hours=7),
        T0 + timedelta(hours=8),
    )
    assert warning.share == pytest.approx(40 / 76)
    assert warning.network_votes == 5  # the busiest of the eight networks that hour


def test_voiding_the_burst_takes_exactly_its_votes_out_of_the_tally_and_standings(database, scene):
    warning = _watch(database).warnings[0]
    before = _votes_in_standings(database)
    void = _void(database, warning)
    assert void.votes == 200
    assert _votes_in_standings(database) == {"T-1": before["T-1"] - 200, "T-2": before["T-2"]}
    with database.read() as session:
        entry = session.exec(select(Entry).where(Entry.code == "T-1")).one()
        tally = session.get(VoteTally, entry.id)
        assert (tally.votes, tally.counted, tally.imported) == (50, 50, None)
        voided = session.exec(select(PublicVote).where(PublicVote.counted.is_(False))).all()
        assert {v.network_key for v in voided} == {STUFFER} and len(voided) == 200
        assert {v.void_id for v in voided} == {void.id}
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "votes.void")).one()
        assert event.target == "T-1"
        assert event.new_value["reason"] == "同一网段一分钟内 200 票"
        assert event.new_value["votes"] == 200
        assert event.new_value["window_start"] == "2026-06-01T09:30:00+08:00"
    after = _watch(database)
    assert after.warnings[0].still_counted == 0  # still listed, with what was done
    assert [(v.entry_code, v.votes, v.network) for v in after.voids] == [("T-1", 200, "ab12cd34")]
    assert int(after.hourly["voided"].sum()) == 200


def test_voiding_the_same_burst_twice_voids_nothing_the_second_time(database, scene):
    warning = _watch(database).warnings[0]
    _void(database, warning)
    with pytest.raises(ValidationFailed) as refused:
        _void(database, warning)
    assert refused.value.key == "vote_watch.nothing_to_void"
    assert "ab12cd34" in refused.value.message("en")
    with database.read() as session:
        assert len(session.exec(select(VoteVoid)).all()) == 1
        assert (
            len(session.exec(select(AuditEvent).where(AuditEvent.action == "votes.void")).all())
            == 1
        )
    assert _votes_in_standings(database)["T-1"] == 50


def test_a_void_needs_a_reason(database, scene):
    warning = _watch(database).warnings[0]
    with pytest.raises(ValidationFailed) as refused:
        _void(database, warning, reason="   ")
    assert refused.value.key == "vote_watch.reason_required"
    assert _votes_in_standings(database)["T-1"] == 250


def test_only_organisers_watch_and_void_and_not_in_a_finalised_campaign(database, scene):
    expert = actor_of(database.write(lambda s: make_account(s, "expert1", "expert")))
    warning = _watch(database).warnings[0]
    with database.read() as session, pytest.raises(PermissionDenied):
        watch_votes(session, expert, _campaign(session))
    with pytest.raises(PermissionDenied):
        database.write(
            lambda s: void_burst(
                s,
                expert,
                _campaign(s),
                "T-1",
                STUFFER,
                warning.window_start,
                warning.window_end,
                "x",
            )
        )
    database.write(lambda s: freeze(s, _campaign(s)))
    with pytest.raises(StateRefused):
        _void(database, warning)
    assert _votes_in_standings(database)["T-1"] == 250
    assert _watch(database).warnings[0].still_counted == 200  # watching still works


def test_the_chart_data_counts_per_beijing_hour_and_runs_up(database, scene):
    hourly = _watch(database).hourly
    first = hourly[hourly["code"] == "T-1"].iloc[0]
    assert str(first["hour"]) == "2026-06-01 09:00:00+08:00"
    assert int(first["counted"]) == 6 + 200  # six honest votes and the burst in 09:00-10:00
    running = cumulative(hourly)
    assert int(running[running["code"] == "T-1"]["counted"].iloc[-1]) == 250


def test_an_empty_campaign_has_nothing_to_watch(database):
    database.write(lambda s: make_campaign(s))
    watch = _watch(database)
    assert watch.hourly.empty and watch.warnings == [] and watch.voids == []
    assert (watch.total, watch.counted) == (0, 0)
