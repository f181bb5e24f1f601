"""Review progress: how many submitted sheets each panel has against what it needs."""

from __future__ import annotations

from sqlmodel import Session, func, select

from scoring.permissions import Actor, can_manage, can_read_own_work
from scoring.services.assignments import assigned_entry_ids
from scoring.services.campaigns import components
from scoring.services.guard import authorise_campaign
from scoring.storage.models import Account, Assignment, Campaign, Entry, ScoreSheet


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
