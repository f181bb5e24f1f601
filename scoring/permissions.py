"""Who may do what (SPEC §1), as small named predicates and one ``require``.

Pages may hide what a user cannot do, but they are never the only guard: every use case in
``scoring.services`` calls ``require(...)`` before it changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring.errors import PermissionDenied

ORGANISER = "organiser"
REVIEWER_ROLES = frozenset({"expert", "media"})


@dataclass(frozen=True)
class Actor:
    """The person (or the command line) doing something, as read from the database now."""

    username: str
    role: str
    account_id: int | None = None

    @classmethod
    def command_line(cls) -> Actor:
        """The CLI runs on the server by the organising office: organiser rights."""
        return cls(username="cli", role=ORGANISER)

    @property
    def is_reviewer(self) -> bool:
        return self.role in REVIEWER_ROLES

    @property
    def panel(self) -> str | None:
        """The panel a reviewer scores on comes from their role (SPEC §5.4)."""
        return self.role if self.is_reviewer else None


def can_manage(actor: Actor) -> bool:
    """Set up campaigns, import, assign, lock, finalise, read the audit log."""
    return actor.role == ORGANISER


def can_see_standings(actor: Actor) -> bool:
    """Reviewers never see standings or other reviewers' scores."""
    return actor.role == ORGANISER


def can_view_entry(actor: Actor, *, assigned: bool) -> bool:
    """Organisers see every entry; reviewers only those assigned to them."""
    return actor.role == ORGANISER or (actor.is_reviewer and assigned)


def can_score(
    actor: Actor, *, assigned: bool, conflicted: bool, panel_locked: bool, sheet_owner_id: int
) -> bool:
    """A reviewer scores their own sheet, on an entry assigned to them, while the panel is open."""
    return (
        actor.is_reviewer
        and assigned
        and not conflicted
        and not panel_locked
        and actor.account_id == sheet_owner_id
    )


def require(allowed: bool, action: str) -> None:
    """Refuse with a clear reason, before anything changes."""
    if not allowed:
        raise PermissionDenied("error.permission_denied", action=action)
