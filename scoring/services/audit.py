"""The append-only, hash-chained audit log: who, when, what, old value, new value.

Writing is one ``record`` in the caller's transaction; the row's content hash is computed
as it is inserted and the row is chained later, in commit order (``AuditEvent.seal``, run by
``Database.write``). Reading is paged with a total, never silently capped, and the CSV holds
every event that matches. ``check_chain`` recomputes every hash, so a rewrite made around the
database triggers is found; a removed tail is found against a head recorded earlier.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, insert, or_
from sqlmodel import Session, col, func, select

from scoring.export.cells import csv_text
from scoring.i18n import translate
from scoring.permissions import Actor, can_manage
from scoring.services.guard import authorise
from scoring.storage.models import AuditEvent

PAGE_SIZE = 200
"""Rows per page on the audit page: enough to scan, small enough to render quickly."""
BATCH = 2000
"""Rows read per query when walking the whole log (CSV, chain check): bounded memory."""


def event(
    actor: Actor,
    action: str,
    *,
    target: str = "",
    old: Any = None,
    new: Any = None,
    campaign_id: int | None = None,
) -> AuditEvent:
    """One event row, for callers that add many rows in one ``add_all`` (imports)."""
    return AuditEvent(
        actor=actor.username,
        action=action,
        target=target[:200],
        old_value=old,
        new_value=new,
        campaign_id=campaign_id,
    )


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    target: str = "",
    old: Any = None,
    new: Any = None,
    campaign_id: int | None = None,
) -> None:
    """Append one event in the caller's transaction, so it lands exactly when the change does.

    Inserted at once as one row, not added to the session: a score-sheet save records one
    per save, and the unit of work around a single new object cost more than the insert.
    """
    row = event(actor, action, target=target, old=old, new=new, campaign_id=campaign_id)
    session.execute(
        insert(AuditEvent.__table__),  # type: ignore[arg-type]
        {
            "at": row.at,
            "actor": row.actor,
            "campaign_id": row.campaign_id,
            "action": row.action,
            "target": row.target,
            "old_value": row.old_value,
            "new_value": row.new_value,
        },
    )


@dataclass(frozen=True)
class EventFilter:
    """Which events a reader asked for; empty fields do not filter."""

    campaign_id: int | None = None
    action: str | None = None
    who: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    """Exclusive end, so that whole days are ``[since, until)``."""
    entry: str | None = None
    """An entry code (or part of one) in the target or in the old or new value."""
    actions: tuple[str, ...] | None = None
    """Any of these actions (the page's "action in words" filter); empty matches nothing."""

    def apply(self, query: Any) -> Any:
        if self.campaign_id is not None:
            query = query.where(AuditEvent.campaign_id == self.campaign_id)
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.who:
            query = query.where(AuditEvent.actor == self.who)
        if self.since is not None:
            query = query.where(AuditEvent.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEvent.at < self.until)
        if self.actions is not None:
            query = query.where(col(AuditEvent.action).in_(self.actions))
        if self.entry:
            wanted = self.entry.lower()
            query = query.where(
                or_(
                    *(
                        func.lower(cast(column, String)).contains(wanted, autoescape=True)
                        for column in (
                            col(AuditEvent.target),
                            col(AuditEvent.old_value),
                            col(AuditEvent.new_value),
                        )
                    )
                )
            )
        return query


@dataclass(frozen=True)
class ChainHead:
    """The newest sealed event: publishing ``chain_hash`` pins everything up to it."""

    event_id: int | None
    seq: int
    chain_hash: str


def chain_head(session: Session) -> ChainHead:
    """The current head; the genesis value when nothing is sealed yet."""
    row = session.exec(
        select(AuditEvent.id, AuditEvent.chain_seq, AuditEvent.chain_hash)
        .where(col(AuditEvent.chain_seq).is_not(None))
        .order_by(col(AuditEvent.chain_seq).desc())
        .limit(1)
    ).first()
    if row is None:
        return ChainHead(None, 0, AuditEvent.genesis())
    return ChainHead(row[0], row[1], row[2])


@dataclass(frozen=True)
class EventPage:
    """One page of events, newest first, how many match in all, and the chain head."""

    events: list[AuditEvent]
    total: int
    page: int
    page_size: int
    head: ChainHead

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first(self) -> int:
        """1-based number of the first event shown (0 when none)."""
        return (self.page - 1) * self.page_size + 1 if self.events else 0

    @property
    def last(self) -> int:
        return self.first + len(self.events) - 1 if self.events else 0


def list_events(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int | None = None,
    action: str | None = None,
    who: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    entry: str | None = None,
    actions: tuple[str, ...] | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> EventPage:
    """One page of the events matching the filters, newest first, with the total; organisers.

    A page past the end shows the last page, so a filter that shrinks the list never leaves
    the reader on an empty page.
    """
    authorise(session, actor, can_manage, "audit.read", campaign=campaign_id)
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    where = EventFilter(campaign_id, action, who, since, until, entry, actions)
    total = session.exec(where.apply(select(func.count()).select_from(AuditEvent))).one()
    page = min(max(1, page), max(1, -(-total // page_size)))
    query = (
        where.apply(select(AuditEvent))
        .order_by(col(AuditEvent.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return EventPage(list(session.exec(query)), total, page, page_size, chain_head(session))


def iter_events(session: Session, where: EventFilter, batch: int = BATCH) -> Iterator[AuditEvent]:
    """Every matching event, newest first, read in batches by id (keyset, no OFFSET scan)."""
    below: int | None = None
    while True:
        query = where.apply(select(AuditEvent)).order_by(col(AuditEvent.id).desc()).limit(batch)
        if below is not None:
            query = query.where(col(AuditEvent.id) < below)
        rows = list(session.exec(query))
        yield from rows
        if len(rows) < batch:
            return
        below = rows[-1].id


CSV_COLUMNS = ("id", "at", "who", "action", "target", "old", "new")
CHAIN_COLUMNS = ("content_hash", "chain_seq", "chain_hash")


def _json(value: object) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False)


def events_csv(
    session: Session,
    actor: Actor,
    lang: str,
    *,
    campaign_id: int | None = None,
    action: str | None = None,
    who: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    entry: str | None = None,
    actions: tuple[str, ...] | None = None,
) -> bytes:
    """Every event matching the filters as CSV (UTF-8 with BOM, for spreadsheet software).

    The hash columns come along so that whoever keeps the file can check it later. Who, the
    action and the target are text that came from outside (a target is an entry code, a file
    name, a username): each goes through `csv_text`, so a spreadsheet never runs one as a
    formula. The old and new values are JSON, whose text starts with a quote, a bracket or a
    number, never with a formula.
    """
    authorise(session, actor, can_manage, "audit.read", campaign=campaign_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [translate(f"audit_chain.column_{c}", lang) for c in CSV_COLUMNS + CHAIN_COLUMNS]
    )
    for event in iter_events(
        session, EventFilter(campaign_id, action, who, since, until, entry, actions)
    ):
        writer.writerow(
            [
                event.id,
                event.at.isoformat(),
                csv_text(event.actor),
                csv_text(event.action),
                csv_text(event.target),
                _json(event.old_value),
                _json(event.new_value),
                event.content_hash,
                "" if event.chain_seq is None else event.chain_seq,
                event.chain_hash or "",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def action_names(session: Session) -> list[str]:
    """Distinct action names, for the filter box."""
    return sorted(set(session.exec(select(AuditEvent.action).distinct())))


@dataclass(frozen=True)
class ChainProblem:
    """One thing wrong in the log, at the event that shows it."""

    key: str
    event_id: int | None
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        return translate(self.key, lang, id=self.event_id, **self.params)


@dataclass
class ChainReport:
    """What ``check_chain`` found: the events checked, the head, every problem."""

    checked: int = 0
    head: ChainHead = field(default_factory=lambda: ChainHead(None, 0, AuditEvent.genesis()))
    unsealed: int = 0
    head_matched: bool | None = None
    """Whether the ``head`` asked for is in the chain (None when none was asked for)."""
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sealed_in_order(session: Session, batch: int = BATCH) -> Iterator[AuditEvent]:
    after = 0
    while True:
        rows = list(
            session.exec(
                select(AuditEvent)
                .where(col(AuditEvent.chain_seq) > after)
                .order_by(col(AuditEvent.chain_seq))
                .limit(batch)
            )
        )
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].chain_seq or after


def check_chain(session: Session, actor: Actor, *, head: str | None = None) -> ChainReport:
    """Recompute every content and chain hash in chain order; report what does not hold.

    A rewritten event fails its content hash; a removed one leaves a gap in the positions;
    a re-chained or reordered stretch fails its chain hash. A removed tail leaves a chain
    that is consistent but shorter: only ``head``, a chain hash recorded earlier, shows it.
    Seal first (``Database.seal_audit``) so that every committed event is in the chain.
    """
    authorise(session, actor, can_manage, "audit.check")
    wanted = head.strip().lower() if head else None
    report = ChainReport(head_matched=False if wanted else None)
    expected, previous = 1, AuditEvent.genesis()
    last: AuditEvent | None = None
    for event in _sealed_in_order(session):
        report.checked += 1
        seq = event.chain_seq or 0
        content = AuditEvent.content_digest(
            event.at,
            event.actor,
            event.campaign_id,
            event.action,
            event.target,
            event.old_value,
            event.new_value,
        )
        if content != event.content_hash:
            report.problems.append(ChainProblem("audit_chain.rewritten", event.id))
        if seq != expected:
            report.problems.append(
                ChainProblem(
                    "audit_chain.missing",
                    event.id,
                    {"count": seq - expected, "first": expected, "last": seq - 1},
                )
            )
        elif AuditEvent.chain_digest(previous, seq, event.id or 0, event.content_hash or "") != (
            event.chain_hash
        ):
            report.problems.append(ChainProblem("audit_chain.relinked", event.id, {"seq": seq}))
        if wanted and event.chain_hash == wanted:
            report.head_matched = True
        previous, expected, last = event.chain_hash or "", seq + 1, event
    if last is not None:
        report.head = ChainHead(last.id, last.chain_seq or 0, last.chain_hash or "")
    if wanted and not report.head_matched:
        report.problems.append(
            ChainProblem(
                "audit_chain.head_missing",
                report.head.event_id,
                {"head": wanted, "seq": report.head.seq},
            )
        )
    report.unsealed = session.exec(
        select(func.count()).select_from(AuditEvent).where(col(AuditEvent.chain_seq).is_(None))
    ).one()
    return report
