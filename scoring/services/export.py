"""Gathering the export workbook's data from the database (SPEC §5.5).

A finalised campaign exports its frozen snapshot, so a file exported a week later is the
same list; before finalising the live standings are exported and the Method sheet says
"not finalised".
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sqlmodel import Session, select

from scoring.beijing_time import in_beijing
from scoring.engine import counted_totals
from scoring.export import ExportData, build_workbook
from scoring.export.canonical import (
    VOTES_COLUMNS,
    export_data_from_content,
    final_columns,
    vote_source,
)
from scoring.export.organisations import organisations
from scoring.permissions import Actor, can_manage, can_see_standings
from scoring.services import audit
from scoring.services.campaigns import group_order, method_for
from scoring.services.finalise import active_snapshot, final_content, final_records
from scoring.services.guard import authorise_campaign, public_voting_started
from scoring.services.standings import load_frames
from scoring.settings import get_settings
from scoring.storage.models import (
    Campaign,
    Component,
    Criterion,
    Entry,
    VoteTally,
    VoteVoid,
    utcnow,
)

"""Voids are listed in the time of the campaign's voting days (PublicVote.day, SPEC §8)."""


def _criteria(session: Session, campaign: Campaign) -> pd.DataFrame:
    rows = session.exec(
        select(Component.key, Criterion.key, Criterion.name, Criterion.max_points, Criterion.step)
        .join(Component, Component.id == Criterion.component_id)
        .where(Component.campaign_id == campaign.id)
        .order_by(Component.id, Criterion.id)
    ).all()
    return pd.DataFrame(rows, columns=["panel", "criterion", "name", "max_points", "step"])


def _every_entry(session: Session, campaign: Campaign) -> pd.DataFrame:
    """Every entry of the campaign, shortlisted or not (recommending units count them all)."""
    return pd.DataFrame(
        session.exec(
            select(Entry.code, Entry.applicant, Entry.recommender, Entry.status).where(
                Entry.campaign_id == campaign.id
            )
        ).all(),
        columns=["code", "applicant", "recommender", "status"],
    )


def void_text(void: VoteVoid) -> str:
    """One void as the Votes sheet lists it: ``2026-12-01 14:00–14:10 23 votes: reason``.

    In the same words in every interface language: the text is part of the hashed content.
    """
    start, end = in_beijing(void.window_start), in_beijing(void.window_end)
    until = end.strftime("%H:%M" if end.date() == start.date() else "%Y-%m-%d %H:%M")
    votes = f"{void.votes} vote" + ("" if void.votes == 1 else "s")
    return f"{start:%Y-%m-%d %H:%M}–{until} {votes}: {void.reason}"


def _votes(session: Session, campaign: Campaign, codes: pd.Series) -> pd.DataFrame:
    """The Votes sheet of the listed entries: each tally (the engine ranks on ``votes``) and
    where it came from: the imported figure, public votes counted on top, and the voids."""
    tallies = {
        code: (votes, imported, counted)
        for code, votes, imported, counted in session.exec(
            select(Entry.code, VoteTally.votes, VoteTally.imported, VoteTally.counted)
            .join(VoteTally, VoteTally.entry_id == Entry.id)
            .where(Entry.campaign_id == campaign.id)
        )
    }
    voids: dict[str, list[VoteVoid]] = {}
    for code, void in session.exec(
        select(Entry.code, VoteVoid)
        .join(VoteVoid, VoteVoid.entry_id == Entry.id)
        .where(Entry.campaign_id == campaign.id)
        .order_by(VoteVoid.window_start, VoteVoid.id)
    ):
        voids.setdefault(code, []).append(void)
    missing = (0 if public_voting_started(campaign, utcnow()) else None, None, 0)
    rows = []
    for code in sorted(codes):
        votes, imported, counted = tallies.get(code, missing)
        own = voids.get(code, [])
        rows.append(
            {
                "code": code,
                "votes": votes,
                "source": vote_source(votes, imported, counted),
                "imported": imported,
                "public_counted": counted,
                "public_voided": sum(v.votes for v in own),
                "void_reasons": "; ".join(void_text(v) for v in own) or None,
            }
        )
    return pd.DataFrame(rows, columns=VOTES_COLUMNS, dtype=object)


def organisation_results(session: Session, actor: Actor, campaign: Campaign) -> pd.DataFrame:
    """The Organisations sheet on its own, for the page (no scores or workbook needed)."""
    records = final_records(session, actor, campaign)
    final = pd.DataFrame(records, columns=["code", "award", "composite"])
    return organisations(_every_entry(session, campaign), final)


def export_data(session: Session, actor: Actor, campaign: Campaign) -> ExportData:
    """Everything the workbook shows, for a campaign the actor may export."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "export", campaign)
    snapshot = active_snapshot(session, campaign)
    if snapshot:
        # The snapshot holds the whole export: the file is the frozen one, cell for cell.
        return export_data_from_content(
            json.loads(snapshot.content),
            exported_at=utcnow(),
            exported_by=actor.username,
            snapshot_sha256=snapshot.sha256,
        )
    return live_export_data(session, actor, campaign)


def live_export_data(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    acknowledgements: Mapping[str, str] | None = None,
) -> ExportData:
    """What the workbook shows from the live standings: what finalising freezes and hashes.

    `acknowledgements` are the reasons given for provisional awards when finalising.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "export", campaign)
    frames = load_frames(session, campaign)
    content = final_content(session, actor, campaign, frames)
    method = method_for(session, campaign)
    every = _every_entry(session, campaign)
    records = content["standings"]
    final = pd.DataFrame(
        [
            {
                "group": r["group"],
                "rank": r["rank"],
                "code": r["code"],
                "title": r["title"],
                "category": r["category"],
                "domain": r["domain"],
                **{k: (np.nan if v is None else v) for k, v in r["components"].items()},
                "composite": r["composite"],
                "award": r["award"],
                "tie": r["tie"],
                "provisional": r["provisional"],
                "override_reason": r.get("override"),
            }
            for r in records
        ]
    )
    people = every.set_index("code")
    final["applicant"] = final["code"].map(people["applicant"])
    final["recommender"] = final["code"].map(people["recommender"])
    if len(final):
        order = group_order(session, campaign, list(final["group"]))
        at = {group: index for index, group in enumerate(order)}
        final = final.assign(_at=final["group"].map(at)).sort_values(["_at", "rank", "code"])
        final = final[final_columns(method)].reset_index(drop=True)
    else:
        final = pd.DataFrame(columns=final_columns(method))
    entries, scores, criteria = frames
    totals = counted_totals(entries, scores, criteria, method)
    submitted = scores[scores["status"] == "submitted"]
    counted = submitted.merge(
        totals[["panel", "reviewer", "code", "total"]], on=["panel", "reviewer", "code"]
    ).sort_values(["panel", "code", "reviewer", "criterion"], kind="stable")
    return ExportData(
        campaign_name=campaign.name,
        campaign_slug=campaign.slug,
        year=campaign.year,
        method=method,
        final=final,
        scores=counted[["panel", "reviewer", "code", "criterion", "score", "total"]],
        votes=_votes(session, campaign, entries["code"]),
        criteria=_criteria(session, campaign),
        organisations=organisations(every, final),
        exported_at=utcnow(),
        exported_by=actor.username,
        snapshot_sha256=None,
        acknowledgements=dict(acknowledgements or {}),
    )


def export_workbook(
    session: Session, actor: Actor, campaign: Campaign, lang: str | None = None
) -> bytes:
    """The .xlsx bytes of the campaign's export (the export itself is audited).

    `lang` is the language of the winners' sheets' titles and headers (default: the
    configured one); the figures and the hash are the same in every language.
    """
    data = export_data(session, actor, campaign)
    audit.record(
        session,
        actor,
        "campaign.export",
        target=campaign.slug,
        campaign_id=campaign.id,
        new={"snapshot_sha256": data.snapshot_sha256},
    )
    return build_workbook(data, lang or get_settings().language)


def frozen_snapshot(session: Session, actor: Actor, campaign: Campaign) -> tuple[dict, str] | None:
    """The content and SHA-256 of the campaign's snapshot in force (None: not finalised).

    `reviewdesk verify --db` compares a file with it cell by cell, on the server.
    """
    actor, campaign = authorise_campaign(session, actor, can_see_standings, "final.read", campaign)
    snapshot = active_snapshot(session, campaign)
    return None if snapshot is None else (json.loads(snapshot.content), snapshot.sha256)
