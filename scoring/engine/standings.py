"""The standings: the one call pages, CLI and export make (SPEC §3, §5.6).

`compute_standings` chains the pure steps (totals -> normalisation ->
panel scores -> votes -> composite -> ranks -> awards) and returns a frame
sorted by group, rank, code. `standings_records` turns that frame into the
§5.6 JSON objects. Nothing is rounded: rounding is for display and export.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .components import component_table
from .method import LEADING_COLUMNS, TRAILING_COLUMNS, Method
from .ranking import assign_awards, composite_scores, rank_entries


def rank_components(
    table: pd.DataFrame, method: Method, weights: dict[str, float] | None = None
) -> pd.DataFrame:
    """Composite, ranks, ties and awards for a component table, in display order.

    `weights` replaces the method's weights (stability analysis); otherwise
    the method's are used.
    """
    weights = weights or {c.key: c.weight for c in method.components}
    composite, missing = composite_scores(table, weights)
    frame = table.copy()
    frame["composite"] = composite.to_numpy()
    frame["provisional"] = frame["provisional"].to_numpy() | missing.to_numpy()
    keys = [frame["composite"], *(frame[k] for k in method.effective_tie_break)]
    ranks = rank_entries(frame["code"], frame["group"], keys)
    awards = assign_awards(
        frame["code"],
        frame["group"],
        ranks["rank"],
        ranks["tie_size"],
        dict(method.group_quotas),
        method.award_quota,
        method.tie_decisions,
        method.overrides,
    )
    frame["rank"] = ranks["rank"].to_numpy()
    frame["tie"] = ranks["tie"].to_numpy()
    frame["award"] = awards["award"].to_numpy()
    frame["tie_at_cutline"] = awards["tie_at_cutline"].to_numpy()
    frame["quota"] = awards["quota"].to_numpy()
    # An explicit object Series keeps None (a bare object array would become str + NaN).
    frame["override"] = pd.Series(awards["override"].to_numpy(), index=frame.index, dtype=object)
    frame = frame.iloc[np.argsort(ranks["order"].to_numpy(), kind="stable")]
    return frame.reset_index(drop=True)


def standings_columns(method: Method) -> list[str]:
    """Column order of the standings frame."""
    columns = list(LEADING_COLUMNS)
    for component in method.components:
        columns.append(component.key)
        if component.kind == "panel":
            columns += [f"n_{component.key}", f"need_{component.key}"]
    return [*columns, *TRAILING_COLUMNS]


def compute_standings(
    entries: pd.DataFrame, scores: pd.DataFrame, criteria: pd.DataFrame, method: Method
) -> pd.DataFrame:
    """Standings of the shortlisted `entries` under `method`.

    Frames as in docs/architecture.md. One row per entry (entries with no
    scores and no votes included), columns: code, title, category, domain,
    group, one S_k column per component key (NaN when missing), n_<key> and
    need_<key> (reviews still needed to reach min_reviews) per panel,
    composite, rank, tie, provisional, award, tie_at_cutline, quota, override.
    Sorted by group, rank, code.
    """
    table = component_table(entries, scores, criteria, method)
    return rank_components(table, method)[standings_columns(method)]


def _number(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def standings_records(frame: pd.DataFrame, method: Method) -> list[dict[str, Any]]:
    """The SPEC §5.6 JSON objects, in the frame's (group, rank) order.

    Plain Python values only (str, float, int, bool, None) so `json.dumps`
    needs no encoder; NaN becomes None; floats are not rounded.
    """
    keys = [c.key for c in method.components]
    records: list[dict[str, Any]] = []
    for row in frame.to_dict("records"):
        records.append(
            {
                "code": str(row["code"]),
                "title": str(row["title"]),
                "category": str(row["category"]),
                "domain": str(row["domain"]),
                "group": str(row["group"]),
                "components": {k: _number(row[k]) for k in keys},
                "composite": _number(row["composite"]),
                "rank": int(row["rank"]),
                "tie": bool(row["tie"]),
                "provisional": bool(row["provisional"]),
                "award": bool(row["award"]),
                "tie_at_cutline": bool(row["tie_at_cutline"]),
            }
        )
    return records
