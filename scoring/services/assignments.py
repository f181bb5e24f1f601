"""Assignments: which reviewer scores which shortlisted entry, by hand or automatically.

Automatic assignment (SPEC §2.6, ``reviewdesk assign CAMPAIGN --auto``) only ever *adds*:
a reviewer may already hold a draft or a submitted sheet, so no existing assignment is moved
or removed. The whole plan for every panel is computed in memory first and written only when
every panel can reach its minimum, so a refusal leaves the database exactly as it was.

Who counts toward an entry's ``min_reviews`` (the same rule for ``auto_assign`` and
``coverage_matrix``, so the matrix's "missing" is what the next automatic run fills):
an assignment of a reviewer of that panel, without a declared conflict (conflicted sheets
never count), whose review is in (submitted sheet) or can still come in (active account).
A deactivated reviewer's unfinished work is therefore replaced, their submitted work kept.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd
from sqlmodel import Session, select

from scoring.errors import Names, NotFound, ValidationFailed
from scoring.importers.report import Problem
from scoring.permissions import Actor, can_assign, can_manage
from scoring.services import audit
from scoring.services.campaigns import components
from scoring.services.guard import authorise, authorise_campaign
from scoring.services.sheets import find_sheet, is_assigned, is_conflicted
from scoring.storage.models import (
    Account,
    Assignment,
    Campaign,
    Component,
    ConflictDeclaration,
    Entry,
    ScoreSheet,
)

MAX_CODES_IN_MESSAGE = 20
CELL_STATES = ("", "assigned", "draft", "submitted", "conflict")


def _add_assignment(session: Session, actor: Actor, entry: Entry, reviewer: Account) -> None:
    """Insert one assignment and its audit event: the one place both paths go through."""
    session.add(Assignment(entry_id=entry.id, reviewer_id=reviewer.id))
    audit.record(
        session,
        actor,
        "assignment.create",
        target=f"{entry.code}/{reviewer.username}",
        campaign_id=entry.campaign_id,
        new=reviewer.username,
    )


def _fresh_reviewer(session: Session, reviewer: Account) -> Account:
    """The reviewer's account as it is now (its role decides the panel)."""
    row = session.get(Account, reviewer.id, populate_existing=True)
    if row is None:
        raise NotFound("error.no_such_user", username=reviewer.username)
    return row


def assign(session: Session, actor: Actor, *, entry: Entry, reviewer: Account) -> bool:
    """Assign ``reviewer`` to ``entry``; False when already assigned. Conflicts are refused."""
    done = authorise(session, actor, can_assign, "assignment.create", entry=entry)
    actor, entry, reviewer = done.actor, done.entry, _fresh_reviewer(session, reviewer)
    if reviewer.role not in ("expert", "media"):
        raise ValidationFailed("assign.not_a_reviewer", username=reviewer.username)
    if is_conflicted(session, reviewer.id, entry.id):
        raise ValidationFailed("assign.conflict", username=reviewer.username, code=entry.code)
    if is_assigned(session, reviewer.id, entry.id):
        return False
    _add_assignment(session, actor, entry, reviewer)
    return True


def unassign(session: Session, actor: Actor, *, entry: Entry, reviewer: Account) -> bool:
    """Remove an assignment nobody has started on; False when there was none.

    A reviewer with a draft or a submitted sheet keeps the entry: removing it would silently
    drop their work from the scoring.
    """
    done = authorise(session, actor, can_assign, "assignment.delete", entry=entry)
    actor, entry, reviewer = done.actor, done.entry, _fresh_reviewer(session, reviewer)
    row = session.exec(
        select(Assignment).where(
            Assignment.entry_id == entry.id, Assignment.reviewer_id == reviewer.id
        )
    ).first()
    if row is None:
        return False
    if find_sheet(session, reviewer.id, entry.id) is not None:
        raise ValidationFailed("assign.has_sheet", username=reviewer.username, code=entry.code)
    session.delete(row)
    audit.record(
        session,
        actor,
        "assignment.delete",
        target=f"{entry.code}/{reviewer.username}",
        campaign_id=entry.campaign_id,
        old=reviewer.username,
    )
    return True


def assigned_entry_ids(session: Session, reviewer_id: int) -> set[int]:
    """Entries a reviewer is assigned to."""
    return set(
        session.exec(select(Assignment.entry_id).where(Assignment.reviewer_id == reviewer_id))
    )


# --- what is in the database now -------------------------------------------------------------


@dataclass
class _PanelState:
    """One panel's shortlisted entries and reviewers, read once, keyed by code and username."""

    panel: str
    min_reviews: int
    entries: dict[str, Entry]  # code -> entry, in code order
    reviewers: dict[str, Account]  # username -> account: active ones, then holders of work
    assigned: set[tuple[str, str]]  # (code, username)
    conflicts: set[tuple[str, str]]
    sheets: dict[tuple[str, str], str]  # (code, username) -> draft | submitted

    def state(self, code: str, username: str) -> str:
        """The cell of the coverage matrix: conflict first, then the sheet, then assignment."""
        key = (code, username)
        if key in self.conflicts:
            return "conflict"
        if key in self.sheets:
            return self.sheets[key]
        return "assigned" if key in self.assigned else ""

    def counts(self, code: str, username: str) -> bool:
        """Whether this reviewer's review of this entry is in or can still come in."""
        state = self.state(code, username)
        if state == "submitted":
            return True
        return state in ("assigned", "draft") and self.reviewers[username].active

    def active_usernames(self) -> list[str]:
        return sorted(u for u, a in self.reviewers.items() if a.active)


def _shortlisted(session: Session, campaign: Campaign) -> dict[str, Entry]:
    rows = session.exec(
        select(Entry)
        .where(Entry.campaign_id == campaign.id, Entry.status == "shortlisted")
        .order_by(Entry.code)
    )
    return {entry.code: entry for entry in rows}


def _pairs(session: Session, table: type, campaign: Campaign, role: str) -> list[tuple]:
    """(code, username, row) of ``table`` rows on shortlisted entries, by reviewers of ``role``."""
    return list(
        session.exec(
            select(Entry.code, Account.username, table)
            .join(Entry, Entry.id == table.entry_id)
            .join(Account, Account.id == table.reviewer_id)
            .where(
                Entry.campaign_id == campaign.id,
                Entry.status == "shortlisted",
                Account.role == role,
            )
        )
    )


def _panel_state(
    session: Session, campaign: Campaign, component: Component, entries: dict[str, Entry]
) -> _PanelState:
    role = component.key
    assignments = _pairs(session, Assignment, campaign, role)
    conflicts = _pairs(session, ConflictDeclaration, campaign, role)
    sheets = _pairs(session, ScoreSheet, campaign, role)
    holders = {u for _, u, _ in assignments} | {u for _, u, _ in sheets}
    accounts = session.exec(select(Account).where(Account.role == role)).all()
    reviewers = {
        a.username: a
        for a in sorted(accounts, key=lambda a: a.username)
        if a.active or a.username in holders
    }
    return _PanelState(
        panel=role,
        min_reviews=component.min_reviews,
        entries=entries,
        reviewers=reviewers,
        assigned={(c, u) for c, u, _ in assignments},
        conflicts={(c, u) for c, u, _ in conflicts},
        sheets={(c, u): sheet.status for c, u, sheet in sheets},
    )


def _panels(session: Session, campaign: Campaign) -> list[Component]:
    return [c for c in components(session, campaign.id) if c.kind == "panel"]


# --- the plan --------------------------------------------------------------------------------


def _code_list(codes: Iterable[str]) -> str:
    """Codes for a one-line message: the first few, then an ellipsis (the count says how many)."""
    codes = list(codes)
    shown = ", ".join(codes[:MAX_CODES_IN_MESSAGE])
    return shown + (", …" if len(codes) > MAX_CODES_IN_MESSAGE else "")


class _Planner:
    """Adds (code, username) pairs for one panel: greedy, then augmenting paths, then balance.

    The greedy pass gives the entry with the fewest reviewers to the least-loaded eligible
    reviewer (ties by code and username, so a run is reproducible). When a cap stops it, an
    augmenting path (move a planned entry from a capped reviewer to one with room) finds
    another place if one exists; when none does the maximum is reached, so the refusal is
    never caused by the greedy order. A last pass shifts planned entries along such paths
    from a reviewer to one at least two lighter, so loads end within one where the fixed
    existing assignments and the conflicts allow it. Only planned entries ever move.
    """

    def __init__(self, state: _PanelState, cap: int | None) -> None:
        self.state = state
        self.cap = cap
        self.reviewers = state.active_usernames()
        codes = list(state.entries)
        self.have = {c: sum(state.counts(c, u) for u in state.reviewers) for c in codes}
        self.need = {c: max(state.min_reviews - self.have[c], 0) for c in codes}
        # A reviewer already on the entry (whatever the state) or conflicted cannot be added.
        self.eligible = {
            c: [
                u
                for u in self.reviewers
                if (c, u) not in state.assigned and (c, u) not in state.conflicts
            ]
            for c in codes
        }
        self.load = {u: sum(state.counts(c, u) for c in codes) for u in self.reviewers}
        self.limit = {u: cap if cap is not None else len(codes) + self.load[u] for u in self.load}
        self.plan: dict[str, set[str]] = {c: set() for c in codes}
        self.by_reviewer: dict[str, set[str]] = {u: set() for u in self.reviewers}

    # The moves every pass is made of.
    def _give(self, code: str, username: str) -> None:
        self.plan[code].add(username)
        self.by_reviewer[username].add(code)
        self.load[username] += 1

    def _take(self, code: str, username: str) -> None:
        self.plan[code].discard(username)
        self.by_reviewer[username].discard(code)
        self.load[username] -= 1

    def _open(self, code: str, username: str) -> bool:
        return username not in self.plan[code]

    def run(self) -> dict[str, set[str]]:
        """The planned new (code -> usernames), or ``ValidationFailed`` when none can do."""
        self._check_enough_reviewers()
        room = sum(max(self.limit[u] - self.load[u], 0) for u in self.reviewers)
        short = self._greedy()
        if short and room < sum(self.need.values()):
            # Not even every free slot would do: say so at once instead of searching paths.
            self._refuse_cap(short, possible=room)
        deficit = {}
        for code in sorted(short):
            missing = short[code]
            while missing and self._augment(code):
                missing -= 1
            if missing:
                deficit[code] = missing
        if deficit:
            # No augmenting path is left, so this plan is a maximum: what it lacks is real.
            self._refuse_cap(deficit, possible=sum(self.need.values()) - sum(deficit.values()))
        self._balance()
        return self.plan

    def _check_enough_reviewers(self) -> None:
        """Without a cap the only obstacle: too few non-conflicted active reviewers."""
        short = {
            c: self.have[c] + len(self.eligible[c])
            for c in self.need
            if len(self.eligible[c]) < self.need[c]
        }
        if not short:
            return
        raise ValidationFailed(
            "assign_auto.too_few_reviewers",
            problems=[
                Problem(
                    "assign_auto.entry_short",
                    params={
                        "code": code,
                        "panel": self.state.panel,
                        "needed": self.state.min_reviews,
                        "possible": possible,
                    },
                )
                for code, possible in short.items()
            ],
            panel=Names("panel", (self.state.panel,)),
            needed=self.state.min_reviews,
            reviewers=len(self.reviewers),
            count=len(short),
            entries=_code_list(f"{code} ({possible})" for code, possible in short.items()),
        )

    def _greedy(self) -> dict[str, int]:
        """The fewest-reviewers-first pass; returns what each entry still lacks when stuck."""
        heap = [(self.have[c], c) for c in self.need if self.need[c]]
        heapq.heapify(heap)
        remaining = dict(self.need)
        short: dict[str, int] = {}
        while heap:
            count, code = heapq.heappop(heap)
            candidates = [
                u
                for u in self.eligible[code]
                if self._open(code, u) and self.load[u] < self.limit[u]
            ]
            if not candidates:
                short[code] = remaining[code]
                continue
            self._give(code, min(candidates, key=lambda u: (self.load[u], u)))
            remaining[code] -= 1
            if remaining[code]:
                heapq.heappush(heap, (count + 1, code))
        return short

    def _search(
        self, starts: list[str], start_code: str | None, accept: Callable[[str], bool]
    ) -> list[tuple[str | None, str | None, str]] | None:
        """Breadth-first over reviewers: reviewer -> planned entry -> another eligible reviewer.

        Returns the path as [(code, from_username | None, to_username), ...] from the start to
        the first reviewer ``accept`` takes, or None.
        """
        parent: dict[str, tuple[str | None, str | None]] = {}
        queue: deque[str] = deque()
        for username in starts:
            parent[username] = (None, start_code)
            queue.append(username)
        while queue:
            username = queue.popleft()
            if accept(username):
                path = []
                while username is not None:
                    previous, code = parent[username]
                    path.append((code, previous, username))
                    username = previous
                return path
            for code in sorted(self.by_reviewer[username]):
                for other in self.eligible[code]:
                    if other not in parent and self._open(code, other):
                        parent[other] = (username, code)
                        queue.append(other)
        return None

    def _apply(self, path: list[tuple[str | None, str | None, str]]) -> None:
        for code, previous, username in path:
            if previous is not None:
                self._take(code, previous)
            if code is not None:
                self._give(code, username)

    def _augment(self, code: str) -> bool:
        """One more reviewer for ``code`` by moving planned entries off capped reviewers."""
        starts = sorted(
            (u for u in self.eligible[code] if self._open(code, u)),
            key=lambda u: (self.load[u], u),
        )
        path = self._search(starts, code, lambda u: self.load[u] < self.limit[u])
        if path is None:
            return False
        self._apply(path)
        return True

    def _balance(self) -> None:
        """Shift planned entries from heavy reviewers to ones at least two lighter."""
        while self.reviewers and max(self.load.values()) - min(self.load.values()) > 1:
            for heavy in sorted(self.reviewers, key=lambda u: (-self.load[u], u)):
                if not self.by_reviewer[heavy]:
                    continue
                ceiling = self.load[heavy] - 2
                path = self._search([heavy], None, lambda u, c=ceiling: self.load[u] <= c)
                if path is not None:
                    self._apply(path)
                    break
            else:
                return

    def _refuse_cap(self, deficit: dict[str, int], *, possible: int) -> None:
        """The cap leaves ``deficit`` (code -> reviewers lacking); ``possible`` is what fits."""
        raise ValidationFailed(
            "assign_auto.cap_too_low",
            problems=[
                Problem(
                    "assign_auto.entry_short",
                    params={
                        "code": code,
                        "panel": self.state.panel,
                        "needed": self.state.min_reviews,
                        "possible": self.state.min_reviews - lacking,
                    },
                )
                for code, lacking in deficit.items()
            ],
            panel=Names("panel", (self.state.panel,)),
            cap=self.cap,
            reviewers=len(self.reviewers),
            needed=sum(self.need.values()),
            possible=possible,
            count=len(deficit),
            entries=_code_list(deficit),
        )


# --- the use cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AutoAssignResult:
    """What an automatic run did: new assignments per panel and the loads afterwards.

    ``loads[panel][username]`` counts the shortlisted entries each active reviewer of the
    panel now has (existing and new, conflicted ones not counted), for the confirmation.
    """

    added: dict[str, int] = field(default_factory=dict)
    loads: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total_added(self) -> int:
        return sum(self.added.values())


def auto_assign(
    session: Session, actor: Actor, campaign: Campaign, *, cap: int | None = None
) -> AutoAssignResult:
    """Give every shortlisted entry at least ``min_reviews`` reviewers of each panel.

    Existing assignments are kept, conflicts are never assigned, loads are balanced within
    one where the existing assignments allow, and ``cap`` (entries per reviewer per panel,
    counting existing ones) is respected. All or nothing: every panel is planned before the
    first row is written, and an impossible minimum raises ``ValidationFailed`` naming the
    panel, what is needed, what is possible and the entries left short. Running it again
    adds nothing.
    """
    actor, campaign = authorise_campaign(session, actor, can_assign, "assignment.auto", campaign)
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        raise ValidationFailed("assign_auto.bad_cap", cap=cap)
    entries = _shortlisted(session, campaign)
    plans: list[tuple[_PanelState, _Planner]] = []
    for component in _panels(session, campaign):
        state = _panel_state(session, campaign, component, entries)
        planner = _Planner(state, cap)
        planner.run()
        plans.append((state, planner))
    added: dict[str, int] = {}
    loads: dict[str, dict[str, int]] = {}
    for state, planner in plans:
        pairs = sorted((c, u) for c, users in planner.plan.items() for u in users)
        for code, username in pairs:
            _add_assignment(session, actor, state.entries[code], state.reviewers[username])
        added[state.panel] = len(pairs)
        loads[state.panel] = {u: planner.load[u] for u in planner.reviewers}
    session.flush()
    return AutoAssignResult(added=added, loads=loads)


def coverage_matrix(session: Session, actor: Actor, campaign: Campaign, panel: str) -> pd.DataFrame:
    """Who has what and what is missing, for one panel, so organisers see gaps at a glance.

    Rows are the shortlisted entries (index ``code``, code order); columns are the panel's
    reviewers in username order (active ones, plus deactivated ones who hold work here),
    each cell one of ``CELL_STATES``: "" (not assigned), "assigned", "draft", "submitted",
    "conflict". Then ``assigned``: reviews that are in or can still come in (conflicts and a
    deactivated reviewer's unfinished work not counted), and ``missing``:
    ``max(min_reviews - assigned, 0)``.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "assignment.read", campaign)
    component = next((c for c in _panels(session, campaign) if c.key == panel), None)
    if component is None:
        raise ValidationFailed("sheet.no_panel", panel=panel)
    state = _panel_state(session, campaign, component, _shortlisted(session, campaign))
    usernames = list(state.reviewers)
    rows = []
    for code in state.entries:
        cells = {u: state.state(code, u) for u in usernames}
        counted = sum(state.counts(code, u) for u in usernames)
        rows.append(
            {
                **cells,
                "assigned": counted,
                "missing": max(component.min_reviews - counted, 0),
            }
        )
    frame = pd.DataFrame(
        rows, columns=[*usernames, "assigned", "missing"], index=list(state.entries)
    )
    frame.index.name = "code"
    return frame.astype({"assigned": "int64", "missing": "int64"})
