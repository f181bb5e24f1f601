"""Audit events for a bulk write: rows built in bulk, each with its content hash, unsealed.

An import of 50,000 sheets makes 100,000 events. As ``AuditEvent`` objects, or even as
insert parameters whose ``content_hash`` SQLAlchemy's column default computes one by one,
building them took longer than writing them. Here each action's shape (who, which campaign)
comes once from ``audit.event``, every event is a tuple, its content hash is computed with
``AuditEvent.content_digest`` as the column default would, and the rows are written through
the driver (``storage.bulk``). They are inserted unsealed, as every writer's are: the
triggers refuse chain columns set on insert, and ``Database.write`` chains them in commit
order, as for any write (docs/decisions.md, "The audit log is hash-chained").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table

from scoring.permissions import Actor
from scoring.services import audit
from scoring.storage.bulk import insert_rows
from scoring.storage.models import AuditEvent

COLUMNS = (
    "at",
    "actor",
    "campaign_id",
    "action",
    "target",
    "old_value",
    "new_value",
    "content_hash",
)
"""What a bulk writer gives of each event; the database adds the id, the sealer the chain."""


class EventBatch:
    """The events of one bulk write, in the order the changes are made, all at one time.

    One transaction, one instant: every event carries the time the write began. A target is
    "code/username", at most 81 characters, so ``audit.event``'s cut at the column's 200
    never applies here.
    """

    def __init__(self, actor: Actor, campaign_id: int | None, at: datetime) -> None:
        self.actor, self.campaign_id, self.at = actor, campaign_id, at
        self._who: dict[str, tuple[str, int | None]] = {}
        self.rows: list[tuple[Any, ...]] = []

    def add(self, action: str, target: str, *, old: Any = None, new: Any = None) -> None:
        who = self._who.get(action)
        if who is None:
            made = audit.event(self.actor, action, campaign_id=self.campaign_id)
            who = self._who[action] = (made.actor, made.campaign_id)
        actor, campaign_id = who
        digest = AuditEvent.content_digest(self.at, actor, campaign_id, action, target, old, new)
        self.rows.append((self.at, actor, campaign_id, action, target, old, new, digest))

    def __len__(self) -> int:
        return len(self.rows)

    def write(self, connection: Connection) -> None:
        """Insert every event in the connection's transaction, in the order added."""
        table: Table = AuditEvent.__table__  # type: ignore[attr-defined]
        insert_rows(connection, table, COLUMNS, self.rows)
