"""Reviewer totals: T = 100 * sum(s) / sum(max_points), complete submitted sheets only."""

from __future__ import annotations

import numpy as np
import pytest
from engine_frames import criteria_frame, scores_frame, sheet

from scoring.engine import reviewer_totals

RUBRIC = criteria_frame({"P": {"c1": 30, "c2": 20}})  # sum(max_points) = 50


def totals_by_sheet(frame) -> dict[tuple[str, str], float]:
    return {(r.reviewer, r.code): r.total for r in frame.itertuples()}


def test_complete_submitted_sheets_count_and_everything_else_is_ignored() -> None:
    scores = scores_frame(
        sheet("P", "a", "E1", {"c1": 24, "c2": 16}),  # 100 * 40 / 50 = 80
        sheet("P", "a", "E2", {"c1": 7.5, "c2": 5}),  # 100 * 12.5 / 50 = 25
        sheet("P", "b", "E1", {"c1": 30, "c2": 20}, status="draft"),  # draft: never counts
        sheet("P", "c", "E1", {"c1": 30}),  # c2 not scored: incomplete
        sheet("P", "d", "E1", {"c1": 10, "c2": np.nan}),  # c2 has no score: incomplete
        sheet("P", "e", "E1", {"c1": 15})
        + sheet("P", "e", "E1", {"c2": 5}, status="draft"),  # half submitted: not submitted
        sheet("P", "a", "E9", {"c1": 30, "c2": 20}),  # E9 not shortlisted
    )
    totals = reviewer_totals(scores, RUBRIC, codes=["E1", "E2"])
    assert list(totals.columns) == ["panel", "reviewer", "code", "total"]
    assert totals_by_sheet(totals) == {("a", "E1"): 80.0, ("a", "E2"): 25.0}
    assert totals["total"].dtype == np.float64


def test_zero_and_full_marks_give_0_and_100() -> None:
    scores = scores_frame(
        sheet("P", "a", "E1", {"c1": 0, "c2": 0}),
        sheet("P", "a", "E2", {"c1": 30, "c2": 20}),
    )
    assert totals_by_sheet(reviewer_totals(scores, RUBRIC)) == {
        ("a", "E1"): 0.0,
        ("a", "E2"): 100.0,
    }


def test_panels_are_separate_sheets_with_their_own_rubric() -> None:
    criteria = criteria_frame({"P": {"c1": 30, "c2": 20}, "Q": {"c1": 40}})
    scores = scores_frame(
        sheet("P", "a", "E1", {"c1": 15, "c2": 10}),  # 100 * 25 / 50 = 50
        sheet("Q", "a", "E1", {"c1": 10}),  # 100 * 10 / 40 = 25
    )
    totals = reviewer_totals(scores, criteria)
    assert {(r.panel, r.total) for r in totals.itertuples()} == {("P", 50.0), ("Q", 25.0)}
    only_q = reviewer_totals(scores, criteria, panels=["Q"])
    assert list(only_q["panel"]) == ["Q"]


def test_a_panel_missing_a_criterion_of_its_rubric_does_not_count() -> None:
    criteria = criteria_frame({"P": {"c1": 30, "c2": 20, "c3": 50}})
    scores = scores_frame(sheet("P", "a", "E1", {"c1": 30, "c2": 20}))
    assert reviewer_totals(scores, criteria).empty


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (sheet("P", "a", "E1", {"c1": 10, "c9": 5}), "not in the panel's rubric"),
        (
            sheet("P", "a", "E1", {"c1": 10, "c2": 5}) + sheet("P", "a", "E1", {"c1": 11}),
            "more than once",
        ),
        (sheet("P", "a", "E1", {"c1": 31, "c2": 5}), "outside 0..max_points"),
        (sheet("P", "a", "E1", {"c1": -1, "c2": 5}), "outside 0..max_points"),
    ],
)
def test_unsound_scores_are_refused(rows, message) -> None:
    with pytest.raises(ValueError, match=message):
        reviewer_totals(scores_frame(rows), RUBRIC)


def test_missing_columns_are_named() -> None:
    scores = scores_frame(sheet("P", "a", "E1", {"c1": 1, "c2": 1})).drop(columns="status")
    with pytest.raises(ValueError, match="scores frame lacks column"):
        reviewer_totals(scores, RUBRIC)


def test_criteria_need_positive_max_points() -> None:
    criteria = criteria_frame({"P": {"c1": 0}})
    with pytest.raises(ValueError, match="max_points > 0"):
        reviewer_totals(scores_frame(sheet("P", "a", "E1", {"c1": 0})), criteria)
