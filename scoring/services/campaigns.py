"""Campaigns: created from a TOML file (SPEC §5.1) or the UI, read back as an engine Method."""

from __future__ import annotations

import math
import re
import tomllib
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from sqlmodel import Session, col, select

from scoring.engine.analysis import ordered_groups
from scoring.engine.method import Component as MethodComponent
from scoring.engine.method import Method, Override
from scoring.errors import Names, NotFound, ValidationFailed
from scoring.importers.report import Report
from scoring.permissions import Actor, can_list_entries, can_manage
from scoring.services import audit
from scoring.services.guard import authorise
from scoring.services.public_settings import campaign_file_settings
from scoring.storage.models import (
    GROUPINGS,
    PANEL_ROLES,
    Assignment,
    AwardDecision,
    Campaign,
    Category,
    Component,
    Criterion,
    Domain,
    Entry,
    GroupQuota,
)

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9\-]{1,63}$")
AGGREGATES = ("mean", "trimmed", "median")
NORMALISATIONS = ("none", "zscore")
STAGE_DATES = (
    "intake_opens_on",
    "intake_closes_on",
    "review_opens_on",
    "review_closes_on",
    "announce_on",
)
"""The campaign's stage dates (a day each, ISO ``2020-11-02``), in the order the stages run."""
LEVEL_LABEL_LENGTH = 12
"""A level's label sits beside a number box on a phone: 优, 良好, "very good", not a sentence."""
MAX_LEVELS = 10


def _is_multiple(value: float, step: float) -> bool:
    ratio = value / step
    return math.isclose(ratio, round(ratio), abs_tol=1e-9)


def _names(value: Any, field: str, report: Report) -> list[str]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        report.add("campaign.need_names", column=field)
        return []
    names = [v.strip() for v in value]
    if len(set(names)) != len(names):
        report.add("campaign.duplicate_names", column=field)
    return names


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def level_problems(crit: dict[str, Any], where: str, report: Report) -> list[dict[str, Any]]:
    """A criterion's level descriptors checked into ``report``; the levels best first.

    Each level is ``{label, low, high}``: a short, non-empty label and a range inside
    0..max_points on the criterion's step, ``low <= high``, no two ranges overlapping (gaps are
    allowed: a descriptor is guidance, not a rule). Every message names the criterion and the
    level. The levels are kept best first (highest range first), whatever order they came in.
    """
    levels = crit.get("levels")
    if levels is None:
        return []
    name = str(crit.get("name") or crit.get("key") or where)
    column = f"{where}.levels"
    if not isinstance(levels, list) or not all(isinstance(level, dict) for level in levels):
        report.add("guidance.levels_not_list", column=column, criterion=name)
        return []
    if len(levels) > MAX_LEVELS:
        report.add("guidance.too_many_levels", column=column, criterion=name, most=MAX_LEVELS)
    maximum, step = crit.get("max_points"), crit.get("step", 1)
    ranged = _number(maximum) and maximum > 0 and _number(step) and step > 0
    good: list[dict[str, Any]] = []
    labels: set[str] = set()
    for index, level in enumerate(levels, start=1):
        label = str(level.get("label") or "").strip()
        shown = label or str(index)
        params = {"column": f"{column}[{index}]", "criterion": name, "level": shown}
        if not label:
            report.add("guidance.level_label_empty", **params)
        elif len(label) > LEVEL_LABEL_LENGTH:
            report.add("guidance.level_label_long", most=LEVEL_LABEL_LENGTH, **params)
        elif label in labels:
            report.add("guidance.level_label_twice", **params)
        labels.add(label)
        low, high = level.get("low"), level.get("high")
        if not (_number(low) and _number(high)):
            report.add("guidance.level_not_numbers", **params)
            continue
        if low > high:
            report.add("guidance.level_low_above_high", low=f"{low:g}", high=f"{high:g}", **params)
            continue
        if ranged and (low < 0 or high > maximum):
            report.add(
                "guidance.level_outside",
                low=f"{low:g}",
                high=f"{high:g}",
                maximum=f"{maximum:g}",
                **params,
            )
            continue
        if ranged and not (_is_multiple(low, step) and _is_multiple(high, step)):
            report.add(
                "guidance.level_off_step",
                low=f"{low:g}",
                high=f"{high:g}",
                step=f"{step:g}",
                **params,
            )
            continue
        good.append({"label": label, "low": low, "high": high})
    good.sort(key=lambda level: (-level["high"], -level["low"]))
    for upper, lower in pairwise(good):
        if lower["high"] >= upper["low"]:
            report.add(
                "guidance.levels_overlap",
                column=column,
                criterion=name,
                level=upper["label"],
                other=lower["label"],
            )
    return good


def parse_levels(text: str, criterion: str) -> list[dict[str, Any]]:
    """``优 26-30; 良 20-25`` (as the set-up page's rubric table writes them) as level dicts.

    Parts are separated by ``;``, ``,`` (or their full-width forms) or a new line; each is a
    label and a range ``low-high`` (``–``, ``~`` and ``～`` also separate the two), or a label
    and one number. Only the form
    is checked here; the ranges are checked with the campaign (``level_problems``).
    """
    levels = []
    for part in re.split(r"[;；,，\n]", text or ""):
        part = part.strip()
        if not part:
            continue
        found = re.fullmatch(
            r"(?P<label>.*?)\s*(?P<low>\d+(?:\.\d+)?)\s*(?:[-–~～]\s*(?P<high>\d+(?:\.\d+)?))?",
            part,
        )
        if found is None or not found["label"].strip():
            raise ValidationFailed("guidance.bad_levels_text", criterion=criterion, part=part)
        low = float(found["low"])
        high = float(found["high"]) if found["high"] is not None else low
        levels.append({"label": found["label"].strip(), "low": _plain(low), "high": _plain(high)})
    return levels


def _plain(value: float) -> int | float:
    """26.0 as 26: a level written back into a campaign file reads as it was typed."""
    return int(value) if float(value).is_integer() else value


def levels_text(levels: list[dict[str, Any]] | None) -> str:
    """Levels as the text ``parse_levels`` reads: ``优 26-30; 良 20-25``."""
    parts = []
    for level in levels or []:
        low, high = _plain(level["low"]), _plain(level["high"])
        span = f"{low:g}" if low == high else f"{low:g}-{high:g}"
        parts.append(f"{level['label']} {span}")
    return "; ".join(parts)


def stage_dates(data: dict[str, Any], report: Report) -> dict[str, str | None]:
    """The campaign's stage dates as ISO day strings, checked into ``report``.

    A date is ``"2020-11-02"`` or a TOML date. Where given, the stages run in order intake,
    vote, review, announcement: each stage opens no earlier than the one before opened and
    closes no earlier than the one before closed, and intake and review each close no earlier
    than they open (voting, from ``vote_opens``/``vote_closes`` by their Beijing day, is
    checked with its times in ``public_settings``). Stages may overlap: votes may still come
    in while the review starts. A message names the two dates out of order.
    """
    found: dict[str, str | None] = {}
    for field in STAGE_DATES:
        value = data.get(field)
        if value is None or value == "":
            found[field] = None
        elif isinstance(value, date) and not isinstance(value, datetime):
            found[field] = value.isoformat()
        else:
            try:
                found[field] = date.fromisoformat(str(value).strip()).isoformat()
            except ValueError:
                report.add("guidance.bad_date", column=field, value=str(value))
                found[field] = None
    vote_opens, vote_closes = _vote_day(data.get("vote_opens")), _vote_day(data.get("vote_closes"))
    stages = [
        (
            ("intake_opens_on", found["intake_opens_on"]),
            ("intake_closes_on", found["intake_closes_on"]),
        ),
        (("vote_opens", vote_opens), ("vote_closes", vote_closes)),
        (
            ("review_opens_on", found["review_opens_on"]),
            ("review_closes_on", found["review_closes_on"]),
        ),
        (("announce_on", found["announce_on"]), ("announce_on", found["announce_on"])),
    ]
    pairs = [stages[0], stages[2]]  # intake and review each close no earlier than they open
    for chain in ([s[0] for s in stages], [s[1] for s in stages]):
        given = [(field, day) for field, day in chain if day is not None]
        pairs += list(pairwise(given))
    for (earlier, first), (later, second) in pairs:
        if first is not None and second is not None and second < first:
            report.add(
                "guidance.stage_order",
                column=later,
                earlier=Names("stage_date", (earlier,)),
                earlier_date=first,
                later=Names("stage_date", (later,)),
                later_date=second,
            )
    return found


def _vote_day(value: Any) -> str | None:
    """The Beijing day of a campaign file's voting time (checked in ``public_settings``)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, str) and len(value.strip()) >= 10:
        try:
            return date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            return None
    return None


def validate_campaign_data(data: dict[str, Any]) -> Report:
    """Every problem of a campaign definition, so the organiser can fix them all at once."""
    report = Report()
    slug = str(data.get("slug", ""))
    if not SLUG_PATTERN.match(slug):
        report.add("campaign.bad_slug", column="slug", value=slug)
    if not str(data.get("name", "")).strip():
        report.add("campaign.required", column="name")
    if not isinstance(data.get("year"), int) or not 1900 <= data["year"] <= 2999:
        report.add("campaign.bad_year", column="year")
    if not isinstance(data.get("comment_at_extremes", False), bool):
        report.add("guidance.not_a_switch", column="comment_at_extremes")
    stage_dates(data, report)
    _names(data.get("categories"), "categories", report)
    _names(data.get("domains"), "domains", report)
    for field in ("vote_group", "rank_group"):
        if data.get(field, "category") not in GROUPINGS:
            report.add(
                "campaign.bad_choice",
                column=field,
                value=data.get(field),
                allowed=", ".join(GROUPINGS),
            )
    for field in ("award_quota", "min_images", "max_entries_per_applicant_per_domain"):
        value = data.get(field, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            report.add("campaign.bad_count", column=field, value=value)
    components = data.get("components") or []
    if not components:
        report.add("campaign.need_components", column="components")
    keys: list[str] = []
    total = 0.0
    for index, comp in enumerate(components, start=1):
        where = f"components[{index}]"
        key, kind = comp.get("key", ""), comp.get("kind", "")
        keys.append(key)
        if kind not in ("votes", "panel"):
            report.add(
                "campaign.bad_choice", column=f"{where}.kind", value=kind, allowed="votes, panel"
            )
        elif kind == "panel" and key not in PANEL_ROLES:
            report.add(
                "campaign.bad_panel_key",
                column=f"{where}.key",
                value=key,
                allowed=", ".join(PANEL_ROLES),
            )
        weight = comp.get("weight")
        if (
            not isinstance(weight, int | float)
            or isinstance(weight, bool)
            or not 0 <= weight <= 100
        ):
            report.add("campaign.bad_weight", column=f"{where}.weight", value=weight)
        else:
            total += float(weight)
        if comp.get("aggregate", "mean") not in AGGREGATES:
            report.add(
                "campaign.bad_choice",
                column=f"{where}.aggregate",
                value=comp.get("aggregate"),
                allowed=", ".join(AGGREGATES),
            )
        if comp.get("normalise", "none") not in NORMALISATIONS:
            report.add(
                "campaign.bad_choice",
                column=f"{where}.normalise",
                value=comp.get("normalise"),
                allowed=", ".join(NORMALISATIONS),
            )
        for count in ("trim", "min_reviews"):
            value = comp.get(count, 1)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                report.add("campaign.bad_count", column=f"{where}.{count}", value=value)
    if len(set(keys)) != len(keys):
        report.add("campaign.duplicate_names", column="components.key")
    if sum(1 for c in components if c.get("kind") == "votes") > 1:
        report.add("campaign.one_votes_component", column="components")
    if components and not math.isclose(total, 100.0, abs_tol=1e-9):
        report.add("campaign.weights_sum", column="components.weight", total=f"{total:g}")
    panels = {c.get("key") for c in components if c.get("kind") == "panel"}
    seen: set[tuple[str, str]] = set()
    for index, crit in enumerate(data.get("criteria") or [], start=1):
        where = f"criteria[{index}]"
        panel, key = crit.get("panel"), str(crit.get("key", ""))
        if panel not in panels:
            report.add("campaign.criterion_panel", column=f"{where}.panel", value=panel)
        if not key or not str(crit.get("name", "")).strip():
            report.add("campaign.required", column=f"{where}.key/name")
        if (panel, key) in seen:
            report.add("campaign.duplicate_names", column=f"{where}.key")
        seen.add((panel, key))
        max_points, step = crit.get("max_points"), crit.get("step", 1)
        if not isinstance(max_points, int | float) or max_points <= 0:
            report.add("campaign.bad_points", column=f"{where}.max_points", value=max_points)
        elif not isinstance(step, int | float) or step <= 0 or not _is_multiple(max_points, step):
            report.add("campaign.bad_step", column=f"{where}.step", value=step)
        level_problems(crit, where, report)
    for panel in panels:
        if not any(c.get("panel") == panel for c in data.get("criteria") or []):
            report.add("campaign.panel_without_rubric", column="criteria", panel=panel)
    campaign_file_settings(data, report)
    return report


def parse_campaign_toml(text: str) -> dict[str, Any]:
    """The TOML of a campaign file, or a one-line reason why it is not TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ValidationFailed("campaign.bad_toml", detail=str(error)) from error


def create_campaign(session: Session, actor: Actor, data: dict[str, Any]) -> Campaign:
    """A new campaign with its categories, domains, components and rubric, all or nothing."""
    actor = authorise(session, actor, can_manage, "campaign.create").actor
    report = validate_campaign_data(data)
    report.raise_if_invalid(str(data.get("slug", "")))
    if session.exec(select(Campaign).where(Campaign.slug == data["slug"])).first():
        raise ValidationFailed("campaign.slug_taken", slug=data["slug"])
    campaign = Campaign(
        slug=data["slug"],
        name=data["name"].strip(),
        year=data["year"],
        vote_group=data.get("vote_group", "category"),
        rank_group=data.get("rank_group", "category_domain"),
        tie_break=list(data.get("tie_break", ["expert", "media", "votes"])),
        award_quota=data.get("award_quota", 3),
        min_images=data.get("min_images", 4),
        max_entries_per_applicant_per_domain=data.get("max_entries_per_applicant_per_domain", 2),
        blind_review=bool(data.get("blind_review", False)),
        public_gallery=bool(data.get("public_gallery", False)),
        **campaign_file_settings(data, Report()),
        **stage_dates(data, Report()),
        comment_at_extremes=bool(data.get("comment_at_extremes", False)),
    )
    session.add(campaign)
    session.flush()
    for position, name in enumerate(data["categories"]):
        session.add(Category(campaign_id=campaign.id, name=name.strip(), position=position))
    for position, name in enumerate(data["domains"]):
        session.add(Domain(campaign_id=campaign.id, name=name.strip(), position=position))
    components: dict[str, Component] = {}
    for position, comp in enumerate(data["components"]):
        row = Component(
            campaign_id=campaign.id,
            key=comp["key"],
            kind=comp["kind"],
            weight=float(comp["weight"]),
            aggregate=comp.get("aggregate", "mean"),
            trim=comp.get("trim", 1),
            normalise=comp.get("normalise", "none"),
            min_reviews=comp.get("min_reviews", 3),
            position=position,
        )
        session.add(row)
        components[row.key] = row
    session.flush()
    for position, crit in enumerate(data.get("criteria") or []):
        session.add(
            Criterion(
                component_id=components[crit["panel"]].id,
                key=str(crit["key"]),
                name=crit["name"].strip(),
                description=str(crit.get("description", "")).strip(),
                max_points=float(crit["max_points"]),
                step=float(crit.get("step", 1)),
                position=position,
                levels=level_problems(crit, "", Report()),
            )
        )
    audit.record(
        session,
        actor,
        "campaign.create",
        target=campaign.slug,
        campaign_id=campaign.id,
        new={"name": campaign.name, "weights": {k: c.weight for k, c in components.items()}},
    )
    return campaign


def list_campaigns(session: Session) -> list[Campaign]:
    """All campaigns, newest year first."""
    return list(session.exec(select(Campaign).order_by(col(Campaign.year).desc(), Campaign.id)))


def campaigns_for(session: Session, actor: Actor) -> list[Campaign]:
    """Organisers see every campaign; reviewers those in which they have an assignment."""
    actor = authorise(session, actor, can_list_entries, "campaign.list").actor
    if can_manage(actor):
        return list_campaigns(session)
    # A subquery, not DISTINCT over the rows: PostgreSQL cannot compare the JSON tie_break.
    assigned_in = (
        select(Entry.campaign_id)
        .join(Assignment, Assignment.entry_id == Entry.id)
        .where(Assignment.reviewer_id == actor.account_id)
    )
    query = (
        select(Campaign)
        .where(col(Campaign.id).in_(assigned_in))
        .order_by(col(Campaign.year).desc(), Campaign.id)
    )
    return list(session.exec(query))


def get_campaign(session: Session, slug: str) -> Campaign:
    """The campaign with this slug, or a clear NotFound."""
    campaign = session.exec(select(Campaign).where(Campaign.slug == slug)).first()
    if campaign is None:
        raise NotFound("error.no_such_campaign", slug=slug)
    return campaign


def categories(session: Session, campaign_id: int) -> list[Category]:
    return list(
        session.exec(
            select(Category).where(Category.campaign_id == campaign_id).order_by(Category.position)
        )
    )


def domains(session: Session, campaign_id: int) -> list[Domain]:
    return list(
        session.exec(
            select(Domain).where(Domain.campaign_id == campaign_id).order_by(Domain.position)
        )
    )


def components(session: Session, campaign_id: int) -> list[Component]:
    return list(
        session.exec(
            select(Component)
            .where(Component.campaign_id == campaign_id)
            .order_by(Component.position)
        )
    )


def rubric(session: Session, component_id: int) -> list[Criterion]:
    return list(
        session.exec(
            select(Criterion)
            .where(Criterion.component_id == component_id)
            .order_by(Criterion.position)
        )
    )


def panel_component(session: Session, campaign_id: int, panel: str) -> Component | None:
    """The panel component a reviewer of ``panel`` scores on, if the campaign has it."""
    return session.exec(
        select(Component).where(Component.campaign_id == campaign_id, Component.key == panel)
    ).first()


def group_order(session: Session, campaign: Campaign, labels: list[str]) -> list[str]:
    """Ranking-group labels in the campaign's order of categories and domains."""
    return ordered_groups(
        labels,
        [c.name for c in categories(session, campaign.id)],
        [d.name for d in domains(session, campaign.id)],
        campaign.rank_group,
    )


def method_for(session: Session, campaign: Campaign) -> Method:
    """The campaign's scoring method as the engine's frozen ``Method``."""
    comps = tuple(
        MethodComponent(
            key=c.key,
            kind=c.kind,
            weight=c.weight,
            aggregate=c.aggregate,
            trim=c.trim,
            normalise=c.normalise,
            min_reviews=c.min_reviews,
        )
        for c in components(session, campaign.id)
    )
    quotas = {
        q.group_label: q.quota
        for q in session.exec(select(GroupQuota).where(GroupQuota.campaign_id == campaign.id))
    }
    decisions = session.exec(
        select(AwardDecision, Entry.code)
        .join(Entry, Entry.id == AwardDecision.entry_id)
        .where(AwardDecision.campaign_id == campaign.id)
    ).all()
    overrides = tuple(
        Override(code=code, action="grant" if d.award else "revoke", reason=d.reason)
        for d, code in decisions
        if d.kind == "override"
    )
    ties = {code: d.award for d, code in decisions if d.kind == "tie"}
    return Method(
        components=comps,
        vote_group=campaign.vote_group,
        rank_group=campaign.rank_group,
        tie_break=tuple(campaign.tie_break),
        award_quota=campaign.award_quota,
        group_quotas=quotas,
        overrides=overrides,
        tie_decisions=ties,
    )
