"""Weight stability: how much do ranks depend on the exact weights?

Weights are a policy choice (55/15/30 in the 2020 Qingdao selection). An
organiser defending the final list wants to know which ranks would move under
a slightly different choice. For each component k the weight is moved by
+step and -step points and the other weights are rescaled proportionally so
the sum stays 100; a move that would push w_k below 0 or above 100, or that
cannot be rescaled (the others sum to 0), is skipped. Every scenario is ranked
with the same rules as the standings, and each entry reports its base rank
and the lowest and highest rank over the base and all scenarios (so
`min_rank <= rank <= max_rank` always holds).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .components import component_table
from .method import Method
from .ranking import composite_scores, rank_entries


def weight_scenarios(weights: Mapping[str, float], step: float = 5.0) -> list[dict[str, float]]:
    """The moved weight sets, in order: for each key, +step then -step."""
    scenarios: list[dict[str, float]] = []
    for key, weight in weights.items():
        rest = 100.0 - weight
        for delta in (step, -step):
            moved = weight + delta
            if moved < 0 or moved > 100 or rest <= 0:
                continue
            left = 100.0 - moved
            scenario = {k: (moved if k == key else w * left / rest) for k, w in weights.items()}
            scenarios.append(scenario)
    return scenarios


def _ranks(table: pd.DataFrame, method: Method, weights: Mapping[str, float]) -> np.ndarray:
    composite, _ = composite_scores(table, weights)
    keys = [composite, *(table[k] for k in method.effective_tie_break)]
    return rank_entries(table["code"], table["group"], keys)["rank"].to_numpy()


def rank_stability(table: pd.DataFrame, method: Method, step: float = 5.0) -> pd.DataFrame:
    """Base, min and max rank per entry of a component table (see module docstring)."""
    base_weights = {c.key: c.weight for c in method.components}
    base = _ranks(table, method, base_weights)
    low, high = base.copy(), base.copy()
    scenarios = weight_scenarios(base_weights, step)
    for weights in scenarios:
        ranks = _ranks(table, method, weights)
        np.minimum(low, ranks, out=low)
        np.maximum(high, ranks, out=high)
    frame = pd.DataFrame(
        {
            "code": table["code"].to_numpy(),
            "group": table["group"].to_numpy(),
            "rank": base,
            "min_rank": low,
            "max_rank": high,
            "scenarios": len(scenarios),
        }
    )
    return frame.sort_values(["group", "rank", "code"], kind="stable").reset_index(drop=True)


def weight_stability(
    entries: pd.DataFrame,
    scores: pd.DataFrame,
    criteria: pd.DataFrame,
    method: Method,
    step: float = 5.0,
) -> pd.DataFrame:
    """Rank stability of every entry under ±`step`-point weight moves.

    Columns: code, group, rank (base), min_rank, max_rank, scenarios (how
    many weight sets were tried besides the base). Sorted by group, rank, code.
    """
    table = component_table(entries, scores, criteria, method)
    return rank_stability(table, method, step)
