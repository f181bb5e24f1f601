"""Composite, ranks, ties and awards (SPEC §3 "Composite", "Ranking", "Awards").

Ties. Two entries are tied when every ranking key (composite, then the
tie-break components) differs by less than `TIE_TOLERANCE`. "Within 1e-9" is
not transitive on raw floats, so each key is first turned into a *level*
inside its ranking group: the group's values are sorted and consecutive values
closer than the tolerance are chained into one level. Entries are then ordered
and compared on their tuple of levels, which is exact, symmetric and
transitive: any two values within the tolerance always share a level (all
values between them are chained too); a long chain of tiny steps can make a
level wider than the tolerance, which is the price of transitivity and is
never met with real scores. Nothing is broken at random; display order inside
a tie is by code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .method import Override

TIE_TOLERANCE = 1e-9


def composite_scores(
    components: pd.DataFrame, weights: Mapping[str, float]
) -> tuple[pd.Series, pd.Series]:
    """`C = sum_k w_k / 100 * S_k` and whether any component was missing.

    A missing component (NaN) contributes 0 and makes the entry provisional,
    so the second Series is that provisional-by-missing flag.
    """
    composite = np.zeros(len(components), dtype=np.float64)
    missing = np.zeros(len(components), dtype=bool)
    for key, weight in weights.items():
        values = components[key].to_numpy(dtype=np.float64)
        absent = np.isnan(values)
        missing |= absent
        composite += weight / 100.0 * np.where(absent, 0.0, values)
    return (
        pd.Series(composite, index=components.index, name="composite"),
        pd.Series(missing, index=components.index, name="missing"),
    )


def tolerant_levels(
    values: np.ndarray, group_ids: np.ndarray, tolerance: float = TIE_TOLERANCE
) -> np.ndarray:
    """Integer level per value: equal exactly when chained within `tolerance` in its group.

    Levels increase with the value inside a group; comparing levels is the
    tolerant comparison of values described in the module docstring.
    """
    values = np.asarray(values, dtype=np.float64)
    group_ids = np.asarray(group_ids)
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((values, group_ids))
    sorted_values = values[order]
    sorted_groups = group_ids[order]
    new_level = np.ones(values.size, dtype=bool)
    new_level[1:] = (sorted_groups[1:] != sorted_groups[:-1]) | (
        np.diff(sorted_values) >= tolerance
    )
    levels = np.empty(values.size, dtype=np.int64)
    levels[order] = np.cumsum(new_level)
    return levels


def rank_entries(codes: pd.Series, groups: pd.Series, keys: Sequence[pd.Series]) -> pd.DataFrame:
    """Competition ranks inside each group on the whole key, with tie blocks.

    `keys` are the ranking keys in priority order, each descending; NaN counts
    as 0. Returns, aligned with `codes`: `rank` (1, 2, 2, 4), `tie` (bool),
    `tie_size` (entries sharing the rank) and `order` (0-based display
    position over the whole frame: group label, rank, code).
    """
    n = len(codes)
    index = codes.index
    group_rank = pd.Index(groups.to_numpy()).astype(str)
    group_ids = pd.factorize(group_rank, sort=True)[0]
    code_order = pd.factorize(codes.astype(str).to_numpy(), sort=True)[0]
    levels = [
        tolerant_levels(np.nan_to_num(k.to_numpy(dtype=np.float64), nan=0.0), group_ids)
        for k in keys
    ]
    # np.lexsort sorts by the last key first: group, then levels descending, then code.
    sort_keys = [code_order, *[-lv for lv in reversed(levels)], group_ids]
    order = np.lexsort(sort_keys) if n else np.zeros(0, dtype=np.int64)

    sorted_groups = group_ids[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = sorted_groups[1:] != sorted_groups[:-1]
    new_block = new_group.copy()
    for lv in levels:
        sorted_lv = lv[order]
        new_block[1:] |= sorted_lv[1:] != sorted_lv[:-1]

    position = np.arange(n)
    group_start = np.maximum.accumulate(np.where(new_group, position, 0)) if n else position
    block_start = np.maximum.accumulate(np.where(new_block, position, 0)) if n else position
    block_ids = np.cumsum(new_block) - 1
    block_sizes = np.bincount(block_ids) if n else np.zeros(0, dtype=np.int64)

    rank = np.empty(n, dtype=np.int64)
    tie_size = np.empty(n, dtype=np.int64)
    display = np.empty(n, dtype=np.int64)
    rank[order] = block_start - group_start + 1
    tie_size[order] = block_sizes[block_ids] if n else block_sizes
    display[order] = position
    return pd.DataFrame(
        {"rank": rank, "tie": tie_size > 1, "tie_size": tie_size, "order": display},
        index=index,
    )


def assign_awards(
    codes: pd.Series,
    groups: pd.Series,
    rank: pd.Series,
    tie_size: pd.Series,
    quota_for: Mapping[str, int] | None,
    default_quota: int,
    tie_decisions: Mapping[str, bool] | None = None,
    overrides: Sequence[Override] = (),
) -> pd.DataFrame:
    """Awards per entry: quota, then cut-line ties, tie decisions and overrides.

    * `rank <= quota` gets the award (so a whole tie that starts inside the
      quota is awarded by default);
    * a tie occupying positions `rank .. rank + tie_size - 1` with
      `rank <= quota < rank + tie_size - 1` straddles the cut line: every
      member is flagged `tie_at_cutline`;
    * the organiser's `tie_decisions` set the award of flagged entries only
      (a decision about an entry no longer at the cut line is stale and
      ignored rather than silently moving an award);
    * committee overrides grant or revoke last, and their reason is kept in
      the `override` column (None elsewhere). Overrides for codes not in the
      frame do nothing.
    """
    labels = groups.astype(str)
    quotas = labels.map(dict(quota_for or {})).fillna(default_quota).astype(np.int64)
    rank_v = rank.to_numpy(dtype=np.int64)
    last = rank_v + tie_size.to_numpy(dtype=np.int64) - 1
    quota_v = quotas.to_numpy()
    award = rank_v <= quota_v
    at_cutline = (rank_v <= quota_v) & (last > quota_v)

    code_values = codes.astype(str)
    if tie_decisions:
        decided = code_values.map(dict(tie_decisions))
        apply = at_cutline & decided.notna().to_numpy()
        award = np.where(apply, decided.fillna(False).to_numpy(dtype=bool), award)

    override = np.full(len(codes), None, dtype=object)
    if overrides:
        by_code = {o.code: o for o in overrides}
        matched = code_values.isin(list(by_code)).to_numpy()
        for pos in np.flatnonzero(matched):
            chosen = by_code[code_values.iloc[pos]]
            award[pos] = chosen.action == "grant"
            override[pos] = chosen.reason

    return pd.DataFrame(
        {
            "award": award.astype(bool),
            "tie_at_cutline": at_cutline,
            "quota": quota_v,
            "override": pd.Series(override, index=codes.index, dtype=object),
        },
        index=codes.index,
    )
