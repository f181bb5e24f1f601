"""The database engine and its transactions.

Two traps are closed here, once, for every use case:

* SQLite's Python driver sends no ``BEGIN`` before a ``SELECT``, so a read-then-write
  transaction silently loses concurrent updates. We take over transaction control
  (driver autocommit plus our own ``BEGIN``) and start every write transaction with
  ``BEGIN IMMEDIATE``, which takes the write lock before the first read.
* On PostgreSQL, two kinds of write transaction run side by side without losing an update
  (docs/decisions.md, "Isolation of each transaction"). A score-sheet save
  (``lock_rows_only``) runs at READ COMMITTED and locks the rows it changes, so 50 reviewers
  saving at once wait microseconds for each other instead of aborting. Every other write
  transaction runs at SERIALIZABLE and first takes ``score_sheet`` in SHARE ROW EXCLUSIVE
  mode, before its snapshot: it waits for the saves in flight, saves wait for it, and it
  sees every save that committed, so a check of the sheets (scoring started? work held?)
  cannot be overtaken by one. A transaction that still lost a race is run again.
* SQLite serialises writers with its database lock; within one process writers also queue on
  a lock of ours first, so that 50 threads are served in turn instead of polling the file.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError, SAWarning
from sqlmodel import Session

from scoring.storage.models import AuditEvent

T = TypeVar("T")

_WRITE = "reviewdesk_write"
_ROW_LOCKS = "reviewdesk_row_locks"
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


def _configure_postgres(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        options = connection.get_execution_options()
        if not options.get(_WRITE, False):
            return
        # The first statement, so a SERIALIZABLE snapshot is taken only once the lock is held.
        mode = "ROW EXCLUSIVE" if options.get(_ROW_LOCKS, False) else "SHARE ROW EXCLUSIVE"
        connection.exec_driver_sql(f"LOCK TABLE score_sheet IN {mode} MODE")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the settings each backend needs to be safe."""
    if _is_sqlite(url):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        _configure_sqlite(engine)
        return engine
    # 50 savers at once each keep a connection of their own: one opened per save beyond the
    # pool would cost more than the save. Several servers share max_connections: configurable.
    from scoring.settings import get_settings

    pool_size = get_settings().pool_size
    engine = create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=10)
    _configure_postgres(engine)
    return engine


def lock_rows_only(session: Session) -> None:
    """Run this write transaction as a score-sheet save: READ COMMITTED, rows locked by hand.

    Call it before the transaction's first statement. On PostgreSQL the transaction then
    runs beside other saves instead of aborting them (docs/decisions.md): it must lock every
    row whose change it must not overtake (``FOR SHARE``) or that it changes (``FOR
    UPDATE``) before reading it for the check. On SQLite nothing changes.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    # In a transaction already under way (a save inside a larger change) the options cannot
    # apply; it stays SERIALIZABLE behind the table lock, which is safe, only not side by side.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        session.connection(
            execution_options={_ROW_LOCKS: True, "isolation_level": "READ COMMITTED"}
        )


def _retryable(error: DBAPIError) -> bool:
    """A lost serialization race or a lock wait that ran out: safe to run again."""
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in {"40001", "40P01"}:
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


class _TakeTurns:
    """A lock that serves its waiters in the order they came, re-entered by its holder.

    ``threading.Lock`` lets the thread that releases it take it again before a waiter
    wakes, so under 50 writers some wait for seconds; here the holder hands it over.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._queue: deque[threading.Event] = deque()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return
            if self._owner is None:
                self._owner, self._depth = me, 1
                return
            turn = threading.Event()
            self._queue.append(turn)
        turn.wait()
        self._owner, self._depth = me, 1

    def __exit__(self, *_: object) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth:
                return
            self._owner = None
            if self._queue:
                self._owner = -1  # handed over: taken by the next waiter as it wakes
                self._queue.popleft().set()


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
        # PostgreSQL's default, READ COMMITTED, takes a new snapshot per statement: standings
        # read from sheets, then scores, could mix two states. SQLite's read transaction is
        # one snapshot already (WAL).
        self._read_engine = (
            self.engine
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="REPEATABLE READ")
        )
        self._turn = _TakeTurns()
        """SQLite writers of this process queue here, in turn, before ``BEGIN IMMEDIATE``."""

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; whatever it reads is one consistent snapshot."""
        with Session(self._read_engine, expire_on_commit=False) as session, session.begin():
            yield session

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in one write transaction, again from scratch if it lost a race.

        ``work`` must be safe to run more than once: it reads what it needs inside.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if self.is_sqlite:
                    with self._turn:
                        result = self._sqlite_write(work)
                else:
                    session = Session(self._write_engine, expire_on_commit=False)
                    with session, session.begin():
                        result = work(session)
                break
            except DBAPIError as error:
                if attempt == MAX_ATTEMPTS or not _retryable(error):
                    raise
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
        if not self.is_sqlite:
            self._seal_after_commit()
        return result

    def _sqlite_write(self, work: Callable[[Session], T]) -> T:
        session = Session(self._write_engine, expire_on_commit=False)
        with session, session.begin():
            result = work(session)
            session.flush()  # we hold the write lock: seal in commit order now
            AuditEvent.seal(session.connection())
        return result

    def seal_audit(self, *, wait_for_disk: bool = True, wait_for_turn: bool = True) -> int:
        """Chain the audit events committed but not yet sealed; how many were sealed.

        On PostgreSQL a short READ COMMITTED transaction of its own, outside the writers'
        transactions: chaining reads the head, and doing that inside every save would make
        concurrent saves wait for each other's commits (docs/decisions.md). The seal after a
        save (``wait_for_disk=False``) does not wait for its flush: a seal lost in a crash
        leaves the events hashed and unsealed, and the next seal chains them again.

        With ``wait_for_turn=False`` (after a save) a sealer that finds another one at work
        does not queue behind it: it leaves, because every event committed before it tried
        was committed before the other sealer's turn ends, and a sealer that sealed looks
        again after its commit until it finds nothing unsealed or the turn taken. So no
        event is left behind, and 50 savers do not each wait for a turn.
        """
        engine = self._write_engine if self.is_sqlite else self._seal_engine
        sealed = 0
        with engine.connect() as connection:  # one connection for every look
            while True:
                with connection.begin():
                    count = AuditEvent.seal(
                        connection,
                        wait=wait_for_turn or self.is_sqlite,
                        durable=wait_for_disk or self.is_sqlite,
                    )
                if not count or wait_for_turn:
                    return sealed + (count or 0)
                sealed += count

    def _seal_after_commit(self) -> None:
        # The change is committed: a failure here must not report it as failed. The events
        # stay unsealed, hashed, and the next write or `reviewdesk audit-check` seals them.
        try:
            self.seal_audit(wait_for_disk=False, wait_for_turn=False)
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
