"""Per-panel normalisation of reviewer totals (SPEC §3 "Normalisation").

Some reviewers score harshly, some generously; `zscore` puts every reviewer
of a panel on the panel's own scale before totals are aggregated:

    T' = clip(mu_P + (T - mu_r) / sd_r * sd_P, 0, 100)

`mu_r, sd_r` are the mean and population SD (ddof=0) of reviewer r's totals
in the panel, `mu_P, sd_P` those of all the panel's counted totals. Where r
has fewer than 3 totals, or `sd_r == 0`, the SD says nothing about r's
spread and only the shift is applied: `T' = clip(T - mu_r + mu_P, 0, 100)`.

`sd_r == 0` is tested as `sd_r < SD_ZERO` (1e-9 on the 0..100 scale): a
reviewer who gave identical totals can get an SD of ~1e-15 from float
rounding of the mean, and dividing by it would be noise, not a rule.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

SD_ZERO = 1e-9
MIN_TOTALS_FOR_SD = 3


def _population_stats(values: pd.Series, keys: list[pd.Series]) -> tuple[pd.Series, ...]:
    grouped = values.groupby(keys, sort=False)
    n = grouped.transform("size")
    mean = grouped.transform("mean")
    sd = ((values - mean) ** 2).groupby(keys, sort=False).transform("mean") ** 0.5
    return n, mean, sd


def zscore(totals: pd.DataFrame) -> pd.Series:
    """Z-score normalised totals for every row of `totals` (all panels at once).

    `totals` has columns `panel, reviewer, total`; the result is aligned with
    its index. Statistics are taken per panel, so panels never mix.
    """
    values = totals["total"].astype(float)
    n_r, mu_r, sd_r = _population_stats(values, [totals["panel"], totals["reviewer"]])
    _, mu_p, sd_p = _population_stats(values, [totals["panel"]])
    shift_only = (n_r < MIN_TOTALS_FOR_SD) | (sd_r < SD_ZERO)
    scaled = mu_p + (values - mu_r) / sd_r.where(~shift_only, 1.0) * sd_p
    shifted = values - mu_r + mu_p
    return scaled.where(~shift_only, shifted).clip(0.0, 100.0)


def normalise_totals(totals: pd.DataFrame, how_by_panel: Mapping[str, str]) -> pd.Series:
    """The totals that count, per each panel's normalisation ("none" or "zscore").

    Returns a float Series aligned with `totals`; panels set to "none" (or not
    named) keep their raw totals.
    """
    counted = totals["total"].astype(float).copy()
    zpanels = [p for p, how in how_by_panel.items() if how == "zscore"]
    if zpanels and len(totals):
        mask = totals["panel"].isin(zpanels).to_numpy()
        if mask.any():
            counted[mask] = zscore(totals.loc[mask]).to_numpy(dtype=np.float64)
    return counted
