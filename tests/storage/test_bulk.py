"""Rows written through the driver read back as the ORM's, and a refusal raises as SQLAlchemy's.

On SQLite and PostgreSQL: ``storage.bulk`` bypasses SQLAlchemy's parameter handling, so what
it must keep is what SQLAlchemy gave: each type's conversion (an aware time, a boolean), the
caller's transaction (nothing stays after a refusal) and errors that ``Database.write``
recognises (a ``DBAPIError``, which it retries when the database asks to).
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from scoring.storage.bulk import insert_rows, update_by_id
from scoring.storage.models import Account, AuditEvent, utcnow

ACCOUNT_COLUMNS = (
    "username",
    "display_name",
    "email",
    "role",
    "password_hash",
    "active",
    "failed_logins",
    "must_change_password",
    "created_at",
    "locked_until",
)


def _accounts(database):
    with database.read() as session:
        return {
            a.username: (a.display_name, a.active, a.failed_logins, a.created_at, a.locked_until)
            for a in session.exec(select(Account))
        }


def test_inserted_and_updated_rows_read_back_as_written(database):
    now = utcnow()
    rows = [
        (f"u{i}", f"名字 {i}", "", "expert", "x", i % 2 == 0, i, False, now, None) for i in range(3)
    ]

    def insert(session):
        insert_rows(session.connection(), Account.__table__, ACCOUNT_COLUMNS, rows)

    database.write(insert)
    assert _accounts(database) == {
        f"u{i}": (f"名字 {i}", i % 2 == 0, i, now, None) for i in range(3)
    }

    with database.read() as session:
        ids = {a.username: a.id for a in session.exec(select(Account))}

    def update(session):
        changes = [(ids["u0"], "改名", now), (ids["u2"], "又改", None)]
        update_by_id(
            session.connection(), Account.__table__, ("display_name", "locked_until"), changes
        )

    database.write(update)
    found = _accounts(database)
    assert found["u0"] == ("改名", True, 0, now, now)
    assert found["u1"] == ("名字 1", False, 1, now, None)
    assert found["u2"] == ("又改", True, 2, now, None)


def test_a_refused_row_raises_a_dbapi_error_and_nothing_stays(database):
    """The audit log's guard refuses a row with chain columns set: every row is undone."""
    now = utcnow()
    columns = ("at", "actor", "action", "target", "content_hash", "chain_seq")
    rows = [(now, "cli", "test.bulk", "", "0" * 64, None), (now, "cli", "test.bulk", "", "0", 7)]

    def work(session):
        insert_rows(session.connection(), AuditEvent.__table__, columns, rows)

    with pytest.raises(DBAPIError, match="append-only"):
        database.write(work)
    with database.read() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "test.bulk")).all() == []
