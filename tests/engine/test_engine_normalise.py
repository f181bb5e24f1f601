"""Z-score normalisation per panel, including both fall-backs and clipping."""

from __future__ import annotations

import pandas as pd

from scoring.engine import normalise_totals, zscore


def totals(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["panel", "reviewer", "total"]).astype({"total": float})


# Panel P, 9 totals: 55 55 65 65 | 55 55 55 | 5 85
#   mu_P = 495 / 9 = 55
#   squared deviations 0 0 100 100 0 0 0 2500 900 = 3600 -> var 400 -> sd_P = 20
# r1: 55 55 65 65 -> mu_r 60, sd_r 5 (population) -> T' = 55 + (T - 60) / 5 * 20
#     55 -> 35, 65 -> 75
# r2: 55 55 55 -> sd_r = 0 -> shift T - 55 + 55 = 55
# r3: 5 85 (fewer than 3 totals) -> mu_r 45 -> shift T - 45 + 55: 5 -> 15, 85 -> 95
PANEL_P = [
    ("P", "r1", 55),
    ("P", "r1", 55),
    ("P", "r1", 65),
    ("P", "r1", 65),
    ("P", "r2", 55),
    ("P", "r2", 55),
    ("P", "r2", 55),
    ("P", "r3", 5),
    ("P", "r3", 85),
]
EXPECTED_P = [35, 35, 75, 75, 55, 55, 55, 15, 95]

# Panel Q, clipping: rA six totals of 100 (sd 0), rB: 0 and 100 (n = 2, mu_r 50).
#   mu_Q = (600 + 100) / 8 = 87.5
#   rA: 100 - 100 + 87.5 = 87.5; rB: 0 -> 37.5, 100 -> 137.5 clipped to 100
PANEL_Q = [("Q", "rA", 100)] * 6 + [("Q", "rB", 0), ("Q", "rB", 100)]
EXPECTED_Q = [87.5] * 6 + [37.5, 100.0]


def test_zscore_scales_shifts_and_clips_per_panel() -> None:
    frame = totals(PANEL_P + PANEL_Q)
    assert zscore(frame).tolist() == EXPECTED_P + EXPECTED_Q


def test_panels_do_not_mix_whatever_the_row_order() -> None:
    frame = totals(PANEL_Q + PANEL_P).iloc[::-1]
    result = zscore(frame)
    assert result.loc[frame.index].tolist() == (EXPECTED_Q + EXPECTED_P)[::-1]


def test_normalise_only_touches_zscore_panels() -> None:
    frame = totals(PANEL_P + PANEL_Q)
    counted = normalise_totals(frame, {"P": "none", "Q": "zscore"})
    assert counted.tolist() == [t for _, _, t in PANEL_P] + EXPECTED_Q
    assert frame["total"].tolist() == [t for _, _, t in PANEL_P + PANEL_Q]  # input untouched
