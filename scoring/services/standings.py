"""Live standings: the campaign's rows read into frames and handed to the pure engine."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import pandas as pd
from sqlmodel import Session, select

from scoring.engine import (
    Analysis,
    Method,
    analyse,
    compute_standings,
    coverage_summary,
    cut_lines,
    standings_records,
)
from scoring.permissions import Actor, can_see_standings
from scoring.services.cache import DataVersion, cached, data_version
from scoring.services.campaigns import categories, domains, group_order, method_for
from scoring.services.guard import authorise_campaign, public_voting_started
from scoring.storage.models import (
    Account,
    AuditEvent,
    Campaign,
    Category,
    Component,
    Criterion,
    Domain,
    Entry,
    Score,
    ScoreSheet,
    VoteTally,
    utcnow,
)


def load_frames(session: Session, campaign: Campaign) -> tuple[pd.DataFrame, ...]:
    """(entries, scores, criteria) of the shortlisted entries, as the engine takes them."""
    entries = pd.DataFrame(
        session.exec(
            select(
                Entry.code,
                Entry.title,
                Category.name,
                Domain.name,
                VoteTally.votes,
            )
            .join(Category, Category.id == Entry.category_id)
            .join(Domain, Domain.id == Entry.domain_id)
            .outerjoin(VoteTally, VoteTally.entry_id == Entry.id)
            .where(Entry.campaign_id == campaign.id, Entry.status == "shortlisted")
        ).all(),
        columns=["code", "title", "category", "domain", "votes"],
    )
    scores = pd.DataFrame(
        session.exec(
            select(
                ScoreSheet.panel,
                Account.username,
                Entry.code,
                Criterion.key,
                Score.points,
                ScoreSheet.status,
            )
            .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
            .join(Account, Account.id == ScoreSheet.reviewer_id)
            .join(Entry, Entry.id == ScoreSheet.entry_id)
            .join(Criterion, Criterion.id == Score.criterion_id)
            .where(Entry.campaign_id == campaign.id, Entry.status == "shortlisted")
        ).all(),
        columns=["panel", "reviewer", "code", "criterion", "score", "status"],
    )
    criteria = pd.DataFrame(
        session.exec(
            select(Component.key, Criterion.key, Criterion.max_points)
            .join(Component, Component.id == Criterion.component_id)
            .where(Component.campaign_id == campaign.id)
        ).all(),
        columns=["panel", "criterion", "max_points"],
    )
    # No tally is a missing component (provisional), not zero votes: keep it NaN, until the
    # public vote has opened (then nobody voting for an entry gives it 0).
    entries["votes"] = pd.to_numeric(entries["votes"], errors="coerce").astype("float64")
    if public_voting_started(campaign, utcnow()):
        entries["votes"] = entries["votes"].fillna(0.0)
    scores["score"] = scores["score"].astype("float64")
    criteria["max_points"] = criteria["max_points"].astype("float64")
    return entries, scores, criteria


def standings_frame(session: Session, actor: Actor, campaign: Campaign) -> pd.DataFrame:
    """The campaign's standings now (organisers only: reviewers never see them)."""
    actor, campaign = authorise_campaign(
        session, actor, can_see_standings, "standings.read", campaign
    )
    return computed_standings(session, campaign)


def computed_standings(
    session: Session,
    campaign: Campaign,
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """The one place the live standings are computed, once per campaign data version.

    Every organiser sees the same standings, so they are cached for the campaign as a whole
    (``scoring.services.cache``); the caller has checked that the actor may see them.
    `frames` are the campaign's `load_frames`, when the caller has read them already.
    """

    def compute() -> pd.DataFrame:
        entries, scores, criteria = frames or load_frames(session, campaign)
        return compute_standings(entries, scores, criteria, method_for(session, campaign))

    return cached(session, campaign, "standings", "organisers", compute)


class LiveStandings(NamedTuple):
    """What the organiser's standings page shows, from one read of the campaign."""

    analysis: Analysis
    method: Method
    coverage: pd.DataFrame
    cuts: pd.DataFrame
    group_order: list[str]
    category_order: list[str]
    domain_order: list[str]


def live_standings(session: Session, actor: Actor, campaign: Campaign) -> LiveStandings:
    """Standings, diagnostics, stability, contributions and coverage (organisers only)."""
    actor, campaign = authorise_campaign(
        session, actor, can_see_standings, "standings.read", campaign
    )

    def compute() -> LiveStandings:
        method = method_for(session, campaign)
        entries, scores, criteria = load_frames(session, campaign)
        analysis = analyse(entries, scores, criteria, method)
        category_order = [c.name for c in categories(session, campaign.id)]
        domain_order = [d.name for d in domains(session, campaign.id)]
        groups = group_order(session, campaign, analysis.standings["group"].tolist())
        return LiveStandings(
            analysis=analysis,
            method=method,
            coverage=coverage_summary(analysis.standings, method),
            cuts=cut_lines(analysis.standings),
            group_order=groups,
            category_order=category_order,
            domain_order=domain_order,
        )

    # The same for every organiser; the standings and meeting pages share it per data version.
    return cached(session, campaign, "analysis", "organisers", compute)


def standings_json_records(session: Session, actor: Actor, campaign: Campaign) -> list[dict]:
    """SPEC §5.6 objects, in group then rank order."""
    frame = standings_frame(session, actor, campaign)
    return standings_records(frame, method_for(session, campaign))


def last_change(
    session: Session, actor: Actor, campaign: Campaign
) -> tuple[DataVersion, datetime | None]:
    """The campaign's data version and the time of its newest audit event.

    Every change the standings use writes an audit event, so this is all a live page's idle
    refresh needs: it redraws only when the version moved (the same ``DataVersion`` the
    analysis is cached by), and the time it shows is when the data really changed. A few
    small queries, checked like the standings: an organiser deactivated or demoted meanwhile
    is refused on the next refresh.
    """
    actor, campaign = authorise_campaign(
        session, actor, can_see_standings, "standings.read", campaign
    )
    version = data_version(session, campaign)
    at = session.exec(select(AuditEvent.at).where(AuditEvent.id == version.newest)).first()
    return version, at
