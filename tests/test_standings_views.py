"""The standings page's table and charts, built from a real analysis without a browser."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent / "engine"))
from engine_frames import criteria_frame, entries_frame, scores_frame, sheet

from scoring import charts
from scoring.engine import Component, Method, Override, analyse, cut_lines
from scoring.i18n import Translator
from scoring.tables import markers, standings_table

ENTRIES = entries_frame(
    [("A", "X", "d1", 100), ("B", "X", "d1", 60), ("C", "X", "d1", 60), ("D", "X", "d1", 10)]
)
SCORES = scores_frame(
    *(
        sheet("expert", r, code, {"e1": t})
        for r in ("r1", "r2", "r3")
        for code, t in (("A", 90), ("B", 70), ("C", 70))
    ),
    sheet("expert", "r1", "D", {"e1": 95}),
)
CRITERIA = criteria_frame({"expert": {"e1": 100}})
METHOD = Method(
    components=(Component("votes", "votes", 60), Component("expert", "panel", 40, min_reviews=3)),
    vote_group="category",
    rank_group="category",
    award_quota=2,
    overrides=(Override("D", "grant", "最佳新人"),),
)
EN = Translator("en")


@pytest.fixture(scope="module")
def analysis():
    return analyse(ENTRIES, SCORES, CRITERIA, METHOD)


def _row(analysis, code):
    return analysis.standings.set_index("code").loc[code].rename(code)


def test_flags_name_the_cut_line_tie_before_anything_else(analysis):
    assert markers(_row(analysis, "B"), EN) == "tie at the award cut line, to decide"
    d = markers(_row(analysis, "D"), EN)
    assert d == "provisional · committee override: 最佳新人"
    assert markers(_row(analysis, "A"), EN) == ""


def test_the_table_names_awards_and_cut_line_ties_and_shows_coverage(analysis):
    table = standings_table(analysis.standings, METHOD, EN, with_group=False)
    shown = table.frame
    assert list(shown.columns) == [
        "Rank", "Code", "Title", "Composite", "Award", "Flags",
        "Public votes (60%)", "Expert panel (40%)", "Expert panel n",
    ]  # fmt: skip
    assert list(shown["Code"]) == ["A", "B", "C", "D"]
    assert list(shown["Expert panel n"]) == ["3/3", "3/3", "3/3", "1/3"]
    # All four hold an award place for now; B and C tie across the cut, to decide.
    assert list(shown["Award"]) == ["★ Award"] * 4
    assert [f.startswith("tie at the award cut line") for f in shown["Flags"]] == [
        False,
        True,
        True,
        False,
    ]
    assert table.decimals == {
        "Composite": 4,
        "Public votes (60%)": 2,
        "Expert panel (40%)": 2,
    }


def test_a_small_section_paints_awards_green_and_cut_line_ties_amber(analysis):
    table = standings_table(analysis.standings, METHOD, EN, with_group=False)
    painted = table.painted().to_html()
    colour_of_row = {}
    for selectors, rule in re.findall(r"([^{}]+)\{([^}]*)\}", painted):
        for row in re.findall(r"_row(\d+)_col0\b", selectors):
            colour_of_row[int(row)] = rule.split("background-color:")[1].split(";")[0].strip()
    colours = [colour_of_row.get(i, "") for i in range(len(table.frame))]
    assert colours == ["#e6f4ea", "#fff3cd", "#fff3cd", "#e6f4ea"]
    assert f"{table.frame['Composite'][0]:.4f}" in painted  # formatted to its decimals


def test_a_section_too_big_to_paint_in_time_is_shown_plain(analysis):
    big = pd.concat([analysis.standings] * 80, ignore_index=True)  # 320 rows
    assert standings_table(big, METHOD, EN, with_group=False).painted() is None


def test_composite_overview_draws_each_groups_cut_line(analysis):
    lines = cut_lines(analysis.standings)
    figure = charts.composite_overview(analysis.standings, lines, ["X"], EN)
    cut_trace = next(t for t in figure.data if t.name == "Award cut line")
    assert list(cut_trace.x) == ["X"]
    # A tie across the cut: the line runs through B and C (0.6*60 + 0.4*70 = 64).
    assert cut_trace.y[0] == pytest.approx(64.0)
    tie_trace = next(t for t in figure.data if t.name == "Tie at the cut line")
    assert sorted(row[0] for row in tie_trace.customdata) == ["B", "C"]


def test_contribution_bars_stack_up_to_the_composite(analysis):
    rows = analysis.standings
    figure = charts.contribution_bars(
        rows, analysis.contributions, {"votes": "Votes", "expert": "Experts"}, EN
    )
    stacked = np.sum([np.nan_to_num(np.asarray(t.x, dtype=float)) for t in figure.data], axis=0)
    # Bars run bottom-up, so the best entry is last.
    assert stacked == pytest.approx(rows["composite"].to_numpy()[::-1])


def test_rank_ranges_span_min_to_max_rank(analysis):
    rows = analysis.standings
    figure = charts.rank_ranges(rows, analysis.stability, EN)
    trace = figure.data[0]
    merged = rows[["code"]].merge(analysis.stability, on="code").iloc[::-1]
    assert list(trace.x) == list(merged["rank"])
    low = np.asarray(trace.x) - np.asarray(trace.error_x.arrayminus)
    high = np.asarray(trace.x) + np.asarray(trace.error_x.array)
    assert list(low) == list(merged["min_rank"]) and list(high) == list(merged["max_rank"])


def test_reviewer_map_places_each_reviewer_by_leniency_and_spread(analysis):
    reviewers = analysis.diagnostics.reviewers
    figure = charts.reviewer_map(reviewers, {"expert": "Experts"}, EN)
    trace = figure.data[0]
    assert list(trace.text) == list(reviewers["reviewer"])
    assert list(trace.x) == pytest.approx(list(reviewers["mean_deviation"]))
