"""Panel score: mean, trimmed (any trim, with fall-back), median; n and provisional."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from scoring.engine import aggregate_totals

TOTALS = {
    "A": [10, 30, 50, 85, 95],
    "B": [10, 20, 50, 70, 90, 96],
    "C": [20, 80],
    "D": [10, 20, 30, 100],
}
CODES = ["A", "B", "C", "D", "E"]  # E has no totals


def counted() -> pd.DataFrame:
    rows = [(code, float(t)) for code, ts in TOTALS.items() for t in ts]
    # scrambled so the aggregate cannot rely on input order
    frame = pd.DataFrame(rows, columns=["code", "total"])
    return frame.sample(frac=1.0, random_state=7)


@pytest.mark.parametrize(
    ("how", "trim", "expected"),
    [
        # A: 270 / 5 = 54; B: 336 / 6 = 56; C: 100 / 2 = 50; D: 160 / 4 = 40
        ("mean", 1, {"A": 54.0, "B": 56.0, "C": 50.0, "D": 40.0}),
        # trim 1: A 30+50+85 = 165 / 3 = 55; B 20+50+70+90 = 230 / 4 = 57.5;
        # C n=2 <= 2 -> mean of all 50; D 20+30 = 50 / 2 = 25
        ("trimmed", 1, {"A": 55.0, "B": 57.5, "C": 50.0, "D": 25.0}),
        # trim 2: A 50; B 50+70 = 120 / 2 = 60; C n=2 <= 4 -> 50; D n=4 <= 4 -> mean 40
        ("trimmed", 2, {"A": 50.0, "B": 60.0, "C": 50.0, "D": 40.0}),
        # trim 0 is the plain mean
        ("trimmed", 0, {"A": 54.0, "B": 56.0, "C": 50.0, "D": 40.0}),
        # median: A 50; B (50 + 70) / 2 = 60; C (20 + 80) / 2 = 50; D (20 + 30) / 2 = 25
        ("median", 1, {"A": 50.0, "B": 60.0, "C": 50.0, "D": 25.0}),
    ],
)
def test_aggregates(how: str, trim: int, expected: dict[str, float]) -> None:
    result = aggregate_totals(counted(), CODES, how=how, trim=trim)
    assert result.loc[["A", "B", "C", "D"], "score"].to_dict() == expected
    assert math.isnan(result.loc["E", "score"])


@pytest.mark.parametrize(
    ("min_reviews", "provisional"),
    [
        (3, {"A": False, "B": False, "C": True, "D": False, "E": True}),
        (5, {"A": False, "B": False, "C": True, "D": True, "E": True}),
        # n = 0 is missing and provisional even when no minimum is required
        (0, {"A": False, "B": False, "C": False, "D": False, "E": True}),
    ],
)
def test_n_and_provisional(min_reviews: int, provisional: dict[str, bool]) -> None:
    result = aggregate_totals(counted(), CODES, min_reviews=min_reviews)
    assert result["n"].to_dict() == {"A": 5, "B": 6, "C": 2, "D": 4, "E": 0}
    assert result["provisional"].to_dict() == provisional


def test_totals_of_codes_outside_the_list_are_ignored() -> None:
    frame = pd.DataFrame({"code": ["A", "Z"], "total": [40.0, 100.0]})
    result = aggregate_totals(frame, ["A"])
    assert result.loc["A", "score"] == 40.0
    assert list(result.index) == ["A"]
