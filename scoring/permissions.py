"""Who may do what, and when (SPEC §1): small named predicates composed per action.

Two kinds of predicate sit here side by side, as in pretalx's ``rules.py``:

* **role** predicates look at the acting account (organiser, a reviewer of a panel, assigned
  to the entry, not conflicted, owner of the sheet);
* **state** predicates look at the campaign (open, finalised) and the panel (locked).

Each action names one composite (``can_change_entries = is_organiser & campaign_open``), and
every use case checks it through ``scoring.services.guard.authorise`` with the account and the
campaign re-read inside its own transaction. A failing part raises its own error: a role gives
``PermissionDenied``, a state ``StateRefused`` with the state's one catalogue key, so the
page and the CLI show the same one-line reason. Pages may hide what is refused; they are never
the only guard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scoring.errors import PermissionDenied, StateRefused

ORGANISER = "organiser"
REVIEWER_ROLES = frozenset({"expert", "media"})
PUBLIC = "public"
"""The role of a visitor who is not signed in: only the public pages of SPEC §8."""


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

    @classmethod
    def public_visitor(cls) -> Actor:
        """Somebody on the public gallery or results notice, not signed in (SPEC §8)."""
        return cls(username=PUBLIC, role=PUBLIC)

    @property
    def is_public_visitor(self) -> bool:
        """No account: nothing to re-read, and no rule but the public ones allows it."""
        return self.account_id is None and self.username == PUBLIC and self.role == PUBLIC

    @property
    def is_command_line(self) -> bool:
        """The CLI has no account row to re-read: it is whoever may run commands on the server."""
        return self.account_id is None and self.username == "cli" and self.role == ORGANISER

    @property
    def is_reviewer(self) -> bool:
        return self.role in REVIEWER_ROLES

    @property
    def panel(self) -> str | None:
        """The panel a reviewer scores on comes from their role (SPEC §5.4)."""
        return self.role if self.is_reviewer else None


@dataclass(frozen=True)
class Situation:
    """What a predicate may look at: the re-read actor and campaign, and the entry's facts.

    ``panel_locked`` is the lock of the panel the action touches (the reviewer's own panel
    for a sheet); ``assigned`` / ``conflicted`` / ``owns_sheet`` describe the actor and the
    entry. Built by ``scoring.services.guard.authorise``, never by a page.
    """

    actor: Actor
    finalised: bool = False
    panel_locked: bool = False
    assigned: bool = False
    conflicted: bool = False
    owns_sheet: bool = True
    gallery_public: bool = False
    voting_open: bool = False
    """The campaign's voting window holds the time of the check (Asia/Shanghai dates, SPEC §8)."""
    notice_published: bool = False
    """A results notice of the snapshot in force is public (withdrawing finalisation ends it)."""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A named predicate; ``a & b`` and ``a | b`` compose, the first failing part is reported.

    ``kind`` is ``"role"`` or ``"state"``: it decides which error a refusal raises, and
    ``error_key`` is the one catalogue key for that state (roles share the permission key).
    """

    name: str
    test: Callable[[Situation], bool]
    kind: str = "role"
    error_key: str = "error.permission_denied"
    parts: tuple[Rule, ...] = ()
    any_of: bool = False

    def __and__(self, other: Rule) -> Rule:
        return Rule(f"{self.name} & {other.name}", _never, parts=(self, other))

    def __or__(self, other: Rule) -> Rule:
        return Rule(f"({self.name} | {other.name})", _never, parts=(self, other), any_of=True)

    def first_failure(self, situation: Situation) -> Rule | None:
        """The simple predicate that refuses, or None when the rule allows."""
        if not self.parts:
            return None if self.test(situation) else self
        failures = [part.first_failure(situation) for part in self.parts]
        if self.any_of:
            return None if any(f is None for f in failures) else failures[0]
        return next((f for f in failures if f is not None), None)

    def allows(self, situation: Situation) -> bool:
        return self.first_failure(situation) is None

    def __call__(self, actor: Actor, **facts: Any) -> bool:
        """For a page deciding what to show: ``can_manage(actor)``. Use cases use ``authorise``."""
        return self.allows(Situation(actor=actor, **facts))

    def __repr__(self) -> str:
        return f"Rule({self.name})"


def _never(_: Situation) -> bool:  # composites are decided by their parts
    return False


def _role(name: str, test: Callable[[Situation], bool]) -> Rule:
    return Rule(name, test)


def _state(name: str, test: Callable[[Situation], bool], error_key: str) -> Rule:
    return Rule(name, test, kind="state", error_key=error_key)


# Role predicates. Being signed in means the account was re-read and is active.
is_signed_in = _role("is_signed_in", lambda s: not s.actor.is_public_visitor)
anyone = _role("anyone", lambda s: True)
is_organiser = _role("is_organiser", lambda s: s.actor.role == ORGANISER)
is_reviewer = _role("is_reviewer", lambda s: s.actor.is_reviewer)
is_assigned = _role("is_assigned", lambda s: s.assigned)
not_conflicted = _role("not_conflicted", lambda s: not s.conflicted)
owns_sheet = _role("owns_sheet", lambda s: s.owns_sheet)

# State predicates: one catalogue key per state.
campaign_open = _state("campaign_open", lambda s: not s.finalised, "campaign_state.finalised")
campaign_finalised = _state(
    "campaign_finalised", lambda s: s.finalised, "campaign_state.not_finalised"
)
panel_open = _state("panel_open", lambda s: not s.panel_locked, "campaign_state.panel_locked")
gallery_public = _state("gallery_public", lambda s: s.gallery_public, "public_state.gallery_closed")
voting_open = _state("voting_open", lambda s: s.voting_open, "public_state.voting_closed")
notice_published = _state(
    "notice_published", lambda s: s.notice_published, "public_state.no_notice"
)

# Composites, one per kind of action. Every use case names exactly one of these.
can_manage = is_organiser
"""Organiser reads: set-up, pre-check lists, coverage, progress, decisions, audit, export."""
can_see_standings = is_organiser
"""Standings, snapshots and other reviewers' scores: organisers only (SPEC §1), any state."""
can_read_entry = is_organiser | (is_reviewer & is_assigned)
"""Organisers read every entry; reviewers only those assigned to them."""
can_read_materials = is_organiser | (is_reviewer & is_assigned & not_conflicted)
"""Materials in bulk (a zip, an entry's dossier PDF): organisers every entry, reviewers only an
entry assigned to them that they have not declared a conflict on, in any state."""
can_read_own_work = is_reviewer
"""A reviewer's own progress, conflicts and sheets."""
can_read_own_sheet = is_reviewer & is_assigned
"""A reviewer's own sheet on an entry assigned to them (read-only once locked or final)."""
can_list_entries = is_organiser | is_reviewer
"""The entry list: organisers all, reviewers their assigned ones (the query narrows it)."""
can_change_entries = is_organiser & campaign_open
"""Entries, votes, pre-check decisions, applicant links, shortlist (SPEC §1 state table)."""
can_send_reminders = is_organiser & campaign_open
"""Reminder e-mails to reviewers: after finalisation no sheet can change, so a reminder would
ask for work that cannot be done."""
can_assign = is_organiser & campaign_open
"""Assignments by hand or automatic, review-meeting rounds."""
can_edit_setup = is_organiser & campaign_open
"""Campaign settings, weights, rubric, groups."""
can_import_scores = is_organiser & campaign_open
"""Paper marks; each sheet's panel must be open too (checked per sheet)."""
can_decide_awards = is_organiser & campaign_open
"""Tie decisions, committee overrides, group quotas."""
can_lock_panel = is_organiser & campaign_open
"""Locking and unlocking a panel."""
can_finalise = is_organiser & campaign_open
"""Freezing the standings as the snapshot."""
can_withdraw = is_organiser & campaign_finalised
"""Withdrawing a finalisation, with a reason."""
can_publish_result = is_organiser & campaign_finalised
"""Certificates and the case collection: printed from the snapshot in force, so only then."""
can_save_sheet = (
    is_reviewer & is_assigned & not_conflicted & owns_sheet & campaign_open & panel_open
)
"""A reviewer saves or submits their own sheet on an assigned entry while the panel is open."""
can_declare_conflict = is_reviewer & is_assigned & campaign_open & panel_open
"""Declaring a conflict withdraws the reviewer's sheet, so it follows the sheet's states."""
can_change_own_password = is_signed_in
"""Anybody signed in, for their own account only."""
can_manage_accounts = is_organiser
"""Accounts are not campaign data; the role-change rule lives in the accounts service."""

# The public pages of SPEC §8: the only rules a visitor who is not signed in can pass.
can_view_public_gallery = anyone & gallery_public
"""The online exhibition hall (网上展厅): accepted entries, their public fields and images."""
can_cast_vote = anyone & gallery_public & voting_open & campaign_open
"""One public vote; the one-per-IP-per-day rule is the database's unique key."""
can_view_results_notice = anyone & campaign_finalised & notice_published
"""The results notice (结果公示) of the snapshot in force."""
can_configure_public = is_organiser
"""Gallery on or off, its public fields, the voting window: in any state (a finalised
campaign refuses votes by ``can_cast_vote``; closing its hall must stay possible)."""
can_watch_votes = is_organiser
"""Votes over time, burst warnings and their evidence."""
can_void_votes = is_organiser & campaign_open
"""Voiding a burst changes the votes component, so it follows the entries' states."""
can_publish_notice = is_organiser & campaign_finalised
"""Publishing the results notice: only of a finalised result."""
can_withdraw_notice = is_organiser
"""Taking the notice down is always possible."""


def refuse(rule: Rule, situation: Situation, action: str) -> None:
    """Raise the error of the first part of ``rule`` that refuses ``situation``."""
    failure = rule.first_failure(situation)
    if failure is None:
        return
    if failure.kind == "state":
        raise StateRefused(failure.error_key, action=action)
    raise PermissionDenied(failure.error_key, action=action)


def require(allowed: bool, action: str) -> None:
    """Refuse a role check made without a campaign (accounts, campaign creation)."""
    if not allowed:
        raise PermissionDenied("error.permission_denied", action=action)
