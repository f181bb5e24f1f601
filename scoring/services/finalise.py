"""Decisions before finalising, the frozen final list, and panel locks (SPEC §2.7, §3 Awards).

Organisers decide every tie across an award cut line, may apply committee overrides (grant
or revoke an award, change a group's quota) with a written reason, lock the panels, and
finalise: the standings are frozen as a snapshot whose SHA-256 is taken over canonical JSON,
so anyone can later check that an exported list is the one that was frozen. A finalised
campaign's results never change; withdrawing the snapshot needs an organiser and a reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlmodel import Session, col, select

from scoring.engine import Method, method_to_dict, standings_records
from scoring.errors import Names, ValidationFailed
from scoring.export.canonical import canonical_json, export_content, frozen_records
from scoring.permissions import (
    Actor,
    can_decide_awards,
    can_finalise,
    can_lock_panel,
    can_manage,
    can_see_standings,
    can_withdraw,
)
from scoring.services import audit
from scoring.services.campaigns import components, method_for
from scoring.services.entries import entry_by_code
from scoring.services.guard import authorise_campaign
from scoring.services.standings import computed_standings, standings_frame
from scoring.storage.models import (
    AwardDecision,
    Campaign,
    Component,
    Entry,
    FinalSnapshot,
    GroupQuota,
    utcnow,
)


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("final.reason_required")
    return reason


def pending_decisions(session: Session, actor: Actor, campaign: Campaign) -> pd.DataFrame:
    """Every tie across a cut line and every provisional entry holding an award.

    Columns: kind ("cutline_tie" | "provisional_award"), group, code, title, rank,
    composite, award, decided (a tie decision or an override exists), override.
    Only undecided cut-line ties block finalising; provisional awards are listed so that the
    committee looks at them, and may revoke with an override.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "final.pending", campaign)
    return _pending(standings_frame(session, actor, campaign), method_for(session, campaign))


def _pending(frame: pd.DataFrame, method: Method) -> pd.DataFrame:
    """``pending_decisions`` from standings already computed (one computation per view)."""
    decided = set(method.tie_decisions) | {o.code for o in method.overrides}
    ties = frame[frame["tie_at_cutline"]].assign(kind="cutline_tie")
    provisional = frame[frame["provisional"] & frame["award"] & ~frame["tie_at_cutline"]].assign(
        kind="provisional_award"
    )
    rows = pd.concat([ties, provisional], ignore_index=True)
    rows["decided"] = rows["code"].isin(decided)
    columns = ["kind", "group", "code", "title", "rank", "composite", "award", "decided"]
    return rows[[*columns, "override"]] if len(rows) else pd.DataFrame(columns=columns)


def _refusal(panels: list[Component], pending: pd.DataFrame) -> ValidationFailed | None:
    """Why finalising would be refused now (a panel open, a cut-line tie undecided), or None.

    One rule for ``finalise`` and for the confirmation that shows it before anyone presses.
    """
    open_panels = [c.key for c in panels if c.kind == "panel" and not c.locked]
    if open_panels:
        return ValidationFailed("final.panels_open", panels=Names("panel", tuple(open_panels)))
    undecided = pending[(pending["kind"] == "cutline_tie") & ~pending["decided"]]
    if len(undecided):
        return ValidationFailed("final.undecided_ties", codes=", ".join(undecided["code"]))
    return None


@dataclass(frozen=True)
class FinalState:
    """The snapshot in force, as every organiser page announces it."""

    finalised_at: datetime
    finalised_by: str
    sha256: str


@dataclass(frozen=True)
class GroupAwards:
    """One ranking group as the final list would freeze it: its quota and its winners."""

    group: str
    quota: int
    winners: tuple[tuple[str, str], ...]
    """(code, title) of each entry holding the award, in rank order."""


@dataclass(frozen=True)
class Decision:
    """A committee decision that the freeze carries: a tie decision or an override."""

    code: str
    title: str
    award: bool
    reason: str


@dataclass(frozen=True)
class FinalisePreview:
    """Everything the finalise page shows, and what finalising now would freeze, in one read.

    ``refusal`` is what ``finalise`` would refuse with before any acknowledgement is looked
    at; ``provisional`` lists the awards that each need a reason (code, title, group).
    """

    final: FinalState | None
    panels: tuple[Component, ...]
    standings: pd.DataFrame
    pending: pd.DataFrame
    groups: tuple[GroupAwards, ...]
    provisional: tuple[tuple[str, str, str], ...]
    overrides: tuple[Decision, ...]
    ties: tuple[Decision, ...]
    refusal: ValidationFailed | None


def finalise_preview(session: Session, actor: Actor, campaign: Campaign) -> FinalisePreview:
    """The finalise page's one read: locks, pending decisions, and what a freeze would hold."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "final.pending", campaign)
    frame = standings_frame(session, actor, campaign)
    method = method_for(session, campaign)
    pending = _pending(frame, method)
    panels = tuple(c for c in components(session, campaign.id) if c.kind == "panel")
    titles = dict(zip(frame["code"], frame["title"], strict=True))
    groups = tuple(
        GroupAwards(
            group=str(group),
            quota=int(rows["quota"].iloc[0]),
            winners=tuple(
                (str(r["code"]), str(r["title"]))
                for r in rows[rows["award"]].sort_values(["rank", "code"]).to_dict("records")
            ),
        )
        for group, rows in frame.groupby("group", sort=False)
    )
    provisional = pending[pending["kind"] == "provisional_award"]
    decisions = session.exec(
        select(AwardDecision, Entry.code)
        .join(Entry, Entry.id == AwardDecision.entry_id)
        .where(AwardDecision.campaign_id == campaign.id)
        .order_by(Entry.code)
    ).all()

    def listed(kind: str) -> tuple[Decision, ...]:
        return tuple(
            Decision(code, titles.get(code, ""), d.award, d.reason)
            for d, code in decisions
            if d.kind == kind
        )

    return FinalisePreview(
        final=_final_state(session, campaign),
        panels=panels,
        standings=frame,
        pending=pending,
        groups=groups,
        provisional=tuple(
            zip(provisional["code"], provisional["title"], provisional["group"], strict=True)
        ),
        overrides=listed("override"),
        ties=listed("tie"),
        refusal=_refusal(list(panels), pending),
    )


@dataclass(frozen=True)
class FinaliseView:
    """The finalise page's one read: the preview, and the recommending units' results."""

    preview: FinalisePreview
    organisations: pd.DataFrame
    """The Organisations sheet: recommender, recommended, shortlisted, awarded, mean_composite."""


def finalise_view(session: Session, actor: Actor, campaign: Campaign) -> FinaliseView:
    """Everything the finalise page shows, with the standings computed once for all of it.

    The units' results and a later export read the same standings from the cache of this
    data version (``scoring.services.cache``) instead of computing them again.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "final.pending", campaign)
    # The export module reads this module's snapshot, so it is imported here, not above.
    from scoring.services.export import organisation_results

    preview = finalise_preview(session, actor, campaign)
    return FinaliseView(preview, organisation_results(session, actor, campaign))


def final_state(session: Session, actor: Actor, campaign: Campaign) -> FinalState | None:
    """When, by whom and under which SHA-256 the campaign was finalised; None when it is not."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "final.read", campaign)
    return _final_state(session, campaign)


def _final_state(session: Session, campaign: Campaign) -> FinalState | None:
    snapshot = active_snapshot(session, campaign)
    if snapshot is None:
        return None
    return FinalState(snapshot.created_at, snapshot.created_by, snapshot.sha256)


def _upsert_decision(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    entry: Entry,
    kind: str,
    award: bool,
    reason: str,
) -> None:
    existing = session.exec(
        select(AwardDecision).where(AwardDecision.entry_id == entry.id, AwardDecision.kind == kind)
    ).first()
    old = {"award": existing.award, "reason": existing.reason} if existing else None
    decision = existing or AwardDecision(
        campaign_id=campaign.id,
        entry_id=entry.id,
        kind=kind,
        award=award,
        reason=reason,
        decided_by=actor.username,
    )
    decision.award, decision.reason = award, reason
    decision.decided_by, decision.decided_at = actor.username, utcnow()
    session.add(decision)
    audit.record(
        session,
        actor,
        f"award.{kind}",
        target=entry.code,
        campaign_id=campaign.id,
        old=old,
        new={"award": award, "reason": reason},
    )


def decide_tie(
    session: Session, actor: Actor, campaign: Campaign, code: str, award: bool, reason: str
) -> None:
    """Record whether an entry in a cut-line tie gets the award."""
    actor, campaign = authorise_campaign(
        session, actor, can_decide_awards, "final.decide_tie", campaign
    )
    reason = _reason(reason)
    frame = standings_frame(session, actor, campaign)
    row = frame[frame["code"] == code]
    if row.empty or not bool(row["tie_at_cutline"].iloc[0]):
        raise ValidationFailed("final.not_a_cutline_tie", code=code)
    _upsert_decision(
        session, actor, campaign, entry_by_code(session, campaign, code), "tie", award, reason
    )


def set_override(
    session: Session, actor: Actor, campaign: Campaign, code: str, award: bool, reason: str
) -> None:
    """A committee decision to grant or revoke one entry's award (shown as an override)."""
    actor, campaign = authorise_campaign(
        session, actor, can_decide_awards, "final.override", campaign
    )
    entry = entry_by_code(session, campaign, code)
    if entry.status != "shortlisted":
        raise ValidationFailed("final.not_shortlisted", code=code)
    _upsert_decision(session, actor, campaign, entry, "override", award, _reason(reason))


def clear_override(
    session: Session, actor: Actor, campaign: Campaign, code: str, reason: str
) -> None:
    """Withdraw a committee override; the entry's award follows the rules again."""
    actor, campaign = authorise_campaign(
        session, actor, can_decide_awards, "final.override", campaign
    )
    reason = _reason(reason)
    entry = entry_by_code(session, campaign, code)
    existing = session.exec(
        select(AwardDecision).where(
            AwardDecision.entry_id == entry.id, AwardDecision.kind == "override"
        )
    ).first()
    if existing is None:
        return
    audit.record(
        session,
        actor,
        "award.override_cleared",
        target=code,
        campaign_id=campaign.id,
        old={"award": existing.award, "reason": existing.reason},
        new={"reason": reason},
    )
    session.delete(existing)


def set_group_quota(
    session: Session, actor: Actor, campaign: Campaign, group: str, quota: int, reason: str
) -> None:
    """Change one ranking group's award quota, with the committee's reason."""
    actor, campaign = authorise_campaign(session, actor, can_decide_awards, "final.quota", campaign)
    reason = _reason(reason)
    if isinstance(quota, bool) or not isinstance(quota, int) or quota < 0:
        raise ValidationFailed("final.bad_quota", quota=str(quota))
    groups = set(standings_frame(session, actor, campaign)["group"])
    if group not in groups:
        raise ValidationFailed("final.unknown_group", group=group)
    existing = session.exec(
        select(GroupQuota).where(
            GroupQuota.campaign_id == campaign.id, GroupQuota.group_label == group
        )
    ).first()
    old = existing.quota if existing else campaign.award_quota
    row = existing or GroupQuota(campaign_id=campaign.id, group_label=group, quota=quota)
    row.quota, row.reason = quota, reason
    session.add(row)
    audit.record(
        session,
        actor,
        "award.quota",
        target=group,
        campaign_id=campaign.id,
        old=old,
        new={"quota": quota, "reason": reason},
    )


def set_panel_lock(
    session: Session, actor: Actor, campaign: Campaign, panel: str, locked: bool, reason: str
) -> None:
    """Lock a panel (no more edits anywhere) or unlock it, with a reason."""
    actor, campaign = authorise_campaign(session, actor, can_lock_panel, "panel.lock", campaign)
    reason = _reason(reason)
    component = session.exec(
        select(Component).where(
            Component.campaign_id == campaign.id,
            Component.key == panel,
            Component.kind == "panel",
        )
    ).first()
    if component is None:
        raise ValidationFailed("sheet.no_panel", panel=panel)
    old = {"locked": component.locked, "reason": component.lock_reason}
    component.locked, component.lock_reason = locked, reason
    session.add(component)
    audit.record(
        session,
        actor,
        "panel.lock" if locked else "panel.unlock",
        target=panel,
        campaign_id=campaign.id,
        old=old,
        new={"locked": locked, "reason": reason},
    )


def final_content(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    frames: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """What a snapshot freezes: the campaign, its method, and every standings record.

    `frames` are the campaign's `load_frames`, when the caller has read them already.
    """
    actor, campaign = authorise_campaign(session, actor, can_see_standings, "final.read", campaign)
    method = method_for(session, campaign)
    frame = computed_standings(session, campaign, frames)
    records = standings_records(frame, method)
    reasons = dict(zip(frame["code"], frame["override"], strict=True))
    for record in records:
        record["override"] = reasons.get(record["code"])
    return {
        "campaign": {"slug": campaign.slug, "name": campaign.name, "year": campaign.year},
        "method": method_to_dict(method),
        "standings": records,
    }


def finalise(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    acknowledgements: Mapping[str, str] | None = None,
) -> FinalSnapshot:
    """Freeze the standings; refused while a cut-line tie is undecided or a panel is open.

    Every provisional award (too few reviews, or a component missing) must be acknowledged
    with a reason in ``acknowledgements`` (code -> reason), or revoked by an override first:
    a committee that finalises eight provisional awards without a word has not decided them.
    The campaign row is taken exclusively, so no change of what feeds the result can commit
    between the standings read here and the freeze.
    """
    actor, campaign = authorise_campaign(
        session, actor, can_finalise, "final.finalise", campaign, exclusive=True
    )
    pending = pending_decisions(session, actor, campaign)
    refusal = _refusal(components(session, campaign.id), pending)
    if refusal is not None:
        raise refusal
    acknowledged = _checked_acknowledgements(pending, acknowledgements or {})
    # The export module reads this module's snapshot, so it is imported here, not above.
    from scoring.services.export import live_export_data

    # The snapshot is the whole export's canonical content, so that its hash can be
    # recomputed from an exported file's own sheets (scoring/export/canonical.py).
    content = canonical_json(
        export_content(live_export_data(session, actor, campaign, acknowledged))
    )
    snapshot = FinalSnapshot(
        campaign_id=campaign.id,
        content=content,
        sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
        created_by=actor.username,
    )
    session.add(snapshot)
    campaign.finalised_at = utcnow()
    session.add(campaign)
    session.flush()
    audit.record(
        session,
        actor,
        "campaign.finalise",
        target=campaign.slug,
        campaign_id=campaign.id,
        new={"sha256": snapshot.sha256, "acknowledgements": acknowledged},
    )
    return snapshot


def _checked_acknowledgements(
    pending: pd.DataFrame, acknowledgements: Mapping[str, str]
) -> dict[str, str]:
    """Each provisional award's reason; refuse a missing one or one for another entry."""
    provisional = set(pending.loc[pending["kind"] == "provisional_award", "code"])
    stray = sorted(set(acknowledgements) - provisional)
    if stray:
        raise ValidationFailed("final.not_provisional_award", codes=", ".join(stray))
    given = {code: (reason or "").strip() for code, reason in acknowledgements.items()}
    missing = sorted(code for code in provisional if not given.get(code))
    if missing:
        raise ValidationFailed("final.unacknowledged_provisional", codes=", ".join(missing))
    return {code: given[code] for code in sorted(provisional)}


def active_snapshot(session: Session, campaign: Campaign) -> FinalSnapshot | None:
    """The snapshot in force (None when the campaign is not finalised)."""
    return session.exec(
        select(FinalSnapshot)
        .where(FinalSnapshot.campaign_id == campaign.id, col(FinalSnapshot.withdrawn_at).is_(None))
        .order_by(col(FinalSnapshot.id).desc())
    ).first()


def unfinalise(session: Session, actor: Actor, campaign: Campaign, reason: str) -> None:
    """Withdraw the snapshot (kept, marked withdrawn) so results may change again."""
    actor, campaign = authorise_campaign(
        session, actor, can_withdraw, "final.unfinalise", campaign, exclusive=True
    )
    reason = _reason(reason)
    snapshot = active_snapshot(session, campaign)
    if snapshot is not None:
        snapshot.withdrawn_at, snapshot.withdrawn_reason = utcnow(), reason
        session.add(snapshot)
    campaign.finalised_at = None
    session.add(campaign)
    # The public notice names this snapshot: it goes down in the same transaction, and a
    # new finalisation is not public until somebody publishes it again.
    from scoring.services.notice import _take_down

    _take_down(session, actor, campaign, reason, "campaign.notice_withdraw")
    audit.record(
        session,
        actor,
        "campaign.unfinalise",
        target=campaign.slug,
        campaign_id=campaign.id,
        old={"sha256": snapshot.sha256 if snapshot else None},
        new={"reason": reason},
    )


def final_records(session: Session, actor: Actor, campaign: Campaign) -> list[dict[str, Any]]:
    """The final list: the frozen records of a finalised campaign, else the live ones."""
    actor, campaign = authorise_campaign(session, actor, can_see_standings, "final.read", campaign)
    snapshot = active_snapshot(session, campaign)
    if snapshot is not None:
        return frozen_records(json.loads(snapshot.content))
    return final_content(session, actor, campaign)["standings"]
