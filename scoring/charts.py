"""Plotly figures of the standings page, built from the engine's frames.

Figures are plain functions of frames and a translator, so they are tested
without a browser and the page only places them. Colours carry one meaning
everywhere: green for an award, amber for a tie at the cut line that needs a
decision, grey for the rest; a hatched bar is provisional.

Plotly renders ``<b>``, ``<br>`` and ``<a href>`` in every label it draws: titles, category
ticks, legend entries, text and hover values. Every value taken from the data (codes, titles,
group, panel and component names, reviewers, recommending units) therefore goes through
`html_literal` before it goes into a figure, including the ``customdata`` a hover template shows;
only the figures' own templates carry markup (``<br>``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from scoring.i18n import Translator
from scoring.literal import html_literal

AWARD_COLOUR = "#2e7d32"
CUTLINE_TIE_COLOUR = "#f29d0b"
OTHER_COLOUR = "#9e9e9e"
LINE_COLOUR = "#b3261e"
PANEL_COLOURS = ("#1f77b4", "#9467bd", "#17becf", "#8c564b")
COMPONENT_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2")
TITLE_CHARS = 18
"""Characters of a title shown beside its code on a bar's axis."""


def _labels(values: pd.Series) -> pd.Series:
    return values.map(html_literal)


def _entry_labels(frame: pd.DataFrame) -> pd.Series:
    """``code title`` of each row, the title cut before escaping so no entity is cut."""
    titles = frame["title"].fillna("").astype(str).str.slice(0, TITLE_CHARS)
    return _labels(frame["code"].astype(str) + " " + titles)


def _layout(figure: go.Figure, height: int) -> go.Figure:
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        font={"family": "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"},
    )
    return figure


def _state(row: pd.Series) -> str:
    if bool(row["tie_at_cutline"]):
        return "cutline_tie"
    return "award" if bool(row["award"]) else "other"


_STATE_COLOURS = {"award": AWARD_COLOUR, "cutline_tie": CUTLINE_TIE_COLOUR, "other": OTHER_COLOUR}


def composite_overview(
    standings: pd.DataFrame, cuts: pd.DataFrame, groups: Sequence[str], tr: Translator
) -> go.Figure:
    """Every entry's composite, one column per ranking group, with each group's cut line."""
    figure = go.Figure()
    states = standings.apply(_state, axis=1)
    for state, colour in _STATE_COLOURS.items():
        shown = standings[states == state]
        figure.add_trace(
            go.Scatter(
                x=_labels(shown["group"]),
                y=shown["composite"],
                mode="markers",
                name=tr(f"chart.state_{state}"),
                marker={"color": colour, "size": 10, "line": {"width": 1, "color": "white"}},
                customdata=shown[["code", "title", "rank"]]
                .assign(code=_labels(shown["code"]), title=_labels(shown["title"]))
                .to_numpy(),
                hovertemplate="%{customdata[0]} %{customdata[1]}<br>"
                + tr("standings.rank")
                + " %{customdata[2]} · %{y:.2f}<extra></extra>",
            )
        )
    drawn = cuts.dropna(subset=["cut"])
    figure.add_trace(
        go.Scatter(
            x=_labels(drawn["group"]),
            y=drawn["cut"],
            mode="markers",
            name=tr("chart.cut_line"),
            marker={"symbol": "line-ew", "size": 34, "line": {"width": 3, "color": LINE_COLOUR}},
            hovertemplate="%{x}<br>" + tr("chart.cut_line") + " %{y:.2f}<extra></extra>",
        )
    )
    figure.update_xaxes(
        categoryorder="array", categoryarray=[html_literal(g) for g in groups], tickangle=-30
    )
    figure.update_yaxes(title=tr("standings.composite"), range=[0, 100])
    return _layout(figure, 460)


def group_composite(rows: pd.DataFrame, cut: float, tr: Translator) -> go.Figure:
    """One group's entries as bars in rank order, the cut line across them."""
    ordered = rows.iloc[::-1]
    labels = _entry_labels(ordered)
    colours = [_STATE_COLOURS[_state(row)] for _, row in ordered.iterrows()]
    patterns = ["/" if provisional else "" for provisional in ordered["provisional"]]
    figure = go.Figure(
        go.Bar(
            x=ordered["composite"],
            y=labels,
            orientation="h",
            marker={"color": colours, "pattern": {"shape": patterns}},
            text=ordered["composite"].map(lambda v: f"{v:.2f}"),
            textposition="outside",
            hovertemplate="%{y}<br>%{x:.4f}<extra></extra>",
        )
    )
    if pd.notna(cut):
        figure.add_vline(
            x=cut,
            line={"color": LINE_COLOUR, "dash": "dash", "width": 2},
            annotation_text=tr("chart.cut_line"),
            annotation_position="top",
        )
    figure.update_xaxes(title=tr("standings.composite"), range=[0, 105])
    return _layout(figure, 120 + 28 * len(rows))


def contribution_bars(
    rows: pd.DataFrame, parts: pd.DataFrame, labels: dict[str, str], tr: Translator
) -> go.Figure:
    """Stacked w_k/100 * S_k per entry of one group: what each component gave the composite."""
    order = list(rows["code"])[::-1]
    names = dict(zip(rows["code"], _entry_labels(rows), strict=True))
    figure = go.Figure()
    for index, (component, own) in enumerate(parts.groupby("component", sort=False)):
        own = own.set_index("code").reindex(order)
        figure.add_trace(
            go.Bar(
                x=own["contribution"],
                y=[names[c] for c in order],
                orientation="h",
                name=html_literal(labels.get(str(component), str(component))),
                marker={"color": COMPONENT_COLOURS[index % len(COMPONENT_COLOURS)]},
                customdata=own[["score", "weight"]].to_numpy(),
                hovertemplate="%{y}<br>%{fullData.name}: %{x:.2f}"
                + " (S=%{customdata[0]:.2f} × %{customdata[1]:.0f}%)<extra></extra>",
            )
        )
    figure.update_layout(barmode="stack")
    figure.update_xaxes(title=tr("chart.contribution"), range=[0, 100])
    return _layout(figure, 140 + 28 * len(rows))


def score_distributions(totals: pd.DataFrame, labels: dict[str, str], tr: Translator) -> go.Figure:
    """Histogram of the counted reviewer totals of each panel (0..100)."""
    figure = go.Figure()
    for index, (panel, own) in enumerate(totals.groupby("panel", sort=False)):
        figure.add_trace(
            go.Histogram(
                x=own["total"],
                name=html_literal(labels.get(str(panel), str(panel))),
                xbins={"start": 0, "end": 100.001, "size": 5},
                marker={"color": PANEL_COLOURS[index % len(PANEL_COLOURS)]},
                opacity=0.75,
            )
        )
    figure.update_layout(barmode="overlay")
    figure.update_xaxes(title=tr("chart.reviewer_total"), range=[0, 100])
    figure.update_yaxes(title=tr("chart.count"))
    return _layout(figure, 360)


def reviewer_map(reviewers: pd.DataFrame, labels: dict[str, str], tr: Translator) -> go.Figure:
    """Each reviewer's leniency (mean deviation from the panel) against their spread (SD)."""
    figure = go.Figure()
    for index, (panel, own) in enumerate(reviewers.groupby("panel", sort=False)):
        figure.add_trace(
            go.Scatter(
                x=own["mean_deviation"],
                y=own["sd"],
                mode="markers+text",
                text=_labels(own["reviewer"]),
                textposition="top center",
                name=html_literal(labels.get(str(panel), str(panel))),
                marker={
                    "size": 8 + 2 * own["n"].clip(upper=12),
                    "color": PANEL_COLOURS[index % len(PANEL_COLOURS)],
                    "opacity": 0.8,
                },
                customdata=own[["n", "mean"]].to_numpy(),
                hovertemplate="%{text}<br>"
                + tr("chart.reviewed")
                + " %{customdata[0]} · "
                + tr("chart.mean")
                + " %{customdata[1]:.2f}<br>"
                + tr("chart.deviation")
                + " %{x:+.2f} · SD %{y:.2f}<extra></extra>",
            )
        )
    figure.add_vline(x=0, line={"color": "#666", "dash": "dot"})
    figure.update_xaxes(title=tr("chart.deviation_axis"), zeroline=False)
    figure.update_yaxes(title=tr("chart.sd_axis"), rangemode="tozero")
    return _layout(figure, 420)


def rank_ranges(rows: pd.DataFrame, stability: pd.DataFrame, tr: Translator) -> go.Figure:
    """Each entry's rank now and its range when any weight moves by ±5 points."""
    merged = rows[["code", "title"]].merge(stability, on="code", how="left").iloc[::-1]
    labels = _entry_labels(merged)
    moved = merged["max_rank"] - merged["min_rank"]
    figure = go.Figure(
        go.Scatter(
            x=merged["rank"],
            y=labels,
            mode="markers",
            name=tr("chart.rank_now"),
            marker={"size": 11, "color": LINE_COLOUR},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": merged["max_rank"] - merged["rank"],
                "arrayminus": merged["rank"] - merged["min_rank"],
                "thickness": 3,
                "width": 6,
                "color": "#555",
            },
            customdata=merged[["min_rank", "max_rank"]].to_numpy(),
            hovertemplate="%{y}<br>"
            + tr("chart.rank_now")
            + " %{x} · "
            + tr("chart.rank_range")
            + " %{customdata[0]}–%{customdata[1]}<extra></extra>",
        )
    )
    top = int(merged["max_rank"].max()) if len(merged) else 1
    figure.update_xaxes(title=tr("standings.rank"), range=[0.5, top + 0.5], dtick=1)
    figure.update_layout(showlegend=False)
    if len(merged) and int(moved.max()) == 0:
        figure.add_annotation(
            text=tr("chart.ranks_stable"),
            xref="paper",
            yref="paper",
            x=0.5,
            y=1.08,
            showarrow=False,
        )
    return _layout(figure, 120 + 28 * len(rows))


def meeting_spread(totals: Sequence[float], mine: float | None, tr: Translator) -> go.Figure:
    """The panel's submitted totals for one entry as dots on 0..100, the reviewer's own in red.

    No names and no order that could identify a colleague: only the values.
    """
    others = list(totals)
    if mine is not None:
        for index, value in enumerate(others):
            if abs(value - mine) < 1e-9:
                del others[index]
                break
    figure = go.Figure(
        go.Scatter(
            x=others,
            y=[0] * len(others),
            mode="markers",
            name=tr("score.spread_others"),
            marker={"size": 14, "color": OTHER_COLOUR, "opacity": 0.8},
            hovertemplate="%{x:.2f}<extra></extra>",
        )
    )
    if mine is not None:
        figure.add_trace(
            go.Scatter(
                x=[mine],
                y=[0],
                mode="markers",
                name=tr("score.spread_mine"),
                marker={"size": 18, "color": LINE_COLOUR, "symbol": "diamond"},
                hovertemplate="%{x:.2f}<extra></extra>",
            )
        )
    figure.update_xaxes(title=tr("score.spread_axis"), range=[0, 100])
    figure.update_yaxes(visible=False, range=[-1, 1])
    return _layout(figure, 200)


def organisations_chart(units: pd.DataFrame, tr: Translator) -> go.Figure:
    """Per recommending unit: entries shortlisted beside entries awarded (优秀组织奖)."""
    figure = go.Figure(
        [
            go.Bar(
                name=tr("finalise.org_shortlisted"),
                x=_labels(units["recommender"]),
                y=units["shortlisted"],
                marker_color=OTHER_COLOUR,
            ),
            go.Bar(
                name=tr("finalise.org_awarded"),
                x=_labels(units["recommender"]),
                y=units["awarded"],
                marker_color=AWARD_COLOUR,
            ),
        ]
    )
    figure.update_layout(barmode="group")
    figure.update_yaxes(title=tr("chart.count_entries"), dtick=1)
    return _layout(figure, 380)


VOIDED_COLOUR = "#757575"


def votes_over_time(hourly: pd.DataFrame, tr: Translator, *, running: bool = False) -> go.Figure:
    """Public votes per Asia/Shanghai hour: stacked bars per entry, or running totals as lines.

    ``hourly`` is ``scoring.services.vote_watch``'s frame (code, title, hour, counted,
    voided), per hour or, with ``running``, as its ``cumulative`` view.

    The voided votes of all shown entries are one grey series, so a voided burst stays
    visible where it happened. Hours are drawn as wall-clock times (plotly ignores offsets).
    """
    figure = go.Figure()
    hours = hourly.assign(hour=pd.to_datetime(hourly["hour"]).dt.tz_localize(None))
    for index, (_code, own) in enumerate(hours.groupby("code", sort=False)):
        label = _entry_labels(own.head(1)).iloc[0]
        colour = COMPONENT_COLOURS[index % len(COMPONENT_COLOURS)]
        hover = "%{fullData.name}<br>%{x|%Y-%m-%d %H:00} · %{y}<extra></extra>"
        if running:
            figure.add_trace(
                go.Scatter(
                    x=own["hour"],
                    y=own["counted"],
                    mode="lines",
                    line={"color": colour, "shape": "hv"},
                    name=label,
                    hovertemplate=hover,
                )
            )
        else:
            figure.add_trace(
                go.Bar(
                    x=own["hour"],
                    y=own["counted"],
                    marker_color=colour,
                    name=label,
                    hovertemplate=hover,
                )
            )
    if hours.empty:
        voided = pd.DataFrame(columns=["hour", "voided"])
    elif running:  # each entry's running total holds until its next hour with votes
        by_hour = hours.pivot_table(index="hour", columns="code", values="voided", aggfunc="sum")
        voided = by_hour.ffill().fillna(0).sum(axis=1).rename("voided").reset_index()
    else:
        voided = hours.groupby("hour", as_index=False)["voided"].sum()
    if len(voided) and int(voided["voided"].max()) > 0:
        name = tr("chart.votes_voided")
        if running:
            figure.add_trace(
                go.Scatter(
                    x=voided["hour"],
                    y=voided["voided"],
                    mode="lines",
                    line={"color": VOIDED_COLOUR, "dash": "dash", "shape": "hv"},
                    name=name,
                    hovertemplate="%{fullData.name}<br>%{x|%Y-%m-%d %H:00} · %{y}<extra></extra>",
                )
            )
        else:
            figure.add_trace(
                go.Bar(
                    x=voided["hour"],
                    y=voided["voided"],
                    marker={"color": VOIDED_COLOUR, "pattern": {"shape": "x"}},
                    name=name,
                    hovertemplate="%{fullData.name}<br>%{x|%Y-%m-%d %H:00} · %{y}<extra></extra>",
                )
            )
    figure.update_layout(barmode="stack")
    figure.update_xaxes(title=tr("chart.vote_hour"))
    figure.update_yaxes(
        title=tr("chart.votes_running" if running else "chart.votes_per_hour"), rangemode="tozero"
    )
    return _layout(figure, 380)
