"""Editing a campaign after it was created: settings, groups, components, weights, rubric.

The definition travels as the same dictionary a campaign file (SPEC §5.1) parses to, so
the checks of `validate_campaign_data` apply unchanged. Once scoring has started, a change
of weights or rubric changes results people have already seen: it needs an explicit
confirmation, and every change is audited with its old and new value. Anything that would
orphan data is refused: a category, domain, panel or criterion still in use cannot go, and a
criterion's range or step cannot shrink below scores already given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from scoring.errors import StaleEdit, ValidationFailed
from scoring.importers.report import Report
from scoring.permissions import Actor, can_edit_setup, can_manage
from scoring.services import audit
from scoring.services.campaigns import (
    STAGE_DATES,
    categories,
    components,
    domains,
    level_problems,
    stage_dates,
    validate_campaign_data,
)
from scoring.services.guard import authorise_campaign
from scoring.services.public_settings import local_text
from scoring.storage.models import (
    AuditEvent,
    Campaign,
    Category,
    Component,
    Criterion,
    Domain,
    Entry,
    Score,
    ScoreSheet,
)

SETTINGS = (
    "name",
    "year",
    "vote_group",
    "rank_group",
    "tie_break",
    "award_quota",
    "min_images",
    "max_entries_per_applicant_per_domain",
    "blind_review",
    "comment_at_extremes",
    *STAGE_DATES,
)
COMPONENT_FIELDS = ("kind", "weight", "aggregate", "trim", "normalise", "min_reviews")
CRITERION_FIELDS = ("name", "description", "max_points", "step")
GUIDANCE_FIELDS = ("levels",)
"""What a criterion carries that changes no score: editable once scoring started without the
confirmation weights and ranges need (docs/decisions.md, "Score guidance")."""


@dataclass(frozen=True)
class SetupView:
    """What the set-up page edits: the definition, whether scoring started, and its version.

    ``version`` goes back with the edit: two organisers who loaded the same version cannot
    both save, so the second one's stale form never silently reverts the first one's change.
    """

    definition: dict[str, Any]
    scoring_started: bool
    version: int
    finalised: bool


def setup_view(session: Session, actor: Actor, campaign: Campaign) -> SetupView:
    """The campaign's editable definition as it is now; organisers only."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "campaign.read", campaign)
    return SetupView(
        definition=campaign_definition(session, campaign),
        scoring_started=scoring_started(session, campaign),
        version=setup_version(session, campaign),
        finalised=campaign.finalised_at is not None,
    )


def setup_version(session: Session, campaign: Campaign) -> int:
    """The id of the campaign's newest set-up edit in the audit log (0 before any).

    The append-only log already orders every edit, so it is the version: no counter to keep
    in step, and a raw-SQL change of the campaign row cannot fake a version.
    """
    newest = session.exec(
        select(func.max(AuditEvent.id)).where(
            AuditEvent.campaign_id == campaign.id, AuditEvent.action == "campaign.update"
        )
    ).one()
    return int(newest or 0)


def campaign_definition(session: Session, campaign: Campaign) -> dict[str, Any]:
    """The campaign as a campaign-file dictionary (callers have checked who reads it)."""
    comps = components(session, campaign.id)
    criteria = []
    for component in comps:
        for criterion in session.exec(
            select(Criterion)
            .where(Criterion.component_id == component.id)
            .order_by(col(Criterion.position), col(Criterion.id))
        ):
            criteria.append(
                {
                    "panel": component.key,
                    "key": criterion.key,
                    "name": criterion.name,
                    "description": criterion.description,
                    "max_points": criterion.max_points,
                    "step": criterion.step,
                    "levels": [dict(level) for level in criterion.levels or []],
                }
            )
    return {
        "slug": campaign.slug,
        **{name: getattr(campaign, name) for name in SETTINGS},
        "tie_break": list(campaign.tie_break),
        "categories": [c.name for c in categories(session, campaign.id)],
        "domains": [d.name for d in domains(session, campaign.id)],
        "components": [
            {
                "key": c.key,
                "kind": c.kind,
                "weight": c.weight,
                "aggregate": c.aggregate,
                "trim": c.trim,
                "normalise": c.normalise,
                "min_reviews": c.min_reviews,
            }
            for c in comps
        ],
        "criteria": criteria,
    }


def _scored_part(criteria: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The criteria without their guidance: what a change of needs confirming once scored."""
    return [{k: v for k, v in c.items() if k not in GUIDANCE_FIELDS} for c in criteria or []]


def _normalised(data: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """``data`` as ``campaign_definition`` would read it back once stored, so that only real
    changes count as changes: dates as ISO days, levels best first, and a criterion that does
    not mention its levels keeping the ones it has (an edit made before levels existed)."""
    dates = stage_dates(data, Report())
    data = {**data, **{field: dates[field] for field in STAGE_DATES if field in data}}
    if "criteria" not in data:
        return data
    had = {(c["panel"], str(c["key"])): c.get("levels", []) for c in before["criteria"]}
    criteria = []
    for crit in data["criteria"]:
        if "levels" not in crit:
            crit = {**crit, "levels": had.get((crit.get("panel"), str(crit.get("key"))), [])}
        criteria.append({**crit, "levels": level_problems(crit, "", Report())})
    return {**data, "criteria": criteria}


def scoring_started(session: Session, campaign: Campaign) -> bool:
    """Whether any reviewer has saved a sheet (draft or submitted) in the campaign."""
    return (
        session.exec(
            select(func.count(ScoreSheet.id))
            .join(Entry, Entry.id == ScoreSheet.entry_id)
            .where(Entry.campaign_id == campaign.id)
        ).one()
        > 0
    )


def _sync_names(
    session: Session, campaign: Campaign, model: type, names: list[str], column: Any
) -> list[str]:
    """Add, reorder and remove categories or domains; a name still in use cannot go."""
    rows = {r.name: r for r in session.exec(select(model).where(model.campaign_id == campaign.id))}
    wanted = [n.strip() for n in names]
    gone = [name for name in rows if name not in wanted]
    used = sorted(
        name
        for name in gone
        if session.exec(select(func.count(Entry.id)).where(column == rows[name].id)).one()
    )
    if used:
        raise ValidationFailed("setup.name_in_use", names="、".join(used))
    for name in gone:
        session.delete(rows[name])
    for position, name in enumerate(wanted):
        row = rows.get(name) or model(campaign_id=campaign.id, name=name, position=position)
        row.position = position
        session.add(row)
    return gone


def _scores_outside(session: Session, criterion: Criterion, maximum: float, step: float) -> int:
    points = session.exec(select(Score.points).where(Score.criterion_id == criterion.id)).all()
    return sum(
        1
        for p in points
        if p > maximum or not math.isclose(p / step, round(p / step), abs_tol=1e-9)
    )


def update_campaign(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    data: dict[str, Any],
    *,
    expected_version: int,
    confirmed: bool = False,
) -> list[str]:
    """Apply an edited definition; returns the names of the sections that changed.

    ``expected_version`` is the ``SetupView.version`` the edit was made on; a newer version
    means somebody saved in between, and the edit is refused whole (``StaleEdit``).
    """
    actor, campaign = authorise_campaign(
        session, actor, can_edit_setup, "campaign.update", campaign
    )
    if setup_version(session, campaign) != expected_version:
        raise StaleEdit("setup.stale", slug=campaign.slug)
    data = {**data, "slug": campaign.slug}
    # The voting window is set on its own page; it still orders against the stage dates here.
    window = {
        "vote_opens": local_text(campaign.vote_opens_at) or None,
        "vote_closes": local_text(campaign.vote_closes_at) or None,
    }
    validate_campaign_data({**data, **window}).raise_if_invalid(campaign.slug)
    before = campaign_definition(session, campaign)
    data = _normalised(data, before)
    changed = [
        section
        for section in (*SETTINGS, "categories", "domains", "components", "criteria")
        if before.get(section) != data.get(section, before.get(section))
    ]
    if not changed:
        return []
    started = scoring_started(session, campaign)
    scored_change = "components" in changed or (
        "criteria" in changed
        and _scored_part(before["criteria"]) != _scored_part(data.get("criteria"))
    )
    if started and not confirmed and scored_change:
        raise ValidationFailed("setup.confirm_needed")

    for name in SETTINGS:
        if name in data:
            value = data[name]
            setattr(campaign, name, value.strip() if isinstance(value, str) else value)
    campaign.tie_break = list(data.get("tie_break", campaign.tie_break))
    session.add(campaign)
    _sync_names(session, campaign, Category, data["categories"], Entry.category_id)
    _sync_names(session, campaign, Domain, data["domains"], Entry.domain_id)

    existing = {c.key: c for c in components(session, campaign.id)}
    wanted = {c["key"]: c for c in data["components"]}
    if set(existing) != set(wanted) and started:
        raise ValidationFailed("setup.components_fixed")
    for key in set(existing) - set(wanted):
        for criterion in session.exec(
            select(Criterion).where(Criterion.component_id == existing[key].id)
        ):
            session.delete(criterion)
        session.delete(existing[key])
    session.flush()
    rows: dict[str, Component] = {}
    for position, comp in enumerate(data["components"]):
        row = existing.get(comp["key"]) or Component(
            campaign_id=campaign.id, key=comp["key"], kind=comp["kind"], weight=0.0
        )
        if row.id is not None and row.kind != comp["kind"]:
            raise ValidationFailed("setup.kind_fixed", component=comp["key"])
        row.kind = comp["kind"]
        row.weight = float(comp["weight"])
        row.aggregate = comp.get("aggregate", "mean")
        row.trim = int(comp.get("trim", 1))
        row.normalise = comp.get("normalise", "none")
        row.min_reviews = int(comp.get("min_reviews", 3))
        row.position = position
        session.add(row)
        rows[row.key] = row
    session.flush()

    for panel, row in rows.items():
        if row.kind != "panel":
            continue
        current = {
            c.key: c
            for c in session.exec(select(Criterion).where(Criterion.component_id == row.id))
        }
        wanted_criteria = [c for c in data.get("criteria") or [] if c["panel"] == panel]
        keep = {str(c["key"]) for c in wanted_criteria}
        for key, criterion in current.items():
            if key in keep:
                continue
            if session.exec(
                select(func.count(Score.id)).where(Score.criterion_id == criterion.id)
            ).one():
                raise ValidationFailed("setup.criterion_in_use", panel=panel, criterion=key)
            session.delete(criterion)
        for position, crit in enumerate(wanted_criteria):
            key = str(crit["key"])
            maximum, step = float(crit["max_points"]), float(crit.get("step", 1))
            criterion = current.get(key)
            if criterion is not None and _scores_outside(session, criterion, maximum, step):
                raise ValidationFailed(
                    "setup.scores_outside",
                    panel=panel,
                    criterion=key,
                    maximum=f"{maximum:g}",
                    step=f"{step:g}",
                )
            criterion = criterion or Criterion(
                component_id=row.id, key=key, name="", max_points=maximum
            )
            criterion.name = str(crit["name"]).strip()
            criterion.description = str(crit.get("description", "")).strip()
            criterion.max_points, criterion.step, criterion.position = maximum, step, position
            criterion.levels = level_problems(crit, "", Report())
            session.add(criterion)
    audit.record(
        session,
        actor,
        "campaign.update",
        target=campaign.slug,
        campaign_id=campaign.id,
        old={s: before.get(s) for s in changed},
        new={s: data.get(s) for s in changed},
    )
    return changed
