"""The database engine and its transactions.

Two traps are closed here, once, for every use case:

* SQLite's Python driver sends no ``BEGIN`` before a ``SELECT``, so a read-then-write
  transaction silently loses concurrent updates. We take over transaction control
  (driver autocommit plus our own ``BEGIN``) and start every write transaction with
  ``BEGIN IMMEDIATE``, which takes the write lock before the first read.
* On PostgreSQL, write transactions run at SERIALIZABLE; a transaction that lost a race is
  rolled back and run again by ``Database.write``, so no read-then-write loses an update.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

from scoring.storage.models import AuditEvent

T = TypeVar("T")

_WRITE = "reviewdesk_write"
MAX_ATTEMPTS = 30
SQLITE_BUSY_TIMEOUT_MS = 15_000


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # we send BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings each backend needs to be safe."""
    if _is_sqlite(url):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _retryable(error: DBAPIError) -> bool:
    """A lost serialization race or a lock wait that ran out: safe to run again."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in {"40001", "40P01"}:
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


class Database:
    """One database: read sessions, and write transactions that never lose an update."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = _is_sqlite(url)
        options: dict[str, object] = {_WRITE: True}
        if not self.is_sqlite:
            options["isolation_level"] = "SERIALIZABLE"
        self._write_engine = self.engine.execution_options(**options)
        self._seal_engine = self.engine.execution_options(isolation_level="READ COMMITTED")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; whatever it reads is one consistent snapshot."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in one write transaction, again from scratch if it lost a race.

        ``work`` must be safe to run more than once: it reads what it needs inside.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                session = Session(self._write_engine, expire_on_commit=False)
                with session, session.begin():
                    result = work(session)
                    if self.is_sqlite:  # we hold the write lock: seal in commit order now
                        session.flush()
                        AuditEvent.seal(session.connection())
                break
            except DBAPIError as error:
                if attempt == MAX_ATTEMPTS or not _retryable(error):
                    raise
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
        if not self.is_sqlite:
            self._seal_after_commit()
        return result

    def seal_audit(self, *, wait_for_disk: bool = True) -> int:
        """Chain the audit events committed but not yet sealed; how many were sealed.

        On PostgreSQL a short READ COMMITTED transaction of its own, outside the writers'
        SERIALIZABLE ones: chaining reads the head, and doing that inside every save would
        turn concurrent saves into serialization failures (docs/decisions.md). Sealers take
        turns, so the one after a save does not hold the turn while its commit is flushed
        (``wait_for_disk=False``): a seal lost in a crash leaves the events hashed and
        unsealed, and the next seal chains them again.
        """
        engine = self._write_engine if self.is_sqlite else self._seal_engine
        with engine.begin() as connection:
            if not wait_for_disk and not self.is_sqlite:
                connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            return AuditEvent.seal(connection)

    def _seal_after_commit(self) -> None:
        # The change is committed: a failure here must not report it as failed. The events
        # stay unsealed, hashed, and the next write or `reviewdesk audit-check` seals them.
        try:
            self.seal_audit(wait_for_disk=False)
        except DBAPIError:
            logging.getLogger(__name__).warning("audit events left unsealed", exc_info=True)

    def dispose(self) -> None:
        """Close pooled connections (tests, and before a process forks)."""
        self.engine.dispose()


@cache
def database_for(url: str) -> Database:
    """One ``Database`` per URL per process, migrated to the newest schema."""
    from scoring.storage.migrate import upgrade

    database = Database(url)
    upgrade(database)
    return database
