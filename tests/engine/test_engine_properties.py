"""Property tests: invariances and structural guarantees of the standings."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import numpy as np
import pandas as pd
from engine_frames import SCORE_COLUMNS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from scoring.engine import Component, Method, compute_standings

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

RUBRICS = {"expert": {"e1": 10.0, "e2": 5.0}, "media": {"m1": 4.0}}
REVIEWERS = {"expert": ["x1", "x2", "x3", "x4"], "media": ["m1", "m2", "m3"]}
CRITERIA = pd.DataFrame(
    [(p, c, m) for p, rubric in RUBRICS.items() for c, m in rubric.items()],
    columns=["panel", "criterion", "max_points"],
)


@st.composite
def campaigns(draw) -> tuple[pd.DataFrame, pd.DataFrame, Method]:
    n = draw(st.integers(1, 8))
    entries = pd.DataFrame(
        {
            "code": [f"E{i:02d}" for i in range(n)],
            "title": [f"t{i}" for i in range(n)],
            "category": draw(st.lists(st.sampled_from(["X", "Y"]), min_size=n, max_size=n)),
            "domain": draw(st.lists(st.sampled_from(["d1", "d2"]), min_size=n, max_size=n)),
            "votes": draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)),
        }
    )
    rows = []
    for panel, reviewers in REVIEWERS.items():
        for reviewer in reviewers:
            for code in entries["code"]:
                kind = draw(
                    st.sampled_from(["none", "submitted", "submitted", "draft", "incomplete"])
                )
                if kind == "none":
                    continue
                criteria = list(RUBRICS[panel].items())
                if kind == "incomplete":
                    criteria = criteria[:-1]
                status = "draft" if kind == "draft" else "submitted"
                for criterion, max_points in criteria:
                    score = draw(st.integers(0, int(max_points * 2))) / 2
                    rows.append((panel, reviewer, code, criterion, score, status))
    scores = pd.DataFrame(rows, columns=SCORE_COLUMNS).astype({"score": "float64"})

    w_votes = draw(st.integers(0, 100))
    w_expert = draw(st.integers(0, 100 - w_votes))
    panel = st.fixed_dictionaries(
        {
            "aggregate": st.sampled_from(["mean", "trimmed", "median"]),
            "trim": st.integers(0, 2),
            "normalise": st.sampled_from(["none", "zscore"]),
            "min_reviews": st.integers(0, 4),
        }
    )
    method = Method(
        components=(
            Component("votes", "votes", w_votes),
            Component("expert", "panel", w_expert, **draw(panel)),
            Component("media", "panel", 100 - w_votes - w_expert, **draw(panel)),
        ),
        vote_group=draw(st.sampled_from(["category", "domain", "category_domain", "all"])),
        rank_group=draw(st.sampled_from(["category", "domain", "category_domain", "all"])),
        award_quota=draw(st.integers(0, 4)),
    )
    return entries, scores, method


def assert_same(left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert_frame_equal(left, right, check_exact=False, rtol=1e-12, atol=1e-9)


@SETTINGS
@given(campaigns())
def test_composite_and_component_scores_stay_within_0_and_100(campaign) -> None:
    entries, scores, method = campaign
    frame = compute_standings(entries, scores, CRITERIA, method)
    assert len(frame) == len(entries)
    assert ((frame["composite"] >= -1e-9) & (frame["composite"] <= 100 + 1e-9)).all()
    for key in method.keys:
        values = frame[key].dropna()
        assert ((values >= -1e-9) & (values <= 100 + 1e-9)).all()


@SETTINGS
@given(campaigns(), st.integers(0, 2**32 - 1))
def test_order_of_entries_rows_and_reviewer_names_changes_nothing(campaign, seed) -> None:
    entries, scores, method = campaign
    base = compute_standings(entries, scores, CRITERIA, method)
    rng = np.random.default_rng(seed)
    shuffled_entries = entries.iloc[rng.permutation(len(entries))].reset_index(drop=True)
    shuffled_scores = scores.iloc[rng.permutation(len(scores))].reset_index(drop=True)
    names = sorted(set(scores["reviewer"]))
    renamed = dict(zip(names, [f"z{i}" for i in rng.permutation(len(names))], strict=True))
    shuffled_scores["reviewer"] = shuffled_scores["reviewer"].map(renamed)
    assert_same(base, compute_standings(shuffled_entries, shuffled_scores, CRITERIA, method))


@SETTINGS
@given(campaigns())
def test_order_of_components_changes_nothing(campaign) -> None:
    entries, scores, method = campaign
    base = compute_standings(entries, scores, CRITERIA, method)
    reordered = replace(method, components=tuple(reversed(method.components)))
    other = compute_standings(entries, scores, CRITERIA, reordered)
    assert_same(base, other[list(base.columns)])


@SETTINGS
@given(campaigns())
def test_scaling_rubric_points_and_vote_tallies_changes_nothing(campaign) -> None:
    entries, scores, method = campaign
    base = compute_standings(entries, scores, CRITERIA, method)
    doubled = scores.assign(score=scores["score"] * 2)
    criteria = CRITERIA.assign(max_points=CRITERIA["max_points"] * 2)
    more_votes = entries.assign(votes=entries["votes"] * 4)
    assert_same(base, compute_standings(more_votes, doubled, criteria, method))


@SETTINGS
@given(campaigns(), st.data())
def test_adding_a_draft_sheet_changes_nothing(campaign, data) -> None:
    entries, scores, method = campaign
    base = compute_standings(entries, scores, CRITERIA, method)
    panel = data.draw(st.sampled_from(sorted(RUBRICS)))
    code = data.draw(st.sampled_from(list(entries["code"])))
    draft = pd.DataFrame(
        [(panel, "late-reviewer", code, c, m, "draft") for c, m in RUBRICS[panel].items()],
        columns=SCORE_COLUMNS,
    )
    with_draft = pd.concat([scores, draft], ignore_index=True)
    assert_same(base, compute_standings(entries, with_draft, CRITERIA, method))


@SETTINGS
@given(campaigns())
def test_ranks_are_competition_ranks_and_ties_are_symmetric(campaign) -> None:
    entries, scores, method = campaign
    frame = compute_standings(entries, scores, CRITERIA, method)
    keys = ["composite", *method.effective_tie_break]
    for _, group in frame.groupby("group"):
        ranks = group["rank"].to_numpy()
        # competition ranking: 1 + number of entries strictly ahead
        assert all(r == 1 + (ranks < r).sum() for r in ranks)
        assert ranks.min() == 1
        # the frame is in (rank, code) order inside the group
        assert list(group.sort_values(["rank", "code"]).index) == list(group.index)
        shared = group.groupby("rank")["code"].transform("size") > 1
        assert (group["tie"] == shared).all()
        values = group[keys].fillna(0.0).to_numpy()
        for i, j in combinations(range(len(group)), 2):
            same_rank = ranks[i] == ranks[j]
            close = bool((np.abs(values[i] - values[j]) < 1e-9).all())
            if close:  # the spec's tie: every key within 1e-9 -> same rank, both tied
                assert same_rank
            if ranks[i] < ranks[j]:  # higher rank never has a lower composite
                assert values[i][0] >= values[j][0] - 1e-9


@SETTINGS
@given(campaigns())
def test_awards_follow_quota_and_cut_line_ties_are_ties(campaign) -> None:
    entries, scores, method = campaign
    frame = compute_standings(entries, scores, CRITERIA, method)
    assert (frame["award"] == (frame["rank"] <= frame["quota"])).all()
    assert (~frame["tie_at_cutline"] | frame["tie"]).all()
    assert frame["override"].isna().all()
