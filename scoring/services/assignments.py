"""Assignments: which reviewer scores which shortlisted entry."""

from __future__ import annotations

from sqlmodel import Session, select

from scoring.errors import ValidationFailed
from scoring.permissions import Actor, can_manage, require
from scoring.services import audit
from scoring.services.sheets import is_assigned, is_conflicted
from scoring.storage.models import Account, Assignment, Entry


def assign(session: Session, actor: Actor, *, entry: Entry, reviewer: Account) -> bool:
    """Assign ``reviewer`` to ``entry``; False when already assigned. Conflicts are refused."""
    require(can_manage(actor), "assignment.create")
    if reviewer.role not in ("expert", "media"):
        raise ValidationFailed("assign.not_a_reviewer", username=reviewer.username)
    if is_conflicted(session, reviewer.id, entry.id):
        raise ValidationFailed("assign.conflict", username=reviewer.username, code=entry.code)
    if is_assigned(session, reviewer.id, entry.id):
        return False
    session.add(Assignment(entry_id=entry.id, reviewer_id=reviewer.id))
    audit.record(
        session,
        actor,
        "assignment.create",
        target=f"{entry.code}/{reviewer.username}",
        campaign_id=entry.campaign_id,
        new=reviewer.username,
    )
    return True


def assigned_entry_ids(session: Session, reviewer_id: int) -> set[int]:
    """Entries a reviewer is assigned to."""
    return set(
        session.exec(select(Assignment.entry_id).where(Assignment.reviewer_id == reviewer_id))
    )
