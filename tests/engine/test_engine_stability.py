"""Weight stability: ±5-point moves with proportional rescaling."""

from __future__ import annotations

import pandas as pd
import pytest
from engine_frames import criteria_frame, entries_frame, scores_frame, sheet

from scoring.engine import Component, Method, rank_stability, weight_scenarios, weight_stability


def test_scenarios_move_each_weight_and_rescale_the_rest() -> None:
    assert weight_scenarios({"x": 50, "y": 50}) == [
        {"x": 55, "y": 45},
        {"x": 45, "y": 55},
        {"x": 45, "y": 55},
        {"x": 55, "y": 45},
    ]
    # x: 60 -> 65 leaves 35 for y, z in ratio 30:10 -> 26.25, 8.75
    first = weight_scenarios({"x": 60, "y": 30, "z": 10})[0]
    assert first == pytest.approx({"x": 65, "y": 26.25, "z": 8.75}, abs=1e-12)


def test_impossible_moves_are_skipped() -> None:
    # x + 5 = 102 > 100 and y - 5 = -2 < 0 are skipped
    scenarios = weight_scenarios({"x": 97, "y": 3})
    assert len(scenarios) == 2
    for scenario in scenarios:
        assert scenario == pytest.approx({"x": 92, "y": 8}, abs=1e-12)
    # a single component at 100 cannot move at all
    assert weight_scenarios({"x": 100}) == []


def test_rank_stability_small_example() -> None:
    method = Method((Component("x", "panel", 50), Component("y", "panel", 50)), tie_break=())
    table = pd.DataFrame(
        {
            "code": ["P", "Q", "R"],
            "group": ["g", "g", "g"],
            "x": [100.0, 0.0, 40.0],
            "y": [0.0, 96.0, 40.0],
            "provisional": [False, False, False],
        }
    )
    # base 50/50: P 50, Q 48, R 40 -> 1 2 3
    # x 55 / y 45: P 55, Q 43.2, R 40 -> 1 2 3;  x 45 / y 55: P 45, Q 52.8, R 40 -> 2 1 3
    result = rank_stability(table, method).set_index("code")
    assert result["rank"].to_dict() == {"P": 1, "Q": 2, "R": 3}
    assert result["min_rank"].to_dict() == {"P": 1, "Q": 1, "R": 3}
    assert result["max_rank"].to_dict() == {"P": 2, "Q": 2, "R": 3}
    assert set(result["scenarios"]) == {4}


def test_weight_stability_from_raw_frames() -> None:
    entries = entries_frame([("P", "c", "d", 100), ("Q", "c", "d", 0)])
    criteria = criteria_frame({"x": {"k": 10}})
    scores = scores_frame(sheet("x", "r", "P", {"k": 0}), sheet("x", "r", "Q", {"k": 9.5}))
    method = Method((Component("v", "votes", 50), Component("x", "panel", 50)))
    # base: P 50 * 100 / 100 + 0 = 50; Q 0 + 50 * 95 / 100 = 47.5
    # v 45 / x 55: P 45, Q 52.25 -> swap; v 55 / x 45: P 55, Q 42.75
    result = weight_stability(entries, scores, criteria, method).set_index("code")
    assert result.loc["P", ["rank", "min_rank", "max_rank"]].tolist() == [1, 1, 2]
    assert result.loc["Q", ["rank", "min_rank", "max_rank"]].tolist() == [2, 1, 2]
