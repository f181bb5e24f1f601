"""The per-entry component table: every S_k before weights are applied.

Standings, stability analysis and diagnostics all start from the same
counted totals and component scores; building them here once keeps the three
consistent and lets stability re-weight without recomputing totals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .aggregate import aggregate_totals
from .frames import require_columns
from .groups import group_labels
from .method import Method
from .normalise import normalise_totals
from .totals import reviewer_totals
from .votes import votes_scores

ENTRY_COLUMNS = ("code", "title", "category", "domain")


def check_entries(entries: pd.DataFrame, method: Method) -> None:
    """Refuse an entries frame the rules cannot be applied to."""
    columns = list(ENTRY_COLUMNS)
    if method.votes_component is not None:
        columns.append("votes")
    require_columns(entries, columns, "entries")
    duplicated = entries["code"].duplicated()
    if duplicated.any():
        repeated = ", ".join(map(str, entries.loc[duplicated, "code"].head(5)))
        raise ValueError(f"entry codes must be unique; repeated: {repeated}")


def counted_totals(
    entries: pd.DataFrame, scores: pd.DataFrame, criteria: pd.DataFrame, method: Method
) -> pd.DataFrame:
    """Counted reviewer totals of the shortlisted entries, raw and normalised.

    Columns `panel, reviewer, code, total` (raw T) and `counted` (the value that
    enters the panel score: T, or T' under `zscore`).
    """
    panels = [c.key for c in method.panels]
    missing_rubric = sorted(set(panels) - set(criteria["panel"].astype(str)))
    if missing_rubric:
        raise ValueError(f"panel(s) without a rubric in criteria: {', '.join(missing_rubric)}")
    totals = reviewer_totals(scores, criteria, codes=entries["code"], panels=panels)
    totals["counted"] = normalise_totals(totals, {c.key: c.normalise for c in method.panels})
    return totals


def component_table(
    entries: pd.DataFrame,
    scores: pd.DataFrame,
    criteria: pd.DataFrame,
    method: Method,
    totals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per entry (entries' order): identity, group, S_k, n_/need_ and provisional.

    `provisional` here covers panels with too few reviews; missing components
    are added by the composite step. `totals` may be passed when the caller
    already holds `counted_totals` for the same inputs.
    """
    check_entries(entries, method)
    if totals is None:
        totals = counted_totals(entries, scores, criteria, method)
    table = pd.DataFrame(
        {
            "code": entries["code"].to_numpy(),
            "title": entries["title"].to_numpy(),
            "category": entries["category"].to_numpy(),
            "domain": entries["domain"].to_numpy(),
            "group": group_labels(entries, method.rank_group).to_numpy(),
        }
    )
    provisional = np.zeros(len(table), dtype=bool)
    codes = table["code"]
    by_panel = dict(tuple(totals.groupby("panel", sort=False))) if len(totals) else {}
    empty = totals.iloc[0:0]
    for component in method.components:
        if component.kind == "votes":
            vote_groups = group_labels(entries, method.vote_group)
            table[component.key] = votes_scores(entries["votes"], vote_groups).to_numpy()
            continue
        panel_totals = by_panel.get(component.key, empty)
        result = aggregate_totals(
            pd.DataFrame({"code": panel_totals["code"], "total": panel_totals["counted"]}),
            codes,
            how=component.aggregate,
            trim=component.trim,
            min_reviews=component.min_reviews,
        )
        table[component.key] = result["score"].to_numpy()
        n = result["n"].to_numpy()
        table[f"n_{component.key}"] = n
        table[f"need_{component.key}"] = np.maximum(component.min_reviews - n, 0)
        provisional |= result["provisional"].to_numpy()
    table["provisional"] = provisional
    return table
