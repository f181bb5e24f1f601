"""Entries as each role may see them, and their status (pre-check, shortlist)."""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session, col, select

from scoring.engine.groups import group_labels
from scoring.errors import NotFound, ValidationFailed
from scoring.permissions import Actor, can_change_entries, can_list_entries, can_manage
from scoring.services import audit
from scoring.services.guard import authorise_campaign
from scoring.storage.models import (
    Assignment,
    Campaign,
    Category,
    ConflictDeclaration,
    Domain,
    Entry,
    EntryAsset,
    ScoreSheet,
    VoteTally,
)


def first_images(session: Session, entry_ids: list[int]) -> dict[int, str]:
    """entry id -> SHA-256 of its first image (lowest position): the card and list picture.

    Entries without an image are absent. One query for all the entries a page shows.
    """
    firsts: dict[int, str] = {}
    if entry_ids:
        for entry_id, sha in session.exec(
            select(EntryAsset.entry_id, EntryAsset.sha256)
            .where(col(EntryAsset.entry_id).in_(entry_ids), EntryAsset.role == "image")
            .order_by(col(EntryAsset.entry_id), col(EntryAsset.position))
        ).all():
            firsts.setdefault(entry_id, sha)
    return firsts


REVIEW_STATES = ("to_score", "draft", "submitted", "conflict")


def entry_by_code(session: Session, campaign: Campaign, code: str) -> Entry:
    """The campaign's entry with this code, or NotFound naming the code."""
    entry = session.exec(
        select(Entry).where(Entry.campaign_id == campaign.id, Entry.code == code)
    ).first()
    if entry is None:
        raise NotFound("error.no_such_entry", code=code)
    return entry


def entries_frame(session: Session, actor: Actor, campaign: Campaign) -> pd.DataFrame:
    """One row per entry the actor may see: organisers all, reviewers only their assigned ones.

    For a reviewer, ``state`` is their own progress on the entry (to score / draft / submitted /
    conflict); blind review hides the applicant and recommending unit from them.
    """
    actor, campaign = authorise_campaign(session, actor, can_list_entries, "entries.list", campaign)
    query = (
        select(
            Entry.id,
            Entry.code,
            Entry.title,
            Entry.kind,
            Entry.applicant,
            Entry.recommender,
            Category.name,
            Domain.name,
            Entry.status,
        )
        .join(Category, Category.id == Entry.category_id)
        .join(Domain, Domain.id == Entry.domain_id)
        .where(Entry.campaign_id == campaign.id)
        .order_by(Entry.code)
    )
    columns = [
        "id",
        "code",
        "title",
        "kind",
        "applicant",
        "recommender",
        "category",
        "domain",
        "status",
    ]
    if actor.is_reviewer:
        query = query.join(Assignment, Assignment.entry_id == Entry.id).where(
            Assignment.reviewer_id == actor.account_id
        )
    frame = pd.DataFrame(session.exec(query).all(), columns=columns)
    if actor.is_reviewer:
        sheets = dict(
            session.exec(
                select(ScoreSheet.entry_id, ScoreSheet.status).where(
                    ScoreSheet.reviewer_id == actor.account_id
                )
            ).all()
        )
        conflicts = set(
            session.exec(
                select(ConflictDeclaration.entry_id).where(
                    ConflictDeclaration.reviewer_id == actor.account_id
                )
            )
        )
        frame["state"] = [
            "conflict"
            if i in conflicts
            else {"draft": "draft", "submitted": "submitted"}.get(sheets.get(i, ""), "to_score")
            for i in frame["id"]
        ]
        if campaign.blind_review:
            frame = frame.drop(columns=["applicant", "recommender"])
    return frame


def shortlist(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    *,
    codes: list[str] | None = None,
    all_accepted: bool = False,
) -> int:
    """Shortlist the named accepted entries (or all accepted ones); returns how many changed."""
    actor, campaign = authorise_campaign(
        session, actor, can_change_entries, "entries.shortlist", campaign
    )
    entries = {
        e.code: e for e in session.exec(select(Entry).where(Entry.campaign_id == campaign.id))
    }
    if all_accepted:
        chosen = [e for e in entries.values() if e.status == "accepted"]
    else:
        unknown = [c for c in codes or [] if c not in entries]
        if unknown:
            raise ValidationFailed("shortlist.unknown_codes", codes=", ".join(unknown))
        refused = [c for c in codes or [] if entries[c].status not in ("accepted", "shortlisted")]
        if refused:
            raise ValidationFailed("shortlist.not_accepted", codes=", ".join(refused))
        chosen = [entries[c] for c in codes or [] if entries[c].status == "accepted"]
    for entry in chosen:
        audit.record(
            session,
            actor,
            "entry.status",
            target=entry.code,
            campaign_id=campaign.id,
            old=entry.status,
            new="shortlisted",
        )
        entry.status = "shortlisted"
        session.add(entry)
    return len(chosen)


def campaign_counts(session: Session, actor: Actor, campaign: Campaign) -> dict[str, int]:
    """Entries by status and sheets by status, for the overview."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "entries.counts", campaign)
    statuses = session.exec(select(Entry.status).where(Entry.campaign_id == campaign.id)).all()
    sheets = session.exec(
        select(ScoreSheet.status)
        .join(Entry, Entry.id == ScoreSheet.entry_id)
        .where(Entry.campaign_id == campaign.id)
    ).all()
    counts = {
        status: statuses.count(status)
        for status in ("submitted", "accepted", "rejected", "shortlisted")
    }
    counts["entries"] = len(statuses)
    counts["sheets_submitted"] = sheets.count("submitted")
    counts["sheets_draft"] = sheets.count("draft")
    return counts


def top_by_votes(session: Session, actor: Actor, campaign: Campaign, per_group: int) -> list[str]:
    """Codes of the accepted (or shortlisted) entries with the most votes in each ranking group.

    A proposal for the shortlist, adjusted by hand before it is applied: entries tied with
    the last one taken are all included, so that nobody is left out by an arbitrary cut.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "entries.shortlist", campaign)
    if isinstance(per_group, bool) or not isinstance(per_group, int) or per_group < 1:
        raise ValidationFailed("shortlist.bad_top", value=str(per_group))
    rows = session.exec(
        select(Entry.code, Category.name, Domain.name, VoteTally.votes)
        .join(Category, Category.id == Entry.category_id)
        .join(Domain, Domain.id == Entry.domain_id)
        .outerjoin(VoteTally, VoteTally.entry_id == Entry.id)
        .where(
            Entry.campaign_id == campaign.id,
            col(Entry.status).in_(["accepted", "shortlisted"]),
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["code", "category", "domain", "votes"])
    frame["votes"] = frame["votes"].fillna(0).astype("int64")
    frame["group"] = group_labels(frame, campaign.rank_group)
    chosen: list[str] = []
    for _, own in frame.groupby("group", sort=True):
        own = own.sort_values(["votes", "code"], ascending=[False, True])
        if len(own) > per_group:
            floor = own["votes"].iloc[per_group - 1]
            own = own[own["votes"] >= floor]
        chosen += list(own["code"])
    return sorted(chosen)


def unshortlist(session: Session, actor: Actor, campaign: Campaign, codes: list[str]) -> int:
    """Take entries off the shortlist (back to accepted); refused once anyone scored them."""
    actor, campaign = authorise_campaign(
        session, actor, can_change_entries, "entries.unshortlist", campaign
    )
    entries = {
        e.code: e
        for e in session.exec(
            select(Entry).where(Entry.campaign_id == campaign.id, col(Entry.code).in_(codes))
        )
    }
    unknown = [c for c in codes if c not in entries]
    if unknown:
        raise ValidationFailed("shortlist.unknown_codes", codes=", ".join(unknown))
    scored = sorted(
        set(
            session.exec(
                select(Entry.code)
                .join(ScoreSheet, ScoreSheet.entry_id == Entry.id)
                .where(col(Entry.code).in_(codes), Entry.campaign_id == campaign.id)
            )
        )
    )
    if scored:
        raise ValidationFailed("shortlist.already_scored", codes=", ".join(scored))
    changed = 0
    for code in codes:
        entry = entries[code]
        if entry.status != "shortlisted":
            continue
        audit.record(
            session,
            actor,
            "entry.status",
            target=code,
            campaign_id=campaign.id,
            old="shortlisted",
            new="accepted",
        )
        entry.status = "accepted"
        session.add(entry)
        changed += 1
    return changed
