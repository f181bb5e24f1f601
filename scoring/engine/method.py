"""The scoring method of one campaign, as immutable values.

A `Method` is everything the engine needs to know about a campaign's rules
(SPEC §3): the components and their weights, how panel totals are normalised
and aggregated, the comparison groups for votes and for ranking, the tie-break
chain, award quotas and the organiser's decisions (tie decisions, committee
overrides). It checks itself on construction so that an impossible method is
refused where it is built, not half-way through a standings computation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

GroupHow = Literal["category", "domain", "category_domain", "all"]
GROUP_CHOICES: tuple[str, ...] = ("category", "domain", "category_domain", "all")
KIND_CHOICES: tuple[str, ...] = ("votes", "panel")
AGGREGATE_CHOICES: tuple[str, ...] = ("mean", "trimmed", "median")
NORMALISE_CHOICES: tuple[str, ...] = ("none", "zscore")
ACTION_CHOICES: tuple[str, ...] = ("grant", "revoke")

#: Label of the single ranking/vote group when the campaign groups by "all".
ALL_GROUP = "all"

#: The standings frame's columns before and after the per-component columns.
LEADING_COLUMNS: tuple[str, ...] = ("code", "title", "category", "domain", "group")
TRAILING_COLUMNS: tuple[str, ...] = (
    "composite",
    "rank",
    "tie",
    "provisional",
    "award",
    "tie_at_cutline",
    "quota",
    "override",
)
#: Columns of the standings frame that a component key must not shadow.
RESERVED_COLUMNS: frozenset[str] = frozenset(LEADING_COLUMNS + TRAILING_COLUMNS)

WEIGHT_TOLERANCE = 1e-9


def group_label(category: str, domain: str, how: str) -> str:
    """Label of the comparison group an entry belongs to under grouping `how`.

    The label is what organisers see and what `Method.group_quotas` is keyed
    by, so it is built the same way everywhere (here and vectorised in
    `groups.group_labels`).
    """
    if how == "category":
        return str(category)
    if how == "domain":
        return str(domain)
    if how == "category_domain":
        return f"{category} / {domain}"
    if how == "all":
        return ALL_GROUP
    raise ValueError(f"unknown group {how!r}; expected one of {', '.join(GROUP_CHOICES)}")


@dataclass(frozen=True)
class Component:
    """One score component: the public vote, or one reviewer panel.

    `trim`, `normalise`, `aggregate` and `min_reviews` only matter for panels;
    they are still validated for a votes component so a bad campaign file is
    refused rather than silently accepted.
    """

    key: str
    kind: Literal["votes", "panel"]
    weight: float
    aggregate: Literal["mean", "trimmed", "median"] = "mean"
    trim: int = 1
    normalise: Literal["none", "zscore"] = "none"
    min_reviews: int = 3

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key.strip():
            raise ValueError(f"component key must be a non-empty string, got {self.key!r}")
        if self.kind not in KIND_CHOICES:
            raise ValueError(
                f"component {self.key!r}: kind {self.kind!r} is not one of "
                f"{', '.join(KIND_CHOICES)}"
            )
        weight = float(self.weight)
        if not math.isfinite(weight) or weight < 0 or weight > 100:
            raise ValueError(
                f"component {self.key!r}: weight {self.weight!r} must be between 0 and 100"
            )
        object.__setattr__(self, "weight", weight)
        if self.aggregate not in AGGREGATE_CHOICES:
            raise ValueError(
                f"component {self.key!r}: aggregate {self.aggregate!r} is not one of "
                f"{', '.join(AGGREGATE_CHOICES)}"
            )
        if self.normalise not in NORMALISE_CHOICES:
            raise ValueError(
                f"component {self.key!r}: normalise {self.normalise!r} is not one of "
                f"{', '.join(NORMALISE_CHOICES)}"
            )
        if isinstance(self.trim, bool) or not isinstance(self.trim, int) or self.trim < 0:
            raise ValueError(
                f"component {self.key!r}: trim must be an integer >= 0, got {self.trim!r}"
            )
        if (
            isinstance(self.min_reviews, bool)
            or not isinstance(self.min_reviews, int)
            or self.min_reviews < 0
        ):
            raise ValueError(
                f"component {self.key!r}: min_reviews must be an integer >= 0, "
                f"got {self.min_reviews!r}"
            )


@dataclass(frozen=True)
class Override:
    """A committee decision to grant or revoke one entry's award, with its reason."""

    code: str
    action: Literal["grant", "revoke"]
    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code:
            raise ValueError(f"override code must be a non-empty string, got {self.code!r}")
        if self.action not in ACTION_CHOICES:
            raise ValueError(
                f"override for {self.code!r}: action {self.action!r} is not one of "
                f"{', '.join(ACTION_CHOICES)}"
            )
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError(f"override for {self.code!r}: a written reason is required")


def _frozen_mapping(value: Mapping | None) -> Mapping:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True)
class Method:
    """The complete, validated scoring rules of one campaign (SPEC §3)."""

    components: tuple[Component, ...]
    vote_group: GroupHow = "category"
    rank_group: GroupHow = "category_domain"
    tie_break: tuple[str, ...] = ("expert", "media", "votes")
    award_quota: int = 3
    group_quotas: Mapping[str, int] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    tie_decisions: Mapping[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        components = tuple(self.components)
        object.__setattr__(self, "components", components)
        object.__setattr__(self, "tie_break", tuple(self.tie_break))
        object.__setattr__(self, "overrides", tuple(self.overrides))
        object.__setattr__(self, "group_quotas", _frozen_mapping(self.group_quotas))
        object.__setattr__(self, "tie_decisions", _frozen_mapping(self.tie_decisions))

        if not components:
            raise ValueError("a method needs at least one component")
        for component in components:
            if not isinstance(component, Component):
                raise ValueError(f"components must be Component values, got {component!r}")
        keys = [c.key for c in components]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"component keys must be unique; repeated: {', '.join(duplicates)}")
        votes = [c.key for c in components if c.kind == "votes"]
        if len(votes) > 1:
            raise ValueError(f"at most one votes component is allowed; found {', '.join(votes)}")
        total = math.fsum(c.weight for c in components)
        if abs(total - 100.0) > WEIGHT_TOLERANCE:
            raise ValueError(f"component weights must sum to 100; they sum to {total!r}")
        self._check_column_names(keys)

        for name in ("vote_group", "rank_group"):
            how = getattr(self, name)
            if how not in GROUP_CHOICES:
                raise ValueError(f"{name} {how!r} is not one of {', '.join(GROUP_CHOICES)}")
        for key in self.tie_break:
            if not isinstance(key, str):
                raise ValueError(f"tie_break entries must be component keys, got {key!r}")
        _check_quota("award_quota", self.award_quota)
        for label, quota in self.group_quotas.items():
            _check_quota(f"group_quotas[{label!r}]", quota)
        for code, decision in self.tie_decisions.items():
            if not isinstance(decision, bool):
                raise ValueError(f"tie_decisions[{code!r}] must be True or False")
        for override in self.overrides:
            if not isinstance(override, Override):
                raise ValueError(f"overrides must be Override values, got {override!r}")
        codes = [o.code for o in self.overrides]
        repeated = sorted({c for c in codes if codes.count(c) > 1})
        if repeated:
            raise ValueError(f"at most one override per entry; repeated: {', '.join(repeated)}")

    @staticmethod
    def _check_column_names(keys: list[str]) -> None:
        """Component keys become standings columns, so they must not collide."""
        clash = sorted(set(keys) & RESERVED_COLUMNS)
        if clash:
            raise ValueError(f"component keys clash with standings columns: {', '.join(clash)}")
        derived = {f"{prefix}_{k}" for k in keys for prefix in ("n", "need")}
        clash = sorted(set(keys) & derived)
        if clash:
            raise ValueError(
                f"component keys clash with derived n_/need_ columns: {', '.join(clash)}"
            )

    @property
    def panels(self) -> tuple[Component, ...]:
        """The panel components, in declaration order."""
        return tuple(c for c in self.components if c.kind == "panel")

    @property
    def votes_component(self) -> Component | None:
        """The votes component, if the campaign has one."""
        return next((c for c in self.components if c.kind == "votes"), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.components)

    @property
    def effective_tie_break(self) -> tuple[str, ...]:
        """Tie-break keys the campaign actually has, in order, without repeats."""
        present = set(self.keys)
        seen: list[str] = []
        for key in self.tie_break:
            if key in present and key not in seen:
                seen.append(key)
        return tuple(seen)

    def quota_for(self, label: str) -> int:
        """Award quota of one ranking group: its own quota, else the campaign's."""
        return int(self.group_quotas.get(label, self.award_quota))


def _check_quota(name: str, quota: object) -> None:
    if isinstance(quota, bool) or not isinstance(quota, int) or quota < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {quota!r}")


def method_to_dict(method: Method) -> dict:
    """The method as plain JSON-ready values, in a fixed shape (snapshots, exports, verify)."""
    return {
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
            for c in method.components
        ],
        "vote_group": method.vote_group,
        "rank_group": method.rank_group,
        "tie_break": list(method.tie_break),
        "award_quota": method.award_quota,
        "group_quotas": dict(sorted(method.group_quotas.items())),
        "tie_decisions": dict(sorted(method.tie_decisions.items())),
        "overrides": [
            {"code": o.code, "action": o.action, "reason": o.reason}
            for o in sorted(method.overrides, key=lambda o: o.code)
        ],
    }


def method_from_dict(data: Mapping) -> Method:
    """The inverse of `method_to_dict`; the Method's own checks refuse an impossible one."""
    return Method(
        components=tuple(
            Component(
                key=str(c["key"]),
                kind=c["kind"],
                weight=float(c["weight"]),
                aggregate=c.get("aggregate", "mean"),
                trim=int(c.get("trim", 1)),
                normalise=c.get("normalise", "none"),
                min_reviews=int(c.get("min_reviews", 3)),
            )
            for c in data["components"]
        ),
        vote_group=data.get("vote_group", "category"),
        rank_group=data.get("rank_group", "category_domain"),
        tie_break=tuple(data.get("tie_break", ())),
        award_quota=int(data.get("award_quota", 3)),
        group_quotas={str(k): int(v) for k, v in dict(data.get("group_quotas", {})).items()},
        tie_decisions={str(k): bool(v) for k, v in dict(data.get("tie_decisions", {})).items()},
        overrides=tuple(
            Override(code=str(o["code"]), action=o["action"], reason=str(o["reason"]))
            for o in data.get("overrides", ())
        ),
    )
