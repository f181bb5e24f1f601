"""compute_standings and standings_records on a small hand-computed campaign."""

from __future__ import annotations

import json
import math

import pytest
from engine_frames import criteria_frame, entries_frame, scores_frame, sheet

from scoring.engine import (
    Component,
    Method,
    Override,
    compute_standings,
    standings_records,
)

CRITERIA = criteria_frame({"expert": {"e1": 60, "e2": 40}, "media": {"m1": 50}})
ENTRIES = entries_frame(
    [
        ("A", "X", "d1", 100),
        ("B", "X", "d2", 50),
        ("C", "X", "d1", 0),
        ("D", "Y", "d1", 0),  # no scores at all, and no votes in a group whose max is 0
        ("F", "Y", "d2", 0),
    ]
)
SCORES = scores_frame(
    # expert totals (max 100 so T = points): A 80, 70; B 90 (+ a draft); C 50, 60; F 40, 40
    sheet("expert", "r1", "A", {"e1": 48, "e2": 32}),
    sheet("expert", "r2", "A", {"e1": 42, "e2": 28}),
    sheet("expert", "r1", "B", {"e1": 60, "e2": 30}),
    sheet("expert", "r2", "B", {"e1": 60, "e2": 40}, status="draft"),
    sheet("expert", "r1", "C", {"e1": 30, "e2": 20}),
    sheet("expert", "r2", "C", {"e1": 36, "e2": 24}),
    sheet("expert", "r1", "F", {"e1": 30, "e2": 10}),
    sheet("expert", "r2", "F", {"e1": 30, "e2": 10}),
    # media totals (max 50 so T = 2 * points): A 80 70 90; B 50 60; C 100 100; F 20 40
    sheet("media", "r3", "A", {"m1": 40}),
    sheet("media", "r4", "A", {"m1": 35}),
    sheet("media", "r5", "A", {"m1": 45}),
    sheet("media", "r3", "B", {"m1": 25}),
    sheet("media", "r4", "B", {"m1": 30}),
    sheet("media", "r3", "C", {"m1": 50}),
    sheet("media", "r4", "C", {"m1": 50}),
    sheet("media", "r3", "F", {"m1": 10}),
    sheet("media", "r4", "F", {"m1": 20}),
)
METHOD = Method(
    components=(
        Component("votes", "votes", 50),
        Component("expert", "panel", 30, aggregate="mean", min_reviews=2),
        Component("media", "panel", 20, aggregate="median", min_reviews=2),
    ),
    vote_group="category",
    rank_group="category",
    award_quota=1,
    group_quotas={"Y": 2},
    overrides=(Override("B", "grant", "committee"),),
)

# Hand computation
#   votes: X max 100 -> A 100, B 50, C 0; Y max 0 -> D 0, F 0
#   expert mean: A (80+70)/2 = 75; B 90 (n=1, draft ignored); C 55; D missing; F 40
#   media median: A 80; B (50+60)/2 = 55; C 100; D missing; F (20+40)/2 = 30
#   composite = .5 V + .3 E + .2 M:
#     A 50 + 22.5 + 16 = 88.5; B 25 + 27 + 11 = 63; C 0 + 16.5 + 20 = 36.5
#     D 0 (both panels missing -> provisional); F 0 + 12 + 6 = 18
#   ranks: X: A 1, B 2, C 3; Y: F 1, D 2
#   awards: X quota 1 -> A (+ B by committee override); Y quota 2 -> F, D
EXPECTED = {
    #     group rank votes expert media composite provisional award n_e need_e n_m need_m
    "A": ("X", 1, 100.0, 75.0, 80.0, 88.5, False, True, 2, 0, 3, 0),
    "B": ("X", 2, 50.0, 90.0, 55.0, 63.0, True, True, 1, 1, 2, 0),
    "C": ("X", 3, 0.0, 55.0, 100.0, 36.5, False, False, 2, 0, 2, 0),
    "F": ("Y", 1, 0.0, 40.0, 30.0, 18.0, False, True, 2, 0, 2, 0),
    "D": ("Y", 2, 0.0, math.nan, math.nan, 0.0, True, True, 0, 2, 0, 2),
}


def test_standings_match_the_hand_computation() -> None:
    frame = compute_standings(ENTRIES, SCORES, CRITERIA, METHOD)
    assert list(frame.columns) == [
        "code",
        "title",
        "category",
        "domain",
        "group",
        "votes",
        "expert",
        "n_expert",
        "need_expert",
        "media",
        "n_media",
        "need_media",
        "composite",
        "rank",
        "tie",
        "provisional",
        "award",
        "tie_at_cutline",
        "quota",
        "override",
    ]
    assert frame["code"].tolist() == ["A", "B", "C", "F", "D"]  # group, rank, code
    for row in frame.itertuples():
        group, rank, votes, expert, media, composite, provisional, award, ne, nde, nm, ndm = (
            EXPECTED[row.code]
        )
        assert (row.group, row.rank, row.votes) == (group, rank, votes)
        assert row.expert == expert or (math.isnan(row.expert) and math.isnan(expert))
        assert row.media == media or (math.isnan(row.media) and math.isnan(media))
        assert row.composite == pytest.approx(composite, abs=1e-12)
        assert (row.provisional, row.award) == (provisional, award)
        assert (row.n_expert, row.need_expert, row.n_media, row.need_media) == (ne, nde, nm, ndm)
        assert not row.tie
        assert not row.tie_at_cutline
    assert frame.set_index("code")["override"].to_dict() == {
        "A": None,
        "B": "committee",
        "C": None,
        "F": None,
        "D": None,
    }
    assert frame.set_index("code")["quota"].to_dict() == {"A": 1, "B": 1, "C": 1, "F": 2, "D": 2}
    assert frame["composite"].dtype == "float64"
    assert frame["rank"].dtype == "int64"


def test_rank_group_all_pools_every_entry() -> None:
    method = Method(METHOD.components, rank_group="all", award_quota=2)
    frame = compute_standings(ENTRIES, SCORES, CRITERIA, method)
    assert frame["code"].tolist() == ["A", "B", "C", "F", "D"]
    assert frame["rank"].tolist() == [1, 2, 3, 4, 5]
    assert set(frame["group"]) == {"all"}


def test_records_are_the_spec_json_objects() -> None:
    frame = compute_standings(ENTRIES, SCORES, CRITERIA, METHOD)
    records = standings_records(frame, METHOD)
    assert [r["code"] for r in records] == ["A", "B", "C", "F", "D"]
    assert set(records[0]) == {
        "code",
        "title",
        "category",
        "domain",
        "group",
        "components",
        "composite",
        "rank",
        "tie",
        "provisional",
        "award",
        "tie_at_cutline",
    }
    d = records[-1]
    assert d["components"] == {"votes": 0.0, "expert": None, "media": None}
    assert (d["rank"], d["provisional"], d["award"], d["tie"]) == (2, True, True, False)
    assert type(d["rank"]) is int
    assert type(d["award"]) is bool
    assert type(records[0]["composite"]) is float
    # plain values only: json needs no custom encoder and writes no NaN
    text = json.dumps(records, ensure_ascii=False, allow_nan=False)
    assert json.loads(text) == records


def test_entry_without_scores_or_votes_column_for_panel_only_campaign() -> None:
    method = Method((Component("expert", "panel", 100, min_reviews=1),), rank_group="all")
    entries = ENTRIES.drop(columns="votes")
    frame = compute_standings(entries, SCORES, CRITERIA, method)
    assert frame.set_index("code")["expert"].to_dict()["A"] == 75.0
    assert frame.set_index("code").loc["D", "provisional"]
    assert frame["code"].tolist() == ["B", "A", "C", "F", "D"]


def test_duplicate_entry_codes_are_refused() -> None:
    entries = entries_frame([("A", "X", "d1", 1), ("A", "X", "d1", 2)])
    with pytest.raises(ValueError, match="unique"):
        compute_standings(entries, SCORES, CRITERIA, METHOD)


def test_panel_without_rubric_is_refused() -> None:
    with pytest.raises(ValueError, match="without a rubric"):
        compute_standings(ENTRIES, SCORES, CRITERIA[CRITERIA["panel"] == "expert"], METHOD)
