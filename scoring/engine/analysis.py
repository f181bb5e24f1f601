"""Everything the live standings page shows, computed once from one set of inputs.

The page shows the standings, the reviewer diagnostics, the weight stability
and the component contributions side by side. Building them from one
`counted_totals` and one component table keeps the four views consistent
with each other (a reviewer's deviation is measured against the very panel
score in the table) and costs one pass over the scores instead of four.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from .components import component_table, counted_totals
from .diagnostics import Diagnostics, diagnose
from .method import ALL_GROUP, Method
from .stability import rank_stability
from .standings import rank_components, standings_columns


class Analysis(NamedTuple):
    """The standings and the views that explain them."""

    standings: pd.DataFrame
    totals: pd.DataFrame
    diagnostics: Diagnostics
    stability: pd.DataFrame
    contributions: pd.DataFrame


def contributions(standings: pd.DataFrame, method: Method) -> pd.DataFrame:
    """Each component's share of each composite, `w_k / 100 * S_k` (missing counts 0).

    Columns: code, group, component, score, weight, contribution. The
    contributions of an entry add up to its composite, which is what the
    stacked chart relies on.
    """
    parts = []
    for component in method.components:
        score = standings[component.key].astype(np.float64)
        parts.append(
            pd.DataFrame(
                {
                    "code": standings["code"].to_numpy(),
                    "group": standings["group"].to_numpy(),
                    "component": component.key,
                    "score": score.to_numpy(),
                    "weight": component.weight,
                    "contribution": (component.weight / 100.0 * score.fillna(0.0)).to_numpy(),
                }
            )
        )
    columns = ["code", "group", "component", "score", "weight", "contribution"]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def analyse(
    entries: pd.DataFrame,
    scores: pd.DataFrame,
    criteria: pd.DataFrame,
    method: Method,
    stability_step: float = 5.0,
) -> Analysis:
    """Standings, counted totals, diagnostics, weight stability and contributions."""
    totals = counted_totals(entries, scores, criteria, method)
    table = component_table(entries, scores, criteria, method, totals=totals)
    standings = rank_components(table, method)[standings_columns(method)]
    return Analysis(
        standings=standings,
        totals=totals,
        diagnostics=diagnose(totals, table, method),
        stability=rank_stability(table, method, stability_step),
        contributions=contributions(standings, method),
    )


def ordered_groups(
    labels: Sequence[str], categories: Sequence[str], domains: Sequence[str], how: str
) -> list[str]:
    """`labels` in the campaign's own order of categories, then domains.

    Organisers read groups in the order the campaign file declares them
    (数字政府 before 数字经济), not in code-point order. Labels that do not
    match the campaign (there should be none) go last, sorted.
    """
    category_at = {name: i for i, name in enumerate(categories)}
    domain_at = {name: i for i, name in enumerate(domains)}
    late = len(categories) + len(domains)

    def position(label: str) -> tuple[int, int, str]:
        if how == "category":
            return (category_at.get(label, late), 0, label)
        if how == "domain":
            return (domain_at.get(label, late), 0, label)
        if how == "category_domain" and " / " in label:
            category, domain = label.split(" / ", 1)
            return (category_at.get(category, late), domain_at.get(domain, late), label)
        return (0 if label == ALL_GROUP else late, 0, label)

    return sorted(dict.fromkeys(labels), key=position)


def coverage_summary(standings: pd.DataFrame, method: Method) -> pd.DataFrame:
    """Per panel: entries, entries with their minimum of reviews, reviews in and still needed.

    Columns: panel, entries, complete, reviews, needed, min_reviews. "Needed"
    counts only the reviews missing below each entry's minimum, the figure an
    organiser chases reviewers for.
    """
    rows = []
    for panel in method.panels:
        n = standings[f"n_{panel.key}"].astype(np.int64)
        need = standings[f"need_{panel.key}"].astype(np.int64)
        rows.append(
            {
                "panel": panel.key,
                "entries": len(standings),
                "complete": int((need == 0).sum()),
                "reviews": int(n.sum()),
                "needed": int(need.sum()),
                "min_reviews": panel.min_reviews,
            }
        )
    columns = ["panel", "entries", "complete", "reviews", "needed", "min_reviews"]
    return pd.DataFrame(rows, columns=columns)


def cut_lines(standings: pd.DataFrame) -> pd.DataFrame:
    """Per ranking group: its quota and where the award cut line is drawn.

    In the group's ranked order, `last_in` is the composite at place `quota`
    and `first_out` the one at place `quota + 1` (places, not competition
    ranks, so a tie straddling the cut is seen as straddling it). The line
    `cut` lies half-way between them, visibly separating the two sides; where
    a tie straddles the cut the two are equal and the line runs through the
    tied entries. Committee overrides do not move the line: they are shown as
    overrides. `cut` is NaN where the quota is 0 or the group is empty, and
    sits at `last_in` where every entry is within the quota.
    Columns: group, quota, last_in, first_out, cut.
    """
    rows = []
    for group, own in standings.groupby("group", sort=False):
        quota = int(own["quota"].iloc[0])
        composite = own.sort_values(["rank", "code"], kind="stable")["composite"].to_numpy()
        inside = composite[: min(quota, len(composite))]
        last_in = float(inside[-1]) if len(inside) else np.nan
        first_out = float(composite[quota]) if quota < len(composite) else np.nan
        if np.isnan(last_in):
            cut = np.nan
        elif np.isnan(first_out):
            cut = last_in
        else:
            cut = (last_in + first_out) / 2.0
        rows.append(
            {"group": group, "quota": quota, "last_in": last_in, "first_out": first_out, "cut": cut}
        )
    return pd.DataFrame(rows, columns=["group", "quota", "last_in", "first_out", "cut"])
