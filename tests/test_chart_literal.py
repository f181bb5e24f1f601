"""Names, titles and codes on a chart are text: plotly never turns them into links or bold."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

sys.path.insert(0, str(Path(__file__).parent / "engine"))
from engine_frames import criteria_frame, scores_frame, sheet

from scoring import charts
from scoring.engine import Component, Method, analyse, cut_lines
from scoring.i18n import MarkdownTranslator
from scoring.literal import html_literal

LINK = '<a href="http://evil.test/p">x</a>'
BOLD = "<b>b</b>"
#: How LINK reaches plotly: no tag, and entities plotly decodes back to the typed characters.
LINK_SHOWN = "&lt;a href=&#34;http://evil.test/p&#34;&gt;x&lt;/a&gt;"
#: The only markup a figure may carry: its own templates'.
OWN_MARKUP = ("<br>", "<extra></extra>")

ENTRIES = pd.DataFrame(
    {
        "code": ["A-01", BOLD, "A-03"],
        "title": [LINK, "智慧社区“邻里通”平台", 'He said "1.5"'],
        "category": ["<b>组</b>", "城市治理", "城市治理"],
        "domain": ["d", "d", "d"],
        "votes": [100, 60, 10],
    }
)
SCORES = scores_frame(
    *(
        sheet("expert", reviewer, code, {"e1": total})
        for reviewer in (LINK, "张三")
        for code, total in (("A-01", 90), (BOLD, 70), ("A-03", 40))
    )
)
METHOD = Method(
    components=(Component("votes", "votes", 60), Component("expert", "panel", 40, min_reviews=2)),
    vote_group="category",
    rank_group="category",
    award_quota=1,
)
PANELS = {"expert": LINK}
COMPONENTS = {"votes": BOLD, "expert": "专家评审"}
UNITS = pd.DataFrame({"recommender": [LINK, "市民政局"], "shortlisted": [2, 1], "awarded": [1, 0]})
VOTES_BY_HOUR = pd.DataFrame(
    {
        "code": [BOLD, BOLD, "A-03"],
        "title": [LINK, LINK, "智慧社区"],
        "hour": pd.to_datetime(
            ["2026-06-01 09:00", "2026-06-01 10:00", "2026-06-01 09:00"]
        ).tz_localize("Asia/Shanghai"),
        "counted": [5, 9, 2],
        "voided": [0, 200, 0],
    }
)
TR = MarkdownTranslator("zh")  # what the pages pass


@pytest.fixture(scope="module")
def figures() -> dict[str, go.Figure]:
    analysis = analyse(ENTRIES, SCORES, criteria_frame({"expert": {"e1": 100}}), METHOD)
    standings = analysis.standings
    city = standings[standings["group"] == "城市治理"]
    return {
        "composite_overview": charts.composite_overview(
            standings, cut_lines(standings), ["<b>组</b>", "城市治理"], TR
        ),
        "group_composite": charts.group_composite(city, 50.0, TR),
        "contribution_bars": charts.contribution_bars(
            standings, analysis.contributions, COMPONENTS, TR
        ),
        "score_distributions": charts.score_distributions(analysis.totals, PANELS, TR),
        "reviewer_map": charts.reviewer_map(analysis.diagnostics.reviewers, PANELS, TR),
        "rank_ranges": charts.rank_ranges(standings, analysis.stability, TR),
        "meeting_spread": charts.meeting_spread([40.0, 70.0], 70.0, TR),
        "organisations_chart": charts.organisations_chart(UNITS, TR),
        "votes_over_time": charts.votes_over_time(VOTES_BY_HOUR, TR),
        "votes_running": charts.votes_over_time(VOTES_BY_HOUR, TR, running=True),
    }


def _strings(node: Any) -> list[str]:
    """Every string anywhere in a figure's dict: labels, ticks, hover data, legend names."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, np.ndarray):
        return _strings(node.tolist())
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list | tuple):
        return [s for value in node for s in _strings(value)]
    return []


def _shown(figure: go.Figure) -> list[str]:
    strings = _strings(figure.to_dict())
    assert strings, "a figure with no text at all tests nothing"
    return strings


@pytest.mark.parametrize(
    "name",
    [
        "composite_overview",
        "group_composite",
        "contribution_bars",
        "score_distributions",
        "reviewer_map",
        "rank_ranges",
        "meeting_spread",
        "organisations_chart",
        "votes_over_time",
        "votes_running",
    ],
)
def test_no_figure_carries_markup_from_the_data(figures, name):
    for text in _shown(figures[name]):
        stripped = text
        for markup in OWN_MARKUP:
            stripped = stripped.replace(markup, "")
        assert "<" not in stripped, (name, text)


def test_hostile_names_reach_every_kind_of_label_escaped(figures):
    overview = figures["composite_overview"].to_dict()
    assert "&lt;b&gt;组&lt;/b&gt;" in overview["layout"]["xaxis"]["categoryarray"]  # ticks
    hover = [row for trace in overview["data"] for row in trace.get("customdata", [])]
    assert any(LINK_SHOWN in list(row) for row in hover)  # hover values
    assert any("&lt;b&gt;b&lt;/b&gt;" in list(row) for row in hover)
    legend = [trace.get("name") for trace in figures["contribution_bars"].to_dict()["data"]]
    assert "&lt;b&gt;b&lt;/b&gt;" in legend
    assert LINK_SHOWN in [t["name"] for t in figures["reviewer_map"].to_dict()["data"]]
    reviewers = [s for t in figures["reviewer_map"].to_dict()["data"] for s in t["text"]]
    assert LINK_SHOWN in reviewers
    ranges = figures["rank_ranges"].to_dict()["data"][0]["y"]
    assert "A-01 &lt;a href=&#34;http://ev" in list(ranges)  # title cut to 18, then escaped
    units = figures["organisations_chart"].to_dict()["data"][0]["x"]
    assert list(units) == [LINK_SHOWN, "市民政局"]
    votes = [t["name"] for t in figures["votes_over_time"].to_dict()["data"]]
    assert votes[0] == "&lt;b&gt;b&lt;/b&gt; &lt;a href=&#34;http://ev"  # code, title cut to 18


def test_ordinary_chinese_names_and_codes_are_unchanged(figures):
    reviewers = [s for t in figures["reviewer_map"].to_dict()["data"] for s in t["text"]]
    assert "张三" in reviewers
    bars = list(figures["group_composite"].to_dict()["data"][0]["y"])
    assert "&lt;b&gt;b&lt;/b&gt; 智慧社区“邻里通”平台" in bars
    assert "A-03 He said &#34;1.5&#34;" in bars
    legend = [trace.get("name") for trace in figures["contribution_bars"].to_dict()["data"]]
    assert "专家评审" in legend


def test_a_double_quote_is_an_entity_plotly_decodes():
    # Plotly decodes numeric entities and only &lt; &gt; &amp; (and a few more) by name:
    # "&quot;" would be shown as it is.
    assert html_literal('他说"好" & <i>') == "他说&#34;好&#34; &amp; &lt;i&gt;"


@pytest.mark.browser
def test_the_browser_draws_hostile_labels_as_their_text(figures, tmp_path, browser):
    """Rendered by plotly.js in Chromium: the typed text is shown, no link, no bold."""
    page_file = tmp_path / "chart.html"
    page_file.write_text(figures["organisations_chart"].to_html(include_plotlyjs=True))
    reviewers_file = tmp_path / "reviewers.html"
    reviewers_file.write_text(figures["reviewer_map"].to_html(include_plotlyjs=True))
    parts_file = tmp_path / "parts.html"
    parts_file.write_text(figures["contribution_bars"].to_html(include_plotlyjs=True))
    page = browser.new_page()
    try:
        page.goto(page_file.as_uri())
        page.wait_for_selector(".xtick text")
        ticks = [t.text_content() for t in page.query_selector_all(".xtick text")]
        assert ticks == [LINK, "市民政局"]
        assert page.query_selector_all("svg a") == []
        page.goto(reviewers_file.as_uri())
        page.wait_for_selector(".textpoint text")
        points = {t.text_content() for t in page.query_selector_all(".textpoint text")}
        assert points == {LINK, "张三"}
        page.goto(parts_file.as_uri())
        page.wait_for_selector(".legendtext")
        legend = {t.text_content() for t in page.query_selector_all(".legendtext")}
        assert legend == {BOLD, "专家评审"}
        ticks = {t.text_content() for t in page.query_selector_all(".ytick text")}
        assert "<b>b</b> 智慧社区“邻里通”平台" in ticks and 'A-03 He said "1.5"' in ticks
        assert page.query_selector_all("svg a, svg tspan[style*='bold']") == []
    finally:
        page.close()
