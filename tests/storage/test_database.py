"""The database keeps its promises: schema from migrations, integrity, and no lost updates."""

from __future__ import annotations

import threading

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import select

from scoring.permissions import Actor
from scoring.services.sheets import find_sheet, write_sheet
from scoring.storage.migrate import alembic_config, current_revision, upgrade
from scoring.storage.models import AuditEvent, Campaign, Score, VoteTally
from tests.factories import assigned, make_account, make_campaign, make_entry


def test_migrations_bring_an_empty_database_to_head_and_are_idempotent(database):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(database) == head
    upgrade(database)  # a second app server starting: nothing to do, nothing breaks
    assert current_revision(database) == head


def test_unique_campaign_and_code(database):
    def work(session):
        campaign = make_campaign(session)
        make_entry(session, campaign, "A-1")
        make_entry(session, campaign, "A-1")

    with pytest.raises(IntegrityError):
        database.write(work)
    with database.read() as session:
        assert session.exec(text("SELECT count(*) FROM entry")).one()[0] == 0


def test_foreign_keys_are_enforced(database):
    with pytest.raises(IntegrityError):
        database.write(lambda s: s.add(VoteTally.of_import(424242, 1)) or s.flush())


def test_range_checks_live_in_the_database(database):
    def negative_votes(session):
        campaign = make_campaign(session)
        entry = make_entry(session, campaign, "A-1")
        session.add(VoteTally.of_import(entry.id, -5))
        session.flush()

    with pytest.raises(IntegrityError):
        database.write(negative_votes)


def test_audit_log_is_append_only(database):
    database.write(lambda s: s.add(AuditEvent(actor="cli", action="test")))
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            database.write(lambda s, sql=statement: s.exec(text(sql)))
    with database.read() as session:
        assert [e.actor for e in session.exec(select(AuditEvent))] == ["cli"]


THREADS, ROUNDS = 8, 25


def _hammer(target) -> list[BaseException]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(ROUNDS):
                target()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_read_then_write_transactions_lose_no_update(database):
    """The trap of SQLite's driver (no BEGIN before SELECT) and of READ COMMITTED: closed."""
    entry_id = database.write(lambda s: make_entry(s, make_campaign(s), "A-1").id)
    database.write(lambda s: s.add(VoteTally.of_import(entry_id, 0)))

    def increment(session):
        tally = session.get(VoteTally, entry_id)
        tally.votes, tally.counted = tally.votes + 1, tally.counted + 1
        session.add(tally)

    assert _hammer(lambda: database.write(increment)) == []
    with database.read() as session:
        assert session.get(VoteTally, entry_id).votes == THREADS * ROUNDS


def test_concurrent_saves_of_one_sheet_all_land_in_order(database):
    """A real use case under contention: every save bumps the version exactly once."""

    def setup(session):
        campaign = make_campaign(session)
        entry = make_entry(session, campaign, "A-1")
        reviewer = make_account(session, "expert1", "expert")
        assigned(session, entry, reviewer)
        return entry.id, reviewer.id

    entry_id, reviewer_id = database.write(setup)
    counter = iter(range(10**6))
    lock = threading.Lock()

    def save(session):
        from scoring.storage.models import Account, Entry

        with lock:
            value = next(counter) % 61
        reviewer = session.get(Account, reviewer_id)
        write_sheet(
            session,
            Actor("expert1", "expert", reviewer_id),
            reviewer=reviewer,
            entry=session.get(Entry, entry_id),
            points={"innovation": float(value)},
        )

    assert _hammer(lambda: database.write(save)) == []
    with database.read() as session:
        sheet = find_sheet(session, reviewer_id, entry_id)
        assert sheet.version == THREADS * ROUNDS
        assert len(session.exec(select(Score).where(Score.sheet_id == sheet.id)).all()) == 1


def test_a_read_sees_one_state_even_when_a_save_commits_halfway(database):
    """Standings read sheets, then scores: a save landing between the two must not mix in."""

    def setup(session):
        campaign = make_campaign(session)
        make_entry(session, campaign, "A-1")
        return campaign.id

    campaign_id = database.write(setup)
    with database.read() as session:
        before = session.exec(text("SELECT count(*) FROM entry")).one()[0]
        database.write(lambda s: make_entry(s, s.get(Campaign, campaign_id), "A-2"))
        after = session.exec(text("SELECT count(*) FROM entry")).one()[0]
    assert before == after == 1
    with database.read() as session:
        assert session.exec(text("SELECT count(*) FROM entry")).one()[0] == 2
