"""The audit log cannot be rewritten unseen, and all of it can be read.

On SQLite and PostgreSQL: the database refuses every rewrite (UPDATE, DELETE, REPLACE,
TRUNCATE); a rewrite made after dropping the triggers, as someone with database access
could, is reported by ``reviewdesk audit-check``; more than 5,000 events are all readable,
page by page and in the CSV.
"""

from __future__ import annotations

import csv
import io
import threading

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import func, select

from scoring.permissions import Actor
from scoring.services import audit
from scoring.storage.database import Database
from scoring.storage.migrate import alembic_config, upgrade
from scoring.storage.models import AuditEvent

CLI = Actor.command_line()


def _record(database: Database, count: int, action: str = "test.change") -> None:
    """``count`` events, each in a transaction of its own, as use cases write them."""
    for i in range(count):
        database.write(
            lambda s, i=i: audit.record(
                s, CLI, action, target=f"E-{i}", old={"points": i}, new={"points": i + 1}
            )
        )


def _sql(database: Database, statement: str) -> None:
    """Raw SQL in a transaction of its own, as someone at a database prompt would run it."""
    with database.engine.begin() as connection:
        connection.exec_driver_sql(statement)


def _drop_triggers(database: Database) -> None:
    """What someone with database access can do first: take the guards away."""
    if database.is_sqlite:
        for name in ("no_update", "no_delete", "no_replace"):
            _sql(database, f"DROP TRIGGER IF EXISTS audit_log_{name}")
    else:
        _sql(database, "DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        _sql(database, "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")


def _rows(database: Database) -> list[tuple]:
    with database.engine.connect() as connection:
        return connection.execute(
            text("SELECT id, actor, new_value, chain_seq, chain_hash FROM audit_log ORDER BY id")
        ).all()


@pytest.fixture
def audit_check(cli, database, monkeypatch):
    """``reviewdesk audit-check`` against the test's database (SQLite or PostgreSQL)."""
    monkeypatch.setattr("scoring.context.database", lambda settings=None: database)

    def run(*args: str) -> tuple[int, str, str]:
        return cli("audit-check", *args)

    return run


def test_events_are_chained_in_commit_order_and_check_passes(database, audit_check):
    _record(database, 3)
    rows = _rows(database)
    assert [row[3] for row in rows] == [1, 2, 3]
    code, out, err = audit_check()
    assert (code, err) == (0, "")
    assert "3 events checked" in out
    assert rows[-1][4] in out  # the head printed is the newest event's chain hash


def test_concurrent_writers_all_land_in_one_unbroken_chain(database, audit_check):
    threads = [threading.Thread(target=_record, args=(database, 10)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(row[3] for row in _rows(database)) == list(range(1, 61))
    code, out, _ = audit_check()
    assert code == 0
    assert "60 events checked" in out


REFUSED = {
    "update": "UPDATE audit_log SET actor = 'someone else'",
    "delete": "DELETE FROM audit_log WHERE id = 1",
    "reseal": "UPDATE audit_log SET chain_seq = 9, chain_hash = 'x' WHERE id = 1",
    "insert_sealed": (
        "INSERT INTO audit_log (at, actor, action, target, content_hash, chain_seq, chain_hash)"
        " VALUES ('2026-01-01 00:00:00+00:00', 'x', 'y', '', 'z', 4, 'h')"
    ),
    "insert_or_replace": (
        "INSERT OR REPLACE INTO audit_log (id, at, actor, action, target, content_hash)"
        " VALUES (1, '2026-01-01 00:00:00+00:00', 'someone else', 'y', '', 'z')"
    ),
    "upsert": (
        "INSERT INTO audit_log (id, at, actor, action, target, content_hash)"
        " VALUES (1, '2026-01-01 00:00:00+00:00', 'x', 'y', '', 'z')"
        " ON CONFLICT (id) DO UPDATE SET actor = 'someone else'"
    ),
    "truncate": "TRUNCATE audit_log",
}
ONLY = {"insert_or_replace": "sqlite", "truncate": "postgresql"}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_database_refuses_every_rewrite(database, audit_check, name):
    if ONLY.get(name, database.engine.dialect.name) != database.engine.dialect.name:
        pytest.skip(f"{name} is not SQL of {database.engine.dialect.name}")
    _record(database, 3)
    before = _rows(database)
    with pytest.raises(DBAPIError, match="audit log is append-only"):
        _sql(database, REFUSED[name])
    assert _rows(database) == before
    assert audit_check()[0] == 0


def test_sealing_onto_a_taken_position_is_refused(database, audit_check):
    # On SQLite, UPDATE OR REPLACE onto a taken chain position would delete the sealed row.
    _record(database, 2)
    _sql(
        database,
        REFUSED["insert_sealed"].replace(", chain_seq, chain_hash", "").replace(", 4, 'h'", ""),
    )
    verb = "UPDATE OR REPLACE" if database.is_sqlite else "UPDATE"
    before = _rows(database)
    with pytest.raises(DBAPIError, match="audit log is append-only"):
        _sql(database, f"{verb} audit_log SET chain_seq = 1, chain_hash = 'x' WHERE id = 3")
    assert _rows(database) == before


def test_a_rewritten_event_is_reported_by_id(database, audit_check):
    _record(database, 5)
    _drop_triggers(database)
    _sql(database, """UPDATE audit_log SET new_value = '{"points": 99}' WHERE id = 3""")
    code, _, err = audit_check()
    assert code == 1
    first, *details = err.splitlines()
    assert "failed at event 3" in first
    assert "rewritten" in first
    assert details  # the details follow the one-line reason


def test_replace_after_dropping_the_triggers_is_reported(database, audit_check):
    if not database.is_sqlite:
        pytest.skip("INSERT OR REPLACE is SQLite's")
    _record(database, 4)
    _drop_triggers(database)
    _sql(
        database,
        "INSERT OR REPLACE INTO audit_log (id, at, actor, action, target, old_value, "
        "new_value, content_hash, chain_seq, chain_hash) SELECT id, at, 'someone else', "
        "action, target, old_value, new_value, content_hash, chain_seq, chain_hash "
        "FROM audit_log WHERE id = 2",
    )
    code, _, err = audit_check()
    assert code == 1
    assert "failed at event 2" in err.splitlines()[0]


def test_an_event_removed_in_the_middle_is_reported(database, audit_check):
    _record(database, 5)
    _drop_triggers(database)
    _sql(database, "DELETE FROM audit_log WHERE id = 3")
    code, _, err = audit_check()
    assert code == 1
    first = err.splitlines()[0]
    assert "failed at event 4" in first
    assert "1 events before it are missing" in first


def test_an_event_removed_and_the_positions_closed_up_is_reported(database, audit_check):
    _record(database, 5)
    _drop_triggers(database)
    _sql(database, "DELETE FROM audit_log WHERE id = 2")
    for event_id in (3, 4, 5):
        _sql(database, f"UPDATE audit_log SET chain_seq = chain_seq - 1 WHERE id = {event_id}")
    code, _, err = audit_check()
    assert code == 1
    assert "failed at event 3" in err.splitlines()[0]
    assert "does not follow" in err.splitlines()[0]


def test_a_truncated_tail_is_caught_against_the_recorded_head(database, audit_check):
    _record(database, 6)
    recorded = _rows(database)[-1][4]
    assert audit_check("--head", recorded)[0] == 0
    _drop_triggers(database)
    _sql(database, "DELETE FROM audit_log WHERE id > 4")
    # The shorter chain is consistent in itself: only the recorded head shows the loss.
    assert audit_check()[0] == 0
    code, _, err = audit_check("--head", recorded)
    assert code == 1
    first = err.splitlines()[0]
    assert recorded in first
    assert "ends at event 4" in first


def test_a_fully_rechained_rewrite_is_caught_against_the_recorded_head(database, audit_check):
    _record(database, 4)
    recorded = _rows(database)[-1][4]
    _drop_triggers(database)
    _sql(database, """UPDATE audit_log SET new_value = '{"points": 99}' WHERE id = 2""")
    # The attacker recomputes every hash with our own code: the chain is consistent again...
    with database.read() as session:
        events = list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))
    previous = AuditEvent.genesis()
    for event in events:
        content = AuditEvent.content_digest(
            event.at,
            event.actor,
            event.campaign_id,
            event.action,
            event.target,
            event.old_value,
            event.new_value,
        )
        previous = AuditEvent.chain_digest(previous, event.chain_seq, event.id, content)
        _sql(
            database,
            f"UPDATE audit_log SET content_hash = '{content}', chain_hash = '{previous}' "
            f"WHERE id = {event.id}",
        )
    assert audit_check()[0] == 0
    # ...but not with the head published before the rewrite.
    code, _, err = audit_check("--head", recorded)
    assert code == 1
    assert "not in the chain" in err.splitlines()[0]


def test_a_malformed_head_is_refused_with_the_reason(audit_check):
    code, _, err = audit_check("--head", "not-a-hash")
    assert code == 1
    assert "64 hexadecimal characters" in err


def test_events_already_there_get_hashes_on_upgrade(database, audit_check):
    _record(database, 2)
    config = alembic_config()
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        connection.commit()
    with database.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO audit_log (at, actor, action, target, old_value, new_value) VALUES "
            "('2025-05-01 08:00:00.000000+00:00', 'alice', 'entry.status', 'E-9', "
            """'"submitted"', '"accepted"')"""
        )
    upgrade(database)
    rows = _rows(database)
    assert [row[3] for row in rows] == [1, 2, 3]  # chained in id order
    code, out, _ = audit_check()
    assert code == 0
    assert "3 events checked" in out
    with pytest.raises(DBAPIError, match="audit log is append-only"):
        _sql(database, "UPDATE audit_log SET actor = 'bob' WHERE id = 3")


MANY = 5_123


def _many(database: Database) -> None:
    def work(session):
        for i in range(MANY):
            action = "sheet.save" if i % 3 == 0 else "entry.status"
            audit.record(session, CLI, action, target=f"E-{i}", new={"i": i})

    database.write(work)


def test_more_than_5000_events_are_all_readable_page_by_page(database):
    _many(database)
    seen: list[int] = []
    with database.read() as session:
        first = audit.list_events(session, CLI, page_size=1000)
        assert (first.total, first.pages) == (MANY, 6)
        for number in range(1, first.pages + 1):
            page = audit.list_events(session, CLI, page=number, page_size=1000)
            assert (page.first, page.last) == (
                (number - 1) * 1000 + 1,
                min(number * 1000, MANY),
            )
            seen.extend(e.id for e in page.events)
        saves = audit.list_events(session, CLI, action="sheet.save", page_size=10)
    assert seen == sorted(seen, reverse=True)  # newest first
    assert len(set(seen)) == MANY
    assert saves.total == len(range(0, MANY, 3))
    assert first.head.seq == MANY


def test_the_csv_holds_every_matching_event(database):
    _many(database)
    with database.read() as session:
        everything = audit.events_csv(session, CLI, "en")
        saves = audit.events_csv(session, CLI, "en", action="sheet.save")
        total = session.exec(select(func.count()).select_from(AuditEvent)).one()
    rows = list(csv.DictReader(io.StringIO(everything.decode("utf-8-sig"))))
    assert len(rows) == total == MANY
    assert len({row["Event"] for row in rows}) == MANY
    assert all(len(row["Chain hash"]) == 64 for row in rows)
    save_rows = list(csv.DictReader(io.StringIO(saves.decode("utf-8-sig"))))
    assert len(save_rows) == len(range(0, MANY, 3))
    assert {row["Action"] for row in save_rows} == {"sheet.save"}


def test_a_page_past_the_end_shows_the_last_page(database):
    _record(database, 5)
    with database.read() as session:
        page = audit.list_events(session, CLI, page=99, page_size=2)
    assert (page.page, page.pages, page.first, page.last) == (3, 3, 5, 5)


def test_events_written_in_bulk_hash_as_one_by_one_and_join_the_chain(database, audit_check):
    """A bulk writer's events, between events written one by one, in one unbroken chain.

    Each holds the content hash that SQLAlchemy's column default gives the same event added
    through the ORM, and its values read back as written.
    """
    from scoring.services.audit_bulk import EventBatch
    from scoring.storage.models import utcnow

    at = utcnow()
    values = [(None, "expert01"), ({"points": {"c0": 1.5}}, {"status": "submitted"})]

    def one_by_one(session):
        for i, (old, new) in enumerate(values):
            event = audit.event(CLI, "test.bulk", target=f"QD{i}", old=old, new=new)
            event.at = at
            session.add(event)

    def bulk(session):
        batch = EventBatch(CLI, None, at)
        for i, (old, new) in enumerate(values):
            batch.add("test.bulk", f"QD{i}", old=old, new=new)
        batch.write(session.connection())

    database.write(one_by_one)
    database.write(bulk)
    _record(database, 1)

    with database.read() as session:
        query = select(AuditEvent).where(AuditEvent.action == "test.bulk").order_by(AuditEvent.id)
        rows = [
            (e.at, e.target, e.old_value, e.new_value, e.content_hash) for e in session.exec(query)
        ]
    orm_rows, bulk_rows = rows[:2], rows[2:]
    assert [row[:4] for row in bulk_rows] == [
        (at, f"QD{i}", old, new) for i, (old, new) in enumerate(values)
    ]
    assert bulk_rows == orm_rows  # the same content, so the same hash
    assert [row[3] for row in _rows(database)] == [1, 2, 3, 4, 5]
    code, out, err = audit_check()
    assert (code, err) == (0, "")
    assert "5 events checked" in out
