"""Review progress: how many submitted sheets each panel has against what it needs.

Also each reviewer's own progress, for the organisers chasing the ones who are behind: the
same counting as the reviewer's own bar (assigned entries of the campaign, their sheets on
those entries), so the number an organiser quotes is the number the reviewer sees.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, func, select

from scoring.beijing_time import stored_utc
from scoring.i18n import DEFAULT_LANGUAGE, translate
from scoring.permissions import REVIEWER_ROLES, Actor, can_manage, can_read_own_work
from scoring.services.assignments import assigned_entry_ids
from scoring.services.campaigns import components
from scoring.services.guard import authorise_campaign
from scoring.storage.models import (
    Account,
    Assignment,
    Campaign,
    ConflictDeclaration,
    Entry,
    ScoreSheet,
)


def panel_progress(session: Session, actor: Actor, campaign: Campaign) -> list[dict]:
    """Per panel: submitted sheets, sheets needed (shortlisted × min_reviews), reviewers."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "progress.read", campaign)
    shortlisted = session.exec(
        select(func.count()).where(Entry.campaign_id == campaign.id, Entry.status == "shortlisted")
    ).one()
    result = []
    for component in components(session, campaign.id):
        if component.kind != "panel":
            continue
        submitted = session.exec(
            select(func.count())
            .select_from(ScoreSheet)
            .join(Entry, Entry.id == ScoreSheet.entry_id)
            .where(
                Entry.campaign_id == campaign.id,
                Entry.status == "shortlisted",
                ScoreSheet.panel == component.key,
                ScoreSheet.status == "submitted",
            )
        ).one()
        reviewers = session.exec(
            select(func.count(func.distinct(Assignment.reviewer_id)))
            .join(Entry, Entry.id == Assignment.entry_id)
            .join(Account, Account.id == Assignment.reviewer_id)
            .where(Entry.campaign_id == campaign.id, Account.role == component.key)
        ).one()
        result.append(
            {
                "panel": component.key,
                "submitted": submitted,
                "needed": shortlisted * component.min_reviews,
                "reviewers": reviewers,
            }
        )
    return result


def reviewer_progress(session: Session, actor: Actor, campaign: Campaign) -> dict[str, int]:
    """A reviewer's own counts: assigned, submitted, drafts, conflicts (for 'My entries')."""
    actor, campaign = authorise_campaign(
        session, actor, can_read_own_work, "progress.own", campaign
    )
    entry_ids = {i for i in assigned_entry_ids(session, actor.account_id)}
    in_campaign = set(session.exec(select(Entry.id).where(Entry.campaign_id == campaign.id)))
    mine = entry_ids & in_campaign
    statuses = session.exec(
        select(ScoreSheet.status).where(
            ScoreSheet.reviewer_id == actor.account_id, ScoreSheet.entry_id.in_(list(mine))
        )
    ).all()  # type: ignore[union-attr]
    return {
        "assigned": len(mine),
        "submitted": statuses.count("submitted"),
        "drafts": statuses.count("draft"),
    }


@dataclass(frozen=True)
class ReviewerProgress:
    """One reviewer's work in one campaign, as the organisers' progress page lists it.

    ``last_activity`` is the latest of their sheets' saves and submissions and their
    conflict declarations in this campaign (aware UTC), None when they have done nothing
    yet. Logins are not stored per account, so a reviewer who only looked counts as idle.
    """

    account_id: int
    username: str
    name: str
    email: str
    panel: str
    assigned: int
    drafts: int
    submitted: int
    conflicts: int
    last_activity: datetime | None

    @property
    def missing(self) -> int:
        """Assigned entries not yet submitted (drafts included): what a reminder is about."""
        return max(self.assigned - self.submitted, 0)

    @property
    def behind(self) -> bool:
        return self.missing > 0


def team_progress(session: Session, actor: Actor, campaign: Campaign) -> list[ReviewerProgress]:
    """Every active reviewer with work in the campaign (assigned or conflict declared).

    Organisers only, in any state. Five queries whatever the number of reviewers: the page
    is opened while 50 reviewers save.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "progress.team", campaign)
    pairs = session.exec(
        select(Assignment.reviewer_id, Assignment.entry_id)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(Entry.campaign_id == campaign.id)
    ).all()
    assigned: dict[int, set[int]] = defaultdict(set)
    for reviewer_id, entry_id in pairs:
        assigned[reviewer_id].add(entry_id)
    latest: dict[int, datetime] = {}

    def seen(reviewer_id: int, moment: datetime | None) -> None:
        moment = stored_utc(moment)
        if moment is not None and (reviewer_id not in latest or moment > latest[reviewer_id]):
            latest[reviewer_id] = moment

    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"draft": 0, "submitted": 0})
    for reviewer_id, entry_id, status, updated_at, submitted_at in session.exec(
        select(
            ScoreSheet.reviewer_id,
            ScoreSheet.entry_id,
            ScoreSheet.status,
            ScoreSheet.updated_at,
            ScoreSheet.submitted_at,
        )
        .join(Entry, Entry.id == ScoreSheet.entry_id)
        .where(Entry.campaign_id == campaign.id)
    ).all():
        seen(reviewer_id, updated_at)
        seen(reviewer_id, submitted_at)
        if entry_id in assigned.get(reviewer_id, ()) and status in ("draft", "submitted"):
            counts[reviewer_id][status] += 1
    conflicts: dict[int, int] = defaultdict(int)
    for reviewer_id, declared_at in session.exec(
        select(ConflictDeclaration.reviewer_id, ConflictDeclaration.declared_at)
        .join(Entry, Entry.id == ConflictDeclaration.entry_id)
        .where(Entry.campaign_id == campaign.id)
    ).all():
        conflicts[reviewer_id] += 1
        seen(reviewer_id, declared_at)
    ids = set(assigned) | set(conflicts)
    accounts = (
        session.exec(
            select(Account).where(
                Account.id.in_(list(ids)),  # type: ignore[union-attr]
                Account.active,
                Account.role.in_(sorted(REVIEWER_ROLES)),  # type: ignore[attr-defined]
            )
        ).all()
        if ids
        else []
    )
    rows = [
        ReviewerProgress(
            account_id=account.id,
            username=account.username,
            name=account.display_name or account.username,
            email=(account.email or "").strip(),
            panel=account.role,
            assigned=len(assigned.get(account.id, ())),
            drafts=counts[account.id]["draft"],
            submitted=counts[account.id]["submitted"],
            conflicts=conflicts.get(account.id, 0),
            last_activity=latest.get(account.id),
        )
        for account in accounts
    ]
    return sorted(rows, key=lambda r: (r.panel, r.name, r.username))


def behind(rows: list[ReviewerProgress]) -> list[ReviewerProgress]:
    """Who has not submitted every assigned entry, most missing first (then by name)."""
    return sorted((r for r in rows if r.behind), key=lambda r: (-r.missing, r.name, r.username))


def behind_text(rows: list[ReviewerProgress], lang: str = DEFAULT_LANGUAGE) -> str:
    """The behind list as plain text, one line per reviewer, to paste into WeChat or e-mail.

    Name, e-mail (or "no e-mail"), missing count; most missing first. A line break typed
    into a name is folded into a space: one reviewer stays one line.
    """
    return "\n".join(
        translate(
            "team_progress.copy_line",
            lang,
            name=" ".join(row.name.split()),
            email=row.email or translate("team_progress.no_email", lang),
            missing=row.missing,
        )
        for row in behind(rows)
    )
