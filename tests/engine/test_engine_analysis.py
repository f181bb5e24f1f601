"""The standings page's views: contributions, cut lines, coverage and group order."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from engine_frames import criteria_frame, entries_frame, scores_frame, sheet

from scoring.engine import (
    Component,
    Method,
    analyse,
    compute_standings,
    coverage_summary,
    cut_lines,
    ordered_groups,
    reviewer_diagnostics,
    weight_stability,
)

CRITERIA = criteria_frame({"expert": {"e1": 100}})
ENTRIES = entries_frame(
    [
        ("A", "X", "d1", 100),
        ("B", "X", "d1", 60),
        ("C", "X", "d1", 60),
        ("D", "X", "d1", 60),
        ("E", "X", "d1", 10),
        ("F", "Y", "d2", 40),
    ]
)
# B, C and D get identical votes and expert totals: a three-way tie on ranks 2-4.
SCORES = scores_frame(
    *(
        sheet("expert", r, code, {"e1": t})
        for r in ("r1", "r2")
        for code, t in (("A", 90), ("B", 70), ("C", 70), ("D", 70), ("E", 20))
    )
)
METHOD = Method(
    components=(
        Component("votes", "votes", 60),
        Component("expert", "panel", 40, min_reviews=3),
    ),
    vote_group="category",
    rank_group="category",
    award_quota=2,
)


def test_contributions_add_up_to_each_composite():
    analysis = analyse(ENTRIES, SCORES, CRITERIA, METHOD)
    summed = analysis.contributions.groupby("code")["contribution"].sum()
    composite = analysis.standings.set_index("code")["composite"]
    assert np.allclose(summed.reindex(composite.index), composite, atol=1e-12)
    # F has no expert score: that component contributes 0, and the score stays missing.
    f_expert = analysis.contributions.query("code == 'F' and component == 'expert'").iloc[0]
    assert f_expert["contribution"] == 0.0 and math.isnan(f_expert["score"])


def test_analysis_agrees_with_the_single_purpose_functions():
    analysis = analyse(ENTRIES, SCORES, CRITERIA, METHOD)
    pd.testing.assert_frame_equal(
        analysis.standings, compute_standings(ENTRIES, SCORES, CRITERIA, METHOD)
    )
    pd.testing.assert_frame_equal(
        analysis.stability, weight_stability(ENTRIES, SCORES, CRITERIA, METHOD)
    )
    expected = reviewer_diagnostics(ENTRIES, SCORES, CRITERIA, METHOD)
    pd.testing.assert_frame_equal(analysis.diagnostics.reviewers, expected.reviewers)


def test_a_tie_across_the_cut_line_puts_the_line_through_the_tied_entries():
    standings = compute_standings(ENTRIES, SCORES, CRITERIA, METHOD)
    lines = cut_lines(standings).set_index("group")
    tied = standings[standings["code"].isin(["B", "C", "D"])]
    assert tied["tie_at_cutline"].all()
    # Votes 60/100*60 + 70*0.4 = 64 for each of B, C, D.
    assert lines.loc["X", "last_in"] == pytest.approx(64.0)
    assert lines.loc["X", "first_out"] == pytest.approx(64.0)
    assert lines.loc["X", "cut"] == pytest.approx(64.0)


def test_the_cut_line_lies_between_the_last_award_and_the_next_entry():
    method = Method(
        components=METHOD.components, vote_group="category", rank_group="category", award_quota=1
    )
    standings = compute_standings(ENTRIES, SCORES, CRITERIA, method)
    line = cut_lines(standings).set_index("group").loc["X"]
    # A: 60 + 36 = 96; B/C/D: 64.
    assert (line["last_in"], line["first_out"]) == pytest.approx((96.0, 64.0))
    assert line["cut"] == pytest.approx(80.0)
    # Group Y has one entry, within its quota: the line sits at that entry.
    only = cut_lines(standings).set_index("group").loc["Y"]
    assert math.isnan(only["first_out"]) and only["cut"] == pytest.approx(only["last_in"])


def test_a_group_with_quota_zero_has_no_cut_line():
    method = Method(
        components=METHOD.components,
        vote_group="category",
        rank_group="category",
        award_quota=2,
        group_quotas={"Y": 0},
    )
    lines = cut_lines(compute_standings(ENTRIES, SCORES, CRITERIA, method)).set_index("group")
    assert math.isnan(lines.loc["Y", "cut"])


def test_coverage_counts_reviews_in_and_still_needed():
    standings = compute_standings(ENTRIES, SCORES, CRITERIA, METHOD)
    row = coverage_summary(standings, METHOD).iloc[0].to_dict()
    # A-E have 2 of 3 reviews, F none: 5 * 1 + 3 still needed, nobody complete.
    assert row == {
        "panel": "expert",
        "entries": 6,
        "complete": 0,
        "reviews": 10,
        "needed": 8,
        "min_reviews": 3,
    }


def test_groups_follow_the_campaign_order_not_the_alphabet():
    categories, domains = ["数字政府", "数字经济", "数字社会"], ["政务服务", "大数据"]
    labels = ["数字社会 / 大数据", "数字政府 / 大数据", "数字政府 / 政务服务", "数字经济 / 大数据"]
    assert ordered_groups(labels, categories, domains, "category_domain") == [
        "数字政府 / 政务服务",
        "数字政府 / 大数据",
        "数字经济 / 大数据",
        "数字社会 / 大数据",
    ]
    assert ordered_groups(["大数据", "政务服务"], categories, domains, "domain") == [
        "政务服务",
        "大数据",
    ]
    # A label the campaign does not know goes last rather than disappearing.
    assert ordered_groups(["zzz", "数字社会"], categories, domains, "category") == [
        "数字社会",
        "zzz",
    ]
