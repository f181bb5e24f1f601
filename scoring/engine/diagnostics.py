"""Reviewer diagnostics for the organiser (SPEC §3 "Reviewer diagnostics").

Three views, all on the counted (complete, submitted) sheets of shortlisted
entries:

* `reviewer_summary`: per panel and reviewer, the number of entries scored,
  the mean and population SD (ddof=0) of the reviewer's raw totals T, and the
  mean deviation `mean(T - S)` from the panel score S of the same entries
  (S as in the standings, i.e. after normalisation and aggregation). Raw T is
  used on purpose: the point is to show how lenient or harsh the reviewer is
  before normalisation corrects it.
* `kendall_w_by_panel`: Kendall's coefficient of concordance W per panel.
  Definition used: take every reviewer with at least one counted total in the
  panel (m of them) and the *complete block* of entries that all m scored
  (n of them). With m >= 2 and n >= 2, each reviewer's raw totals over the
  block are ranked (average ranks for equal totals), R_i is entry i's rank
  sum, S = sum_i (R_i - mean R)^2, and with the tie correction
  T_j = sum over groups of equal totals of reviewer j of (t^3 - t),

      W = 12 S / (m^2 (n^3 - n) - m sum_j T_j)

  Otherwise (no such block, or every reviewer gave all block entries equal
  totals so the denominator is 0) W is NaN: an agreement figure from a
  partial design would look precise while meaning something else. Campaigns
  that assign reviewers to subsets get NaN and rely on the other two views.
* `outlier_flags`: a counted total is flagged when it differs from the mean
  of the entry's counted totals in that panel by strictly more than 2 panel
  SDs, the panel SD being the population SD of all counted totals of the
  panel. Counted totals (normalised where the panel normalises) are used so
  that the total, the entry mean and the SD are on one scale.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .components import component_table, counted_totals
from .method import Method

OUTLIER_SDS = 2.0


def kendall_w(ratings: np.ndarray) -> float:
    """W (tie-corrected) for a complete m-reviewers x n-entries matrix of totals."""
    ratings = np.asarray(ratings, dtype=np.float64)
    if ratings.ndim != 2 or np.isnan(ratings).any():
        raise ValueError("kendall_w needs a complete 2-D matrix of totals")
    m, n = ratings.shape
    if m < 2 or n < 2:
        return float("nan")
    ranks = pd.DataFrame(ratings).rank(axis=1, method="average").to_numpy()
    rank_sums = ranks.sum(axis=0)
    spread = float(((rank_sums - rank_sums.mean()) ** 2).sum())
    ties = 0.0
    for row in ratings:
        counts = np.unique(row, return_counts=True)[1].astype(np.float64)
        ties += float((counts**3 - counts).sum())
    denominator = m**2 * (n**3 - n) - m * ties
    if denominator <= 0:
        return float("nan")
    return 12.0 * spread / denominator


def kendall_w_by_panel(totals: pd.DataFrame, panels: list[str]) -> pd.DataFrame:
    """W per panel over its complete block (see module docstring).

    Columns: panel, w, reviewers (m), entries (n in the complete block).
    """
    rows = []
    for panel in panels:
        own = totals[totals["panel"] == panel]
        matrix = own.pivot_table(index="reviewer", columns="code", values="total", aggfunc="first")
        block = matrix.loc[:, matrix.notna().all(axis=0)]
        m, n = block.shape
        w = kendall_w(block.to_numpy()) if m >= 2 and n >= 2 else float("nan")
        rows.append({"panel": panel, "w": w, "reviewers": int(m), "entries": int(n)})
    return pd.DataFrame(rows, columns=["panel", "w", "reviewers", "entries"])


def reviewer_summary(totals: pd.DataFrame, table: pd.DataFrame, panels: list[str]) -> pd.DataFrame:
    """n, mean, population SD of raw totals and mean deviation from the panel score.

    `table` is the component table (one S column per panel key, one row per
    code). Sorted by panel, reviewer.
    """
    scores = table.set_index("code")
    own = totals[totals["panel"].isin(panels)].copy()
    panel_score = np.full(len(own), np.nan)
    for panel in panels:
        mask = (own["panel"] == panel).to_numpy()
        panel_score[mask] = scores[panel].reindex(own.loc[mask, "code"]).to_numpy()
    own["deviation"] = own["total"].to_numpy() - panel_score
    grouped = own.groupby(["panel", "reviewer"], sort=True)
    summary = grouped.agg(
        n=("total", "size"), mean=("total", "mean"), mean_deviation=("deviation", "mean")
    )
    summary["sd"] = grouped["total"].std(ddof=0)
    summary = summary.reset_index()[["panel", "reviewer", "n", "mean", "sd", "mean_deviation"]]
    return summary.astype({"n": np.int64})


def outlier_flags(totals: pd.DataFrame, sds: float = OUTLIER_SDS) -> pd.DataFrame:
    """Every counted total with its entry mean, panel SD and outlier flag.

    Columns: panel, reviewer, code, counted, entry_mean, panel_sd, outlier.
    """
    values = totals["counted"].astype(np.float64)
    entry_mean = values.groupby([totals["panel"], totals["code"]]).transform("mean")
    panel_mean = values.groupby(totals["panel"]).transform("mean")
    panel_sd = ((values - panel_mean) ** 2).groupby(totals["panel"]).transform("mean") ** 0.5
    frame = totals[["panel", "reviewer", "code"]].copy()
    frame["counted"] = values
    frame["entry_mean"] = entry_mean
    frame["panel_sd"] = panel_sd
    frame["outlier"] = (values - entry_mean).abs() > sds * panel_sd
    return frame.reset_index(drop=True)


class Diagnostics(NamedTuple):
    """The three diagnostic frames of one campaign."""

    reviewers: pd.DataFrame
    agreement: pd.DataFrame
    outliers: pd.DataFrame


def diagnose(totals: pd.DataFrame, table: pd.DataFrame, method: Method) -> Diagnostics:
    """The three views from counted totals and the component table built from them."""
    panels = [c.key for c in method.panels]
    return Diagnostics(
        reviewers=reviewer_summary(totals, table, panels),
        agreement=kendall_w_by_panel(totals, panels),
        outliers=outlier_flags(totals),
    )


def reviewer_diagnostics(
    entries: pd.DataFrame, scores: pd.DataFrame, criteria: pd.DataFrame, method: Method
) -> Diagnostics:
    """All reviewer diagnostics of a campaign, from the same inputs as the standings."""
    totals = counted_totals(entries, scores, criteria, method)
    table = component_table(entries, scores, criteria, method, totals=totals)
    return diagnose(totals, table, method)
