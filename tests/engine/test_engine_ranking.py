"""Composite, competition ranks, ties, cut-line ties, tie decisions, overrides, quotas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.engine import Override, assign_awards, composite_scores, rank_entries


def test_composite_weights_components_and_counts_missing_as_zero() -> None:
    table = pd.DataFrame({"votes": [80.0, 80.0], "media": [60.0, 60.0], "expert": [90.0, np.nan]})
    composite, missing = composite_scores(table, {"votes": 55, "media": 15, "expert": 30})
    # 0.55 * 80 + 0.15 * 60 + 0.30 * 90 = 44 + 9 + 27 = 80; without expert: 53
    assert composite.tolist() == pytest.approx([80.0, 53.0], abs=1e-12)
    assert missing.tolist() == [False, True]


def ranks(composite, *tie_break, groups=None, codes=None) -> pd.DataFrame:
    n = len(composite)
    codes = pd.Series(codes or [f"E{i}" for i in range(1, n + 1)])
    groups = pd.Series(groups or ["g"] * n)
    keys = [pd.Series(composite, dtype=float), *(pd.Series(k, dtype=float) for k in tie_break)]
    result = rank_entries(codes, groups, keys)
    result.index = codes
    return result


def test_competition_ranks_1_2_2_4() -> None:
    result = ranks([90, 80, 80, 70])
    assert result["rank"].tolist() == [1, 2, 2, 4]
    assert result["tie"].tolist() == [False, True, True, False]
    assert result["tie_size"].tolist() == [1, 2, 2, 1]


def test_tie_break_chain_orders_equal_composites_with_missing_counting_zero() -> None:
    # All composites 80. expert: E1 missing (= 0), E2 0, E3 5, E4 5.
    # media separates E3/E4 (70 > 60) but E1/E2 are equal on media too -> tied at 3.
    result = ranks([80, 80, 80, 80], [np.nan, 0, 5, 5], [50, 50, 60, 70])
    assert result["rank"].to_dict() == {"E1": 3, "E2": 3, "E3": 2, "E4": 1}
    assert result["tie"].to_dict() == {"E1": True, "E2": True, "E3": False, "E4": False}


def test_tie_tolerance_is_1e_9_on_every_key() -> None:
    # E1/E2 differ by 5e-10 -> tied; E3 is 2e-9 below E2 -> not tied.
    result = ranks([80.0, 80.0 - 5e-10, 80.0 - 2.5e-9])
    assert result["rank"].tolist() == [1, 1, 3]
    # equal composites but a tie-break key 1e-6 apart -> not tied
    result = ranks([80.0, 80.0], [10.0, 10.0 + 1e-6])
    assert result["rank"].to_dict() == {"E1": 2, "E2": 1}


def test_nearly_equal_composite_defers_to_the_tie_break() -> None:
    # E1's composite is 1e-12 higher (a float artefact) but E2 is far better on expert:
    # the composites count as equal, so expert decides.
    result = ranks([80.0 + 1e-12, 80.0], [10.0, 90.0])
    assert result["rank"].to_dict() == {"E1": 2, "E2": 1}


def test_ranks_restart_in_each_group_and_display_order_is_group_rank_code() -> None:
    result = ranks([50, 70, 70, 90], groups=["b", "a", "b", "a"], codes=["Z", "Y", "B", "A"])
    assert result["rank"].to_dict() == {"Z": 2, "Y": 2, "B": 1, "A": 1}
    assert result.sort_values("order").index.tolist() == ["A", "Y", "B", "Z"]


def test_display_order_within_a_tie_is_by_code() -> None:
    result = ranks([70, 70, 70], codes=["C3", "A1", "B2"])
    assert result.sort_values("order").index.tolist() == ["A1", "B2", "C3"]
    assert result["rank"].tolist() == [1, 1, 1]


def awards(rank, tie_size, quota=3, groups=None, quotas=None, decisions=None, overrides=()):
    n = len(rank)
    codes = pd.Series([f"E{i}" for i in range(1, n + 1)])
    result = assign_awards(
        codes,
        pd.Series(groups or ["g"] * n),
        pd.Series(rank),
        pd.Series(tie_size),
        quotas,
        quota,
        decisions,
        overrides,
    )
    result.index = codes
    return result


def test_quota_awards_ranks_up_to_the_quota() -> None:
    result = awards([1, 2, 3, 4], [1, 1, 1, 1])
    assert result["award"].tolist() == [True, True, True, False]
    assert not result["tie_at_cutline"].any()
    assert result["override"].isna().all()


def test_three_way_tie_across_the_cut_line_flags_every_member() -> None:
    # quota 3: E1 rank 1; E2-E4 tied at rank 2 occupy positions 2..4 -> 2 <= 3 < 4.
    result = awards([1, 2, 2, 2, 5], [1, 3, 3, 3, 1])
    assert result["tie_at_cutline"].tolist() == [False, True, True, True, False]
    # undecided: every member ranked <= quota keeps the award until the organiser decides
    assert result["award"].tolist() == [True, True, True, True, False]


@pytest.mark.parametrize(
    ("rank", "tie_size"),
    [
        ([1, 1, 3, 4], [2, 2, 1, 1]),  # tie inside the quota
        ([1, 2, 2, 4], [1, 2, 2, 1]),  # tie ending exactly at the quota (positions 2..3)
        ([1, 2, 3, 4, 4], [1, 1, 1, 2, 2]),  # tie starting just after the quota
    ],
)
def test_ties_not_straddling_the_cut_line_are_not_flagged(rank, tie_size) -> None:
    result = awards(rank, tie_size)
    assert not result["tie_at_cutline"].any()
    assert result["award"].tolist() == [r <= 3 for r in rank]


def test_tie_decisions_settle_the_cut_line_and_stale_ones_are_ignored() -> None:
    decisions = {"E2": True, "E3": False, "E4": True, "E1": False, "E5": True}
    result = awards([1, 2, 2, 2, 5], [1, 3, 3, 3, 1], decisions=decisions)
    # E1 and E5 are not at the cut line: their "decisions" change nothing.
    assert result["award"].tolist() == [True, True, False, True, False]
    assert result["tie_at_cutline"].tolist() == [False, True, True, True, False]


def test_overrides_grant_and_revoke_with_their_reason() -> None:
    overrides = (
        Override("E4", "grant", "委员会决定增补"),
        Override("E1", "revoke", "材料不实"),
        Override("E99", "grant", "not shortlisted"),
    )
    result = awards([1, 2, 3, 4], [1, 1, 1, 1], overrides=overrides)
    assert result["award"].tolist() == [False, True, True, True]
    assert result["override"].tolist() == ["材料不实", None, None, "委员会决定增补"]


def test_overrides_apply_after_tie_decisions() -> None:
    result = awards(
        [1, 2, 2, 2],
        [1, 3, 3, 3],
        decisions={"E3": False},
        overrides=(Override("E3", "grant", "committee"),),
    )
    assert result["award"].tolist() == [True, True, True, True]


def test_group_quotas_override_the_default_quota() -> None:
    result = awards(
        [1, 2, 3, 1, 2, 3],
        [1] * 6,
        quota=2,
        groups=["a", "a", "a", "b", "b", "b"],
        quotas={"b": 1},
    )
    assert result["quota"].tolist() == [2, 2, 2, 1, 1, 1]
    assert result["award"].tolist() == [True, True, False, True, False, False]
