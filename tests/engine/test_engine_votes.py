"""Votes score V = 100 * v / max in the vote group, 0 where that max is 0."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from scoring.engine import votes_scores
from scoring.engine.groups import group_labels

ENTRIES = pd.DataFrame(
    {
        "category": ["X", "X", "X", "Y", "Y"],
        "domain": ["d1", "d2", "d1", "d1", "d2"],
        "votes": [50, 200, 100, 0, 0],
    }
)


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        # X: max 200 -> 25, 100, 50; Y: max 0 -> 0, 0
        ("category", [25.0, 100.0, 50.0, 0.0, 0.0]),
        # d1: 50, 100, 0 -> max 100 -> 50, 100, 0; d2: 200, 0 -> 100, 0
        ("domain", [50.0, 100.0, 100.0, 0.0, 0.0]),
        # X/d1: 50, 100 -> 50, 100; X/d2: 200 -> 100; Y/d1: 0 -> 0; Y/d2: 0 -> 0
        ("category_domain", [50.0, 100.0, 100.0, 0.0, 0.0]),
        # all: max 200 -> 25, 100, 50, 0, 0
        ("all", [25.0, 100.0, 50.0, 0.0, 0.0]),
    ],
)
def test_votes_scaled_in_their_group(how: str, expected: list[float]) -> None:
    result = votes_scores(ENTRIES["votes"], group_labels(ENTRIES, how))
    assert result.tolist() == expected


def test_missing_tally_is_missing_not_zero() -> None:
    result = votes_scores(pd.Series([10.0, float("nan")]), pd.Series(["g", "g"]))
    assert result.iloc[0] == 100.0
    assert math.isnan(result.iloc[1])


def test_negative_tallies_are_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        votes_scores(pd.Series([-1]), pd.Series(["g"]))
