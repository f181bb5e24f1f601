"""Panel score of each entry from its counted totals (SPEC §3 "Panel score").

`mean`, `trimmed` (drop the `trim` highest and lowest, falling back to the
mean of all n where n <= 2 * trim) or `median`. The number of counted totals
`n` travels with the score: with `n < min_reviews` the score is provisional,
with n = 0 it is missing (NaN) and provisional.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def _trimmed_means(
    values: np.ndarray, group_ids: np.ndarray, n_groups: int, trim: int
) -> np.ndarray:
    """Trimmed mean per group, vectorised: sort within group, keep middle positions."""
    order = np.lexsort((values, group_ids))
    groups = group_ids[order]
    sorted_values = values[order]
    sizes = np.bincount(group_ids, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    position = np.arange(order.size) - starts[groups]
    size = sizes[groups]
    keep = (size <= 2 * trim) | ((position >= trim) & (position < size - trim))
    sums = np.bincount(groups[keep], weights=sorted_values[keep], minlength=n_groups)
    counts = np.bincount(groups[keep], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts


def aggregate_totals(
    counted: pd.DataFrame,
    codes: Iterable[str],
    how: str = "mean",
    trim: int = 1,
    min_reviews: int = 3,
) -> pd.DataFrame:
    """Score, n and provisional flag for each code in `codes` (one panel).

    `counted` has columns `code` and `total` (the totals that count, already
    normalised where the panel asks for it). Codes with no totals get
    score NaN, n 0, provisional True.
    """
    index = pd.Index(list(codes), name="code")
    group_ids = index.get_indexer(counted["code"])
    inside = group_ids >= 0
    group_ids = group_ids[inside]
    values = counted["total"].to_numpy(dtype=np.float64)[inside]
    n_groups = len(index)
    n = np.bincount(group_ids, minlength=n_groups)

    if how == "mean":
        sums = np.bincount(group_ids, weights=values, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            score = sums / n
    elif how == "trimmed":
        if trim < 0:
            raise ValueError(f"trim must be >= 0, got {trim}")
        score = _trimmed_means(values, group_ids, n_groups, trim)
    elif how == "median":
        medians = pd.Series(values).groupby(group_ids).median()
        score = np.full(n_groups, np.nan)
        score[medians.index.to_numpy(dtype=np.int64)] = medians.to_numpy(dtype=np.float64)
    else:
        raise ValueError(f"unknown aggregate {how!r}; expected mean, trimmed or median")

    score = np.where(n > 0, score, np.nan)
    return pd.DataFrame(
        {
            "score": score.astype(np.float64),
            "n": n.astype(np.int64),
            "provisional": (n < min_reviews) | (n == 0),
        },
        index=index,
    )
