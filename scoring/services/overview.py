"""The organiser's home page in one read: counts, review progress, the method and the rubrics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from scoring.permissions import Actor, can_manage
from scoring.services.campaigns import components, rubric
from scoring.services.entries import campaign_counts
from scoring.services.guard import authorise_campaign
from scoring.services.progress import panel_progress
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


def overview_view(session: Session, actor: Actor, campaign: Campaign) -> OverviewView:
    """The overview page's one call (organisers only); it computes no standings."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "overview.read", campaign)
    parts = tuple(components(session, campaign.id))
    return OverviewView(
        campaign=campaign,
        counts=campaign_counts(session, actor, campaign),
        progress=panel_progress(session, actor, campaign),
        components=parts,
        rubrics={c.key: tuple(rubric(session, c.id)) for c in parts if c.kind == "panel"},
    )
