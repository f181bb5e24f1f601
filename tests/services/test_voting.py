"""The public vote (SPEC §8): one vote per IP per campaign per Beijing day, decided by the database.

Every test runs on SQLite and on PostgreSQL. The concurrent ones start 200 threads, each with
its own ``Database.write``, the way 200 browser sessions of one app server would vote.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from scoring.client_ip import client_ip, client_key, network_key
from scoring.errors import ReviewDeskError, StateRefused
from scoring.permissions import Actor
from scoring.services.voting import AlreadyVotedToday, cast_vote, public_vote_status
from scoring.settings import get_settings
from scoring.storage.database import Database
from scoring.storage.models import Campaign, Entry, PublicVote, VoteTally, utcnow
from tests.factories import make_campaign, make_entry

PUBLIC = Actor.public_visitor()
SLUG = "test-2020"


@pytest.fixture(autouse=True)
def vote_settings(monkeypatch):
    """A known vote key, no trusted proxy unless a test names one."""
    monkeypatch.setenv("REVIEWDESK_VOTE_KEY", "test-vote-key")
    monkeypatch.delenv("REVIEWDESK_TRUSTED_PROXIES", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def open_hall(session: Session, campaign: Campaign) -> None:
    """Gallery on, voting open from a day ago to ten days from now."""
    now = utcnow()
    campaign.public_gallery = True
    campaign.vote_opens_at = now - timedelta(days=1)
    campaign.vote_closes_at = now + timedelta(days=10)
    session.add(campaign)
    session.flush()


@pytest.fixture
def hall(database: Database) -> Database:
    def build(session: Session) -> None:
        campaign = make_campaign(session)
        open_hall(session, campaign)
        make_entry(session, campaign, "C-1", status="shortlisted")
        make_entry(session, campaign, "C-2", status="accepted")
        make_entry(session, campaign, "C-3", status="rejected")
        make_entry(session, campaign, "C-4", status="submitted")

    database.write(build)
    return database


def vote(database: Database, code: str, ip: str, now: datetime | None = None):
    return database.write(lambda s: cast_vote(s, PUBLIC, SLUG, code, ip, now))


def tally(database: Database, code: str) -> tuple[int, int]:
    """(votes, counted) of the entry's tally; (0, 0) without a row."""
    with database.read() as session:
        row = session.exec(
            select(VoteTally.votes, VoteTally.counted)
            .join(Entry, Entry.id == VoteTally.entry_id)
            .where(Entry.code == code)
        ).first()
    return (row[0], row[1]) if row else (0, 0)


def votes_in_table(database: Database) -> int:
    with database.read() as session:
        return len(session.exec(select(PublicVote.id)).all())


def test_one_vote_is_counted_in_the_tally_and_recorded(hall):
    receipt = vote(hall, "C-1", "203.0.113.7")
    assert (receipt.entry_code, receipt.entry_title) == ("C-1", "作品 C-1")
    assert tally(hall, "C-1") == (1, 1)
    with hall.read() as session:
        row = session.exec(select(PublicVote)).one()
    assert row.client_key == client_key("203.0.113.7")
    assert row.network_key == network_key("203.0.113.9")  # the same /24
    assert row.counted and row.void_id is None


def test_a_second_vote_the_same_day_is_refused_with_the_rule(hall):
    vote(hall, "C-1", "203.0.113.7")
    with pytest.raises(AlreadyVotedToday) as refused:
        vote(hall, "C-2", "203.0.113.7")  # another entry: still one vote per IP per day
    assert refused.value.key == "vote.already_today"
    assert "每个IP每天限投1票" in refused.value.message("zh")
    assert "请明天再来" in refused.value.message("zh")
    assert "One vote per IP address per day" in refused.value.message("en")
    assert tally(hall, "C-1") == (1, 1)
    assert tally(hall, "C-2") == (0, 0)
    assert votes_in_table(hall) == 1


def test_the_next_beijing_day_the_same_ip_may_vote_again(hall):
    # 23:30 and 00:30 Beijing time are one hour apart but two days.
    late = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)

    def around_late(session: Session) -> None:  # open at `late` and at the real clock's now
        campaign = session.exec(select(Campaign)).one()
        campaign.vote_opens_at = min(late, utcnow()) - timedelta(days=1)
        campaign.vote_closes_at = max(late, utcnow()) + timedelta(days=10)
        session.add(campaign)

    hall.write(around_late)
    vote(hall, "C-1", "203.0.113.7", now=late)
    with pytest.raises(AlreadyVotedToday):
        vote(hall, "C-1", "203.0.113.7", now=late + timedelta(minutes=20))
    receipt = vote(hall, "C-1", "203.0.113.7", now=late + timedelta(hours=1))
    assert receipt.day == "2026-12-03"
    assert tally(hall, "C-1") == (2, 2)


def test_the_status_tells_the_page_before_a_click(hall):
    with hall.read() as session:
        before = public_vote_status(session, PUBLIC, SLUG, "198.51.100.4")
    vote(hall, "C-2", "198.51.100.4")
    with hall.read() as session:
        after = public_vote_status(session, PUBLIC, SLUG, "198.51.100.4")
        other = public_vote_status(session, PUBLIC, SLUG, "198.51.100.5")
    assert (before.voting_open, before.voted_code) == (True, None)
    assert (after.voted_code, after.voted_title) == ("C-2", "作品 C-2")
    assert other.voted_code is None


@pytest.mark.parametrize("code", ["C-3", "C-4", "NOPE"])
def test_only_an_entry_the_hall_shows_takes_votes(hall, code):
    with pytest.raises(ReviewDeskError) as refused:
        vote(hall, code, "203.0.113.7")
    assert refused.value.key == "hall.no_such_entry"
    assert votes_in_table(hall) == 0


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"vote_closes_at": utcnow() - timedelta(minutes=1)}, "public_state.voting_closed"),
        ({"vote_opens_at": utcnow() + timedelta(hours=1)}, "public_state.voting_closed"),
        ({"vote_opens_at": None, "vote_closes_at": None}, "public_state.voting_closed"),
        ({"public_gallery": False}, "public_state.gallery_closed"),
        ({"finalised_at": utcnow()}, "campaign_state.finalised"),
    ],
    ids=["closed", "not_yet", "no_window", "gallery_off", "finalised"],
)
def test_a_closed_window_a_closed_hall_or_a_final_result_refuses_the_vote(hall, change, key):
    def apply(session: Session) -> None:
        campaign = session.exec(select(Campaign)).one()
        for name, value in change.items():
            setattr(campaign, name, value)
        session.add(campaign)

    hall.write(apply)
    with pytest.raises(StateRefused) as refused:
        vote(hall, "C-1", "203.0.113.7")
    assert refused.value.key == key
    assert tally(hall, "C-1") == (0, 0)
    assert votes_in_table(hall) == 0


def _at_once(count: int, work) -> list[BaseException | None]:
    """Run ``work(i)`` in ``count`` threads released together; each one's error or None."""
    start = threading.Barrier(count)
    outcomes: list[BaseException | None] = [None] * count

    def run(i: int) -> None:
        start.wait()
        try:
            work(i)
        except BaseException as error:  # reported to the test
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_200_concurrent_clicks_from_one_ip_count_exactly_one(hall):
    outcomes = _at_once(200, lambda i: vote(hall, "C-1", "203.0.113.7"))
    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, AlreadyVotedToday) for o in outcomes if o is not None)
    assert tally(hall, "C-1") == (1, 1)
    assert votes_in_table(hall) == 1


def test_200_voters_at_once_count_200_and_the_tally_equals_the_votes(hall):
    def one_voter(i: int) -> None:
        vote(hall, "C-1" if i % 2 else "C-2", f"10.{i // 250}.{i % 250}.1")

    outcomes = _at_once(200, one_voter)
    assert [o for o in outcomes if o is not None] == []
    assert tally(hall, "C-1") == (100, 100)
    assert tally(hall, "C-2") == (100, 100)
    with hall.read() as session:
        for code in ("C-1", "C-2"):
            entry = session.exec(select(Entry).where(Entry.code == code)).one()
            rows = session.exec(select(PublicVote).where(PublicVote.entry_id == entry.id)).all()
            assert len(rows) == tally(hall, code)[0]


def test_a_forwarded_for_header_counts_only_behind_a_trusted_proxy(hall, monkeypatch):
    headers = {"X-Forwarded-For": "198.51.100.20"}
    # Without trusted proxies the header is the client's own claim: the peer counts.
    assert client_ip("192.0.2.1", headers) == "192.0.2.1"
    vote(hall, "C-1", client_ip("192.0.2.1", headers))
    with pytest.raises(AlreadyVotedToday):  # a new header does not make a new voter
        vote(hall, "C-1", client_ip("192.0.2.1", {"X-Forwarded-For": "198.51.100.21"}))

    monkeypatch.setenv("REVIEWDESK_TRUSTED_PROXIES", "192.0.2.0/24")
    get_settings.cache_clear()
    # Behind our proxy, two clients are two voters.
    vote(hall, "C-1", client_ip("192.0.2.1", {"X-Forwarded-For": "198.51.100.20"}))
    vote(hall, "C-1", client_ip("192.0.2.1", {"X-Forwarded-For": "198.51.100.21"}))
    assert tally(hall, "C-1") == (3, 3)


def test_the_ip_address_is_never_stored(hall):
    addresses = ["203.0.113.77", "2001:db8:1234::5", "198.51.100.200"]
    for address in addresses:
        vote(hall, "C-1", address)
    with hall.read() as session:
        connection = session.connection()
        tables = inspect(connection).get_table_names()
        stored = " ".join(
            " ".join(str(value) for value in row)
            for table in tables
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).all()
        )
    assert votes_in_table(hall) == 3
    for address in addresses:
        assert address not in stored
        assert address.rsplit(".", 1)[0] not in stored  # nor its network in clear
