"""The append-only audit log: who, when, what, old value, new value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from scoring.permissions import Actor, can_manage, require
from scoring.storage.models import AuditEvent


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
    """Append one event in the caller's transaction, so it lands exactly when the change does."""
    session.add(
        AuditEvent(
            actor=actor.username,
            action=action,
            target=target[:200],
            old_value=old,
            new_value=new,
            campaign_id=campaign_id,
        )
    )


def list_events(
    session: Session,
    actor: Actor,
    *,
    campaign_id: int | None = None,
    action: str | None = None,
    who: str | None = None,
    since: datetime | None = None,
    limit: int = 5000,
) -> list[AuditEvent]:
    """Events newest first, filtered; organisers only."""
    require(can_manage(actor), "audit.read")
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    if campaign_id is not None:
        query = query.where(AuditEvent.campaign_id == campaign_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if who:
        query = query.where(AuditEvent.actor == who)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    return list(session.exec(query))


def action_names(session: Session) -> list[str]:
    """Distinct action names, for the filter box."""
    return sorted(set(session.exec(select(AuditEvent.action).distinct())))
