"""The organiser's home page in one read: counts, review progress, stages, method and rubrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from scoring.permissions import Actor, can_manage
from scoring.services.campaigns import components, rubric
from scoring.services.entries import campaign_counts
from scoring.services.guard import authorise_campaign
from scoring.services.progress import panel_progress
from scoring.services.stages import StageReport, beijing_now, build_report
from scoring.storage.models import Campaign, Component, Criterion


@dataclass(frozen=True)
class OverviewView:
    """What the overview shows; ``campaign`` is the row as it is now, not as the tab read it."""

    campaign: Campaign
    counts: dict[str, int]
    progress: list[dict]
    components: tuple[Component, ...]
    rubrics: dict[str, tuple[Criterion, ...]]
    """Each panel's criteria, by panel key, in the campaign's order."""
    stages: StageReport
    """The stages with their dates, the current one, and what is late (from the same counts)."""


def overview_view(
    session: Session, actor: Actor, campaign: Campaign, now: datetime | None = None
) -> OverviewView:
    """The overview page's one call (organisers only); it computes no standings.

    ``now`` (Beijing time, aware) is the time the stages are judged at; tests hold it.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "overview.read", campaign)
    parts = tuple(components(session, campaign.id))
    counts = campaign_counts(session, actor, campaign)
    progress = panel_progress(session, actor, campaign)
    return OverviewView(
        campaign=campaign,
        counts=counts,
        progress=progress,
        components=parts,
        rubrics={c.key: tuple(rubric(session, c.id)) for c in parts if c.kind == "panel"},
        stages=build_report(campaign, now or beijing_now(), progress=progress, counts=counts),
    )
