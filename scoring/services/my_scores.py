"""A reviewer's own scores in one campaign: their sheets, their spread, their deadline (14.5).

Seeing one's own totals side by side helps keep one scale from the first entry to the last
(a reviewer who gave 90 on Monday and 60 for a similar entry on Friday sees it). Only the
reviewer's own sheets are read: the query is narrowed to their account, never filtered
afterwards, and organisers and other roles are refused (they have the standings). Under
blind review nothing of the applicant is read at all; code and title are what the gallery
shows a reviewer anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import fmean

from sqlmodel import Session, col, select

from scoring.beijing_time import in_beijing
from scoring.permissions import Actor, can_read_own_work
from scoring.services.campaigns import components, rubric
from scoring.services.guard import authorise_campaign
from scoring.services.review import ConflictView, own_conflicts
from scoring.services.sheets import total_of
from scoring.services.stages import (
    Stage,
    beijing_now,
    review_deadline,
    stage_timeline,
    time_left,
)
from scoring.storage.models import Campaign, Criterion, Entry, Score, ScoreSheet


@dataclass(frozen=True)
class OwnSheet:
    """One of the reviewer's sheets: total on 0–100 (None while a criterion is empty)."""

    code: str
    title: str
    status: str
    """``draft`` or ``submitted``."""
    total: float | None
    submitted_at: datetime | None
    """Beijing time, aware; None for a draft."""
    updated_at: datetime
    """Beijing time, aware."""


@dataclass(frozen=True)
class Spread:
    """The reviewer's submitted totals at a glance: how many, their mean, lowest, highest."""

    count: int
    mean: float | None
    lowest: float | None
    highest: float | None


@dataclass(frozen=True)
class MyScoresView:
    """What the own-scores page shows; ``campaign`` as it is now."""

    campaign: Campaign
    panel: str
    sheets: tuple[OwnSheet, ...]
    spread: Spread
    drafts: int
    conflicts: tuple[ConflictView, ...]
    review: Stage
    deadline: datetime | None
    """The end of the review's last day, Beijing time."""
    left: tuple[str, dict[str, int]]
    """Time left to the deadline as a message key and its numbers."""


def _spread(totals: list[float]) -> Spread:
    if not totals:
        return Spread(0, None, None, None)
    return Spread(len(totals), fmean(totals), min(totals), max(totals))


def my_scores(
    session: Session, actor: Actor, campaign: Campaign, now: datetime | None = None
) -> MyScoresView:
    """The acting reviewer's own sheets in ``campaign``, in code order (any campaign state).

    A finalised campaign still shows them, read-only, as the reviewer left them.
    """
    actor, campaign = authorise_campaign(
        session, actor, can_read_own_work, "my_scores.read", campaign
    )
    now = now or beijing_now()
    rows = session.exec(
        select(ScoreSheet, Entry.code, Entry.title)
        .join(Entry, Entry.id == ScoreSheet.entry_id)
        .where(ScoreSheet.reviewer_id == actor.account_id, Entry.campaign_id == campaign.id)
        .order_by(col(Entry.code))
    ).all()
    points: dict[int, dict[str, float]] = {}
    if rows:
        for sheet_id, key, value in session.exec(
            select(Score.sheet_id, Criterion.key, Score.points)
            .join(Criterion, Criterion.id == Score.criterion_id)
            .where(col(Score.sheet_id).in_([sheet.id for sheet, _, _ in rows]))
        ).all():
            points.setdefault(sheet_id, {})[key] = value
    rubrics = {
        c.key: rubric(session, c.id) for c in components(session, campaign.id) if c.kind == "panel"
    }
    sheets = []
    for sheet, code, title in rows:
        criteria = rubrics.get(sheet.panel, [])
        total = total_of(criteria, points.get(sheet.id, {})) if criteria else None
        submitted_at = sheet.submitted_at if sheet.status == "submitted" else None
        sheets.append(
            OwnSheet(
                code=code,
                title=title,
                status=sheet.status,
                total=total,
                submitted_at=in_beijing(submitted_at) if submitted_at else None,
                updated_at=in_beijing(sheet.updated_at),
            )
        )
    submitted = [s.total for s in sheets if s.status == "submitted" and s.total is not None]
    deadline = review_deadline(campaign)
    review = next(s for s in stage_timeline(campaign, now) if s.key == "review")
    return MyScoresView(
        campaign=campaign,
        panel=actor.role,
        sheets=tuple(sheets),
        spread=_spread(submitted),
        drafts=sum(1 for s in sheets if s.status == "draft"),
        conflicts=tuple(own_conflicts(session, actor, campaign)),
        review=review,
        deadline=deadline,
        left=time_left(deadline, now),
    )
