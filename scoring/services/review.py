"""What a reviewer works with: the gallery, one entry with its files, and their score sheet.

Every function checks on the server side that the actor may see the entry (organisers all,
reviewers only their assigned entries), so a reviewer who types another entry's code into
the URL gets a refusal, not the entry. Blind review hides the applicant and recommending unit
from reviewers here, once, rather than in each page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlmodel import Session, col, select

from scoring.errors import PermissionDenied, ValidationFailed
from scoring.permissions import (
    Actor,
    can_declare_conflict,
    can_read_entry,
    can_read_own_sheet,
    can_read_own_work,
)
from scoring.services import audit
from scoring.services.campaigns import panel_component, rubric
from scoring.services.entries import entries_frame, entry_by_code, first_images
from scoring.services.guard import authorise, authorise_campaign
from scoring.services.sheets import (
    find_sheet,
    is_conflicted,
    sheet_comments,
    sheet_points,
    total_of,
)
from scoring.storage.models import (
    Assignment,
    Campaign,
    Category,
    ConflictDeclaration,
    Domain,
    Entry,
    EntryAsset,
    MeetingRound,
    Score,
    ScoreSheet,
)

#: States in which a reviewer still has work to do on an entry, in "next entry" order.
OPEN_STATES = ("to_score", "draft")


@dataclass(frozen=True)
class AssetView:
    """One stored file of an entry, as the entry page lists it."""

    sha256: str
    filename: str
    mime: str
    size_bytes: int


@dataclass(frozen=True)
class EntryView:
    """An entry as the actor may see it (applicant and recommender None under blind review)."""

    id: int
    code: str
    title: str
    kind: str
    applicant: str | None
    recommender: str | None
    category: str
    domain: str
    summary: str
    status: str
    images: list[AssetView] = field(default_factory=list)
    materials: list[AssetView] = field(default_factory=list)


@dataclass(frozen=True)
class CriterionView:
    """A criterion as the score sheet shows it; ``levels`` are its descriptors, best first
    (``{"label", "low", "high"}``), guidance beside the input that changes no score."""

    key: str
    name: str
    description: str
    max_points: float
    step: float
    levels: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class SheetView:
    """A reviewer's sheet for one entry and whether they may still change it.

    ``version`` is what the browser sends back on save, so a save from a stale tab is refused
    instead of silently overwriting a newer one. ``spread`` holds the panel's anonymised
    totals for the entry while a review-meeting round is open and this reviewer has
    submitted; otherwise it is None. ``comments`` are the per-criterion comments by key;
    ``comment_at_extremes`` says whether a submission needs them where ``needs_comment`` says.
    """

    entry_id: int
    panel: str
    criteria: list[CriterionView]
    points: dict[str, float]
    comment: str
    status: str  # "new" | "draft" | "submitted"
    version: int
    locked: bool
    lock_reason: str
    finalised: bool
    spread: list[float] | None
    comments: dict[str, str] = field(default_factory=dict)
    comment_at_extremes: bool = False

    @property
    def editable(self) -> bool:
        return not self.locked and not self.finalised

    @property
    def total(self) -> float | None:
        """The 0..100 total of the saved points (None while a criterion is empty)."""
        maxima = {c.key: c.max_points for c in self.criteria}
        if any(self.points.get(k) is None for k in maxima):
            return None
        return 100.0 * sum(self.points[k] for k in maxima) / sum(maxima.values())


def _assets(session: Session, entry_id: int, role: str) -> list[AssetView]:
    rows = session.exec(
        select(EntryAsset)
        .where(EntryAsset.entry_id == entry_id, EntryAsset.role == role)
        .order_by(col(EntryAsset.position))
    ).all()
    return [AssetView(a.sha256, a.filename, a.mime, a.size_bytes) for a in rows]


def gallery(session: Session, actor: Actor, campaign: Campaign) -> pd.DataFrame:
    """The entries the actor may see, with their first image's hash (None without images).

    Columns as ``entries_frame`` plus ``image``.
    """
    frame = entries_frame(session, actor, campaign)
    ids = [int(i) for i in frame["id"]]
    firsts = first_images(session, ids)
    # object dtype keeps "no image" as None (a str column would turn it into a truthy NaN)
    frame["image"] = pd.Series([firsts.get(int(i)) for i in frame["id"]], dtype=object)
    return frame


def entry_view(session: Session, actor: Actor, campaign: Campaign, code: str) -> EntryView:
    """One entry with its images and materials, if the actor may see it.

    A reviewer who declared a conflict on the entry is told so in words: the declaration
    removed their assignment, and "not allowed (entry.view)" would not say why.
    """
    entry = entry_by_code(session, campaign, code)
    try:
        done = authorise(session, actor, can_read_entry, "entry.view", entry=entry)
    except PermissionDenied:
        if actor.account_id is not None and is_conflicted(session, actor.account_id, entry.id):
            raise PermissionDenied("sheet_safety.conflicted_entry", code=entry.code) from None
        raise
    actor, campaign, entry = done.actor, done.campaign, done.entry
    category = session.get(Category, entry.category_id)
    domain = session.get(Domain, entry.domain_id)
    hidden = actor.is_reviewer and campaign.blind_review
    return EntryView(
        id=entry.id,
        code=entry.code,
        title=entry.title,
        kind=entry.kind,
        applicant=None if hidden else entry.applicant,
        recommender=None if hidden else entry.recommender,
        category=category.name if category else "",
        domain=domain.name if domain else "",
        summary=entry.summary,
        status=entry.status,
        images=_assets(session, entry.id, "image"),
        materials=_assets(session, entry.id, "material"),
    )


def _open_round(session: Session, entry_id: int) -> MeetingRound | None:
    return session.exec(
        select(MeetingRound).where(
            MeetingRound.entry_id == entry_id, col(MeetingRound.closed_at).is_(None)
        )
    ).first()


def _panel_spread(session: Session, entry_id: int, panel: str) -> list[float]:
    """The submitted totals of one panel for one entry, sorted, without names."""
    entry = session.get(Entry, entry_id)
    component = panel_component(session, entry.campaign_id, panel)
    if component is None:
        return []
    criteria = rubric(session, component.id)
    totals = []
    for sheet in session.exec(
        select(ScoreSheet).where(
            ScoreSheet.entry_id == entry_id,
            ScoreSheet.panel == panel,
            ScoreSheet.status == "submitted",
        )
    ).all():
        total = total_of(criteria, sheet_points(session, sheet))
        if total is not None:
            totals.append(total)
    return sorted(totals)


def sheet_view(session: Session, actor: Actor, campaign: Campaign, code: str) -> SheetView:
    """The actor's own sheet for an entry assigned to them (a reviewer only)."""
    entry = entry_by_code(session, campaign, code)
    done = authorise(session, actor, can_read_own_sheet, "sheet.view", entry=entry)
    actor, campaign, entry, component = done.actor, done.campaign, done.entry, done.component
    if component is None:
        raise ValidationFailed("sheet.no_panel", panel=actor.role)
    criteria = [
        CriterionView(c.key, c.name, c.description, c.max_points, c.step, list(c.levels or []))
        for c in rubric(session, component.id)
    ]
    sheet = find_sheet(session, actor.account_id, entry.id)
    status = sheet.status if sheet else "new"
    spread = None
    if status == "submitted" and _open_round(session, entry.id) is not None:
        spread = _panel_spread(session, entry.id, component.key)
    return SheetView(
        entry_id=entry.id,
        panel=component.key,
        criteria=criteria,
        points=sheet_points(session, sheet) if sheet else {},
        comment=(sheet.comment or "") if sheet else "",
        status=status,
        version=sheet.version if sheet else 0,
        locked=component.locked,
        lock_reason=component.lock_reason or "",
        finalised=campaign.finalised_at is not None,
        spread=spread,
        comments=sheet_comments(session, sheet) if sheet else {},
        comment_at_extremes=bool(campaign.comment_at_extremes),
    )


def next_to_score(
    session: Session, actor: Actor, campaign: Campaign, after_code: str | None
) -> str | None:
    """The next assigned entry (in code order, wrapping) still to score or in draft."""
    frame = entries_frame(session, actor, campaign)
    if "state" not in frame:
        return None
    codes = [c for c, s in zip(frame["code"], frame["state"], strict=True) if s in OPEN_STATES]
    codes = [c for c in codes if c != after_code]
    if not codes:
        return None
    later = [c for c in codes if after_code is None or c > after_code]
    return (later or codes)[0]


def declare_conflict(
    session: Session, actor: Actor, campaign: Campaign, code: str, reason: str
) -> None:
    """A reviewer declares a conflict of interest on an entry assigned to them.

    The entry leaves their list and the scoring: the assignment and any sheet of theirs are
    removed (the audit log keeps the sheet's points), and the declaration keeps automatic
    assignment from ever giving them the entry again.
    """
    done = authorise(
        session,
        actor,
        can_declare_conflict,
        "conflict.declare",
        entry=entry_by_code(session, campaign, code),
    )
    actor, campaign, entry = done.actor, done.campaign, done.entry
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("conflict.reason_required")
    if is_conflicted(session, actor.account_id, entry.id):
        return
    sheet = find_sheet(session, actor.account_id, entry.id)
    if sheet is not None:
        audit.record(
            session,
            actor,
            "sheet.withdrawn",
            target=f"{entry.code}/{actor.username}",
            campaign_id=campaign.id,
            old={"status": sheet.status, "points": sheet_points(session, sheet)},
            new=None,
        )
        for score in session.exec(select(Score).where(Score.sheet_id == sheet.id)).all():
            session.delete(score)
        session.delete(sheet)
    for assignment in session.exec(
        select(Assignment).where(
            Assignment.entry_id == entry.id, Assignment.reviewer_id == actor.account_id
        )
    ).all():
        session.delete(assignment)
    session.add(ConflictDeclaration(entry_id=entry.id, reviewer_id=actor.account_id, reason=reason))
    audit.record(
        session,
        actor,
        "conflict.declare",
        target=f"{entry.code}/{actor.username}",
        campaign_id=campaign.id,
        new={"reason": reason},
    )


@dataclass(frozen=True)
class ConflictView:
    """One conflict the reviewer declared, for their own progress page."""

    code: str
    title: str
    reason: str
    declared_at: datetime


def own_conflicts(session: Session, actor: Actor, campaign: Campaign) -> list[ConflictView]:
    """The conflicts the reviewer declared in this campaign, by code.

    Declared entries leave the reviewer's list, so without this they would simply vanish;
    the reviewer sees here what they declared and why.
    """
    actor, campaign = authorise_campaign(
        session, actor, can_read_own_work, "conflict.list", campaign
    )
    rows = session.exec(
        select(Entry.code, Entry.title, ConflictDeclaration.reason, ConflictDeclaration.declared_at)
        .join(Entry, Entry.id == ConflictDeclaration.entry_id)
        .where(
            ConflictDeclaration.reviewer_id == actor.account_id,
            Entry.campaign_id == campaign.id,
        )
        .order_by(col(Entry.code))
    ).all()
    return [ConflictView(code, title, reason or "", at) for code, title, reason, at in rows]
