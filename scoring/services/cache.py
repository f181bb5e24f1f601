"""What does not change between two data changes, kept once per campaign data version.

The standings of a campaign are a pure function of its rows, and every change of those rows
writes an audit event of the campaign in the same transaction. So the campaign's audit
events name the data a page is looking at: their count, the newest id and that event's
content hash (``DataVersion``). A page run reads that version (one small query) and reuses
what was computed at the same version, instead of computing the standings again; the first
read after a change sees a new version and computes afresh.

Why all three: on PostgreSQL ids are handed out before commit, so a transaction committing
late can land *below* the newest id (the count still moves); on SQLite a rolled-back insert
gives its id to the next one (the content hash, which covers the event's time, differs); a
restored backup may repeat a count and an id but not the hash.

Public votes are the one change not audited (a campaign may get a million; the
``public_vote`` table is their record), so the version also holds the sum of the public votes
counted in the campaign's tallies. Between two audit events votes only arrive (voids and
imports, which take counted votes out, are audited), so every vote moves the sum, a vote
committed late (PostgreSQL) included. It reads one tally row per entry; the newest vote's id
would not do: PostgreSQL finds it only by scanning the campaign's votes (34 ms per read at
100,000 older votes, measured), and a late commit can land below it.

A value is cached only from a session that has written nothing yet: a transaction that
changed rows reads its own uncommitted data, which must never be served to anyone else, nor
can it trust a value computed without its change. The cache lives in this process (each app
server has its own; the version comes from the shared database, so none serves stale data),
holds a few entries, and hands out copies of data frames and lists so that no caller can
change what the next one gets. ``scoring`` never imports Streamlit: this is not
``st.cache_data``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import event, func
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from scoring.services.guard import public_voting_started
from scoring.storage.models import AuditEvent, Campaign, Entry, VoteTally, utcnow

T = TypeVar("T")

MAX_ENTRIES = 32
"""A handful of campaigns times the scopes their pages ask for; old versions fall out first."""

_WROTE = "reviewdesk_wrote"


@event.listens_for(OrmSession, "after_flush")
def _flushed(session: OrmSession, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(OrmSession, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@dataclass(frozen=True)
class DataVersion:
    """Which state of a campaign's data a session sees (see the module docstring)."""

    events: int
    newest: int
    newest_hash: str
    counted_votes: int = 0
    voting_started: bool = False
    """Flips once when the public vote opens: missing tallies then count as 0 votes."""


def data_version(session: Session, campaign: Campaign) -> DataVersion:
    """The campaign's data version as this session sees it; read before the data it names."""
    count, newest = session.exec(
        select(func.count(col(AuditEvent.id)), func.max(col(AuditEvent.id))).where(
            AuditEvent.campaign_id == campaign.id
        )
    ).one()
    digest = session.exec(select(AuditEvent.content_hash).where(AuditEvent.id == newest)).first()
    counted = session.exec(
        select(func.sum(col(VoteTally.counted)))
        .join(Entry, col(Entry.id) == VoteTally.entry_id)
        .where(Entry.campaign_id == campaign.id)
    ).one()
    return DataVersion(
        int(count or 0),
        int(newest or 0),
        str(digest or ""),
        int(counted or 0),
        public_voting_started(campaign, utcnow()),
    )


def _wrote(session: Session) -> bool:
    return bool(session.info.get(_WROTE)) or bool(session.new or session.dirty or session.deleted)


class _Cache:
    def __init__(self, size: int) -> None:
        self._size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            if key not in self._values:
                return False, None
            self._values.move_to_end(key)
            return True, self._values[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_cache = _Cache(MAX_ENTRIES)


def cached(
    session: Session,
    campaign: Campaign,
    what: str,
    scope: Hashable,
    compute: Callable[[], T],
) -> T:
    """``compute()``, or what it returned before at this campaign's data version.

    ``what`` names the value (one per kind: "standings", "analysis", ...); ``scope`` is what
    the caller's role may see of it (the same for every organiser; a reviewer's own entries
    are keyed by their account), so one user's value is never another's. Callers have
    checked the permission already: the cache is no door.
    """
    version = data_version(session, campaign)  # also flushes what the session holds
    if _wrote(session):
        return compute()
    key = (campaign.id, what, scope, version)
    found, value = _cache.get(key)
    if not found:
        value = compute()
        _cache.put(key, value)
    return _copied(value)


def _copied(value: Any) -> Any:
    """``value`` with fresh copies of its data frames and lists; frozen parts are shared.

    Cached values are frames, lists of names, and named tuples of those (the engine's
    ``Analysis``) beside frozen dataclasses such as ``Method``, which nobody can change.
    """
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_copied(v) for v in value))
    if isinstance(value, list):
        return [_copied(v) for v in value]
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    return value


def clear() -> None:
    """Forget every cached value (tests, and after a restore replaced the database)."""
    _cache.clear()
