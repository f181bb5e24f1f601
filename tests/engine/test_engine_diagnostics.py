"""Reviewer diagnostics: summary, Kendall's W, outlier flags."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from engine_frames import criteria_frame, entries_frame, scores_frame, sheet

from scoring.engine import (
    Component,
    Method,
    kendall_w,
    kendall_w_by_panel,
    outlier_flags,
    reviewer_diagnostics,
)

# rows: reviewers, columns: entries E1..E4
NO_TIES = [[90, 80, 70, 60], [85, 75, 80, 50], [70, 90, 60, 50]]
# ranks (1 = lowest): r1 4 3 2 1; r2 4 2 3 1; r3 3 4 2 1
# R = 11 9 7 3, mean R = m (n + 1) / 2 = 7.5, S = 3.5² + 1.5² + 0.5² + 4.5² = 35
# W = 12 S / (m² (n³ - n)) = 420 / (9 * 60) = 7 / 9
WITH_TIE = [[90, 80, 70, 60], [85, 75, 80, 50], [70, 70, 60, 50]]
# r3 ranks 3.5 3.5 2 1 -> R = 11.5 8.5 7 3, S = 4² + 1² + 0.5² + 4.5² = 37.5
# tie correction: r3 has one pair, T = 2³ - 2 = 6; denominator 9 * 60 - 3 * 6 = 522
# W = 12 * 37.5 / 522 = 25 / 29


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        (NO_TIES, 7 / 9),
        (WITH_TIE, 25 / 29),
        ([[1, 2, 3], [1, 2, 3]], 1.0),  # perfect agreement
        ([[1, 2], [2, 1]], 0.0),  # perfect disagreement of two reviewers
    ],
)
def test_kendall_w_hand_examples(ratings, expected: float) -> None:
    assert kendall_w(np.array(ratings, dtype=float)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("ratings", [[[1, 2, 3]], [[1], [2]], [[5, 5], [7, 7]]])
def test_kendall_w_is_nan_when_undefined(ratings) -> None:
    # one reviewer; one entry; every reviewer gave equal totals (denominator 0)
    assert math.isnan(kendall_w(np.array(ratings, dtype=float)))


def long_totals(matrix, panel="P") -> pd.DataFrame:
    rows = [
        (panel, f"r{i + 1}", f"E{j + 1}", float(t))
        for i, row in enumerate(matrix)
        for j, t in enumerate(row)
    ]
    frame = pd.DataFrame(rows, columns=["panel", "reviewer", "code", "total"])
    frame["counted"] = frame["total"]
    return frame


def test_kendall_w_by_panel_uses_the_complete_block() -> None:
    totals = long_totals(NO_TIES)
    # r1 also scored E5 alone: E5 is not in the complete block, W stays 7/9
    extra = pd.DataFrame([("P", "r1", "E5", 10.0, 10.0)], columns=totals.columns)
    result = kendall_w_by_panel(pd.concat([totals, extra]), ["P"]).iloc[0]
    assert result["w"] == pytest.approx(7 / 9, abs=1e-12)
    assert (result["reviewers"], result["entries"]) == (3, 4)
    # r4 scored only E1: the block of entries scored by all 4 reviewers is {E1} -> NaN
    lone = pd.DataFrame([("P", "r4", "E1", 50.0, 50.0)], columns=totals.columns)
    result = kendall_w_by_panel(pd.concat([totals, lone]), ["P"]).iloc[0]
    assert math.isnan(result["w"])
    assert (result["reviewers"], result["entries"]) == (4, 1)


def test_outlier_flag_beyond_two_panel_sds() -> None:
    # E1: 50 50 50 90 (entry mean 60); E2: 50 50 50 50 (mean 50)
    # panel: seven 50s and one 90 -> mu 55, squared deviations 7 * 25 + 35² = 1400,
    # var 175, sd = sqrt(175) ~ 13.23, 2 sd ~ 26.46
    # |90 - 60| = 30 > 26.46 -> flagged; |50 - 60| = 10 -> not flagged
    totals = long_totals([[50, 50], [50, 50], [50, 50], [90, 50]])
    flags = outlier_flags(totals).set_index(["reviewer", "code"])
    assert flags["outlier"].sum() == 1
    assert flags.loc[("r4", "E1"), "outlier"]
    assert flags.loc[("r4", "E1"), "entry_mean"] == 60.0
    assert flags.loc[("r4", "E1"), "panel_sd"] == pytest.approx(math.sqrt(175), abs=1e-12)


def test_reviewer_diagnostics_end_to_end() -> None:
    entries = entries_frame([("E1", "X", "d", 0), ("E2", "X", "d", 0)])
    criteria = criteria_frame({"P": {"c": 100}})
    scores = scores_frame(
        sheet("P", "r1", "E1", {"c": 80}),
        sheet("P", "r1", "E2", {"c": 60}),
        sheet("P", "r2", "E1", {"c": 60}),
        sheet("P", "r2", "E2", {"c": 40}),
        sheet("P", "r3", "E1", {"c": 70}, status="draft"),
    )
    method = Method((Component("P", "panel", 100, min_reviews=1),))
    diag = reviewer_diagnostics(entries, scores, criteria, method)
    # panel scores (mean): E1 (80 + 60) / 2 = 70, E2 (60 + 40) / 2 = 50
    # r1: n 2, mean 70, sd 10, deviations +10 +10 -> 10; r2: mean 50, sd 10, dev -10
    reviewers = diag.reviewers.set_index("reviewer")
    assert reviewers.loc["r1", ["n", "mean", "sd", "mean_deviation"]].tolist() == [2, 70, 10, 10]
    assert reviewers.loc["r2", ["n", "mean", "sd", "mean_deviation"]].tolist() == [2, 50, 10, -10]
    assert "r3" not in reviewers.index  # drafts never count
    # ranks agree perfectly (E1 above E2 for both) -> W = 1
    assert diag.agreement.iloc[0]["w"] == 1.0
    assert not diag.outliers["outlier"].any()
