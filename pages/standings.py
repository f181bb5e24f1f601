"""Live standings for organisers: redrawn by itself when the data changed, and only then.

A small fragment looks at the campaign's data version every few seconds (one permission-
checked call) and reruns the page when it moved; an idle refresh sends nothing. Only the
chosen view is computed and drawn: the table, or the one chart picked.
"""

from datetime import datetime

import pandas as pd
import streamlit as st

from pages._banner import final_banner, refresh_every, standings_caption
from pages._shared import current_actor, pick_campaign, require_page, sign_out_if_inactive, t
from scoring import charts, context
from scoring.errors import ReviewDeskError
from scoring.i18n import Translator
from scoring.literal import markdown_literal
from scoring.permissions import can_see_standings
from scoring.services.cache import DataVersion
from scoring.services.standings import LiveStandings, last_change, live_standings
from scoring.tables import (
    VIEW_CHOICES,
    component_label,
    section_key,
    section_order,
    standings_table,
)

actor = current_actor()
require_page(can_see_standings(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(tr("standings.title"))
st.caption(markdown_literal(campaign.name))
final = final_banner(actor, campaign)


# Session key: which campaign at which data version the page last drew.
SHOWN = "standings_shown"
CHARTS = ("composite", "contributions", "distributions", "reviewers", "stability")


def _version() -> tuple[DataVersion, datetime | None]:
    with context.database().read() as session:
        return last_change(session, actor, campaign)


def _current() -> tuple[LiveStandings, str]:
    """The analysis (kept by ``scoring`` per data version) and when the data last changed."""
    with context.database().read() as session:
        version, changed_at = last_change(session, actor, campaign)
        live = live_standings(session, actor, campaign)
    st.session_state[SHOWN] = (campaign.id, version)
    changed = changed_at.strftime("%Y-%m-%d %H:%M:%S UTC") if changed_at else "—"
    return live, changed


try:
    live, changed = _current()
except ReviewDeskError as error:
    sign_out_if_inactive(error)  # a deactivated organiser lands on the sign-in page
    st.error(error.markdown(tr.lang))
    st.stop()
groups = live.group_order
filters = st.columns([2, 2, 2, 2])
view = filters[0].selectbox(
    tr("standings.view"),
    VIEW_CHOICES,
    format_func=lambda v: tr.plain(f"standings.view_{v}"),
    key="standings_view",
)
focus = filters[1].selectbox(
    tr("standings.focus"),
    ["", *groups],
    format_func=lambda g: g or tr.plain("standings.all_groups"),
    key="standings_focus",
)
search = filters[2].text_input(tr("standings.search"), key="standings_search").strip()
with filters[3]:
    only_flagged = st.toggle(
        tr("standings.only_flagged"),
        help=tr("standings.only_flagged_help"),
        key="standings_flagged",
    )
st.caption(tr("standings.rank_group_note", how=tr(f"group.{live.method.rank_group}")))


def _filtered(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame
    if focus:
        shown = shown[shown["group"] == focus]
    if search:
        needle = search.casefold()
        hit = shown["code"].str.casefold().str.contains(needle, regex=False) | shown[
            "title"
        ].str.casefold().str.contains(needle, regex=False)
        shown = shown[hit]
    if only_flagged:
        shown = shown[shown["tie_at_cutline"] | shown["provisional"]]
    return shown


def _headline(live: LiveStandings) -> None:
    standings = live.analysis.standings
    cells = st.columns(3 + len(live.coverage))
    cells[0].metric(tr("standings.entries"), len(standings))
    cells[1].metric(tr("standings.provisional_count"), int(standings["provisional"].sum()))
    cells[2].metric(
        tr("standings.cutline_ties"),
        int(standings["tie_at_cutline"].sum()),
        help=tr("standings.marker_cutline_tie"),
    )
    for cell, row in zip(cells[3:], live.coverage.to_dict("records"), strict=True):
        name = component_label(row["panel"], tr)
        cell.metric(
            tr("standings.panel_coverage", panel=name, reviews=row["reviews"]),
            f"{row['complete']}/{row['entries']}",
            help=tr("standings.panel_coverage_help", **row),
        )


def _table(live: LiveStandings, shown: pd.DataFrame) -> None:
    if shown.empty:
        st.info(tr("standings.no_rows"))
        return
    sections = section_key(shown, view)
    order = section_order(view, groups, live.category_order, live.domain_order)
    group_at = {g: i for i, g in enumerate(groups)}
    cells = Translator(tr.lang)  # table cells are plain text: a typed reason shows as typed
    for section in [s for s in order if (sections == s).any()]:
        rows = shown[sections == section]
        rows = rows.assign(_at=rows["group"].map(group_at)).sort_values(
            ["_at", "rank", "code"], kind="stable"
        )
        st.subheader(markdown_literal(section))
        table = standings_table(rows, live.method, cells, with_group=view != "rank_group")
        painted = table.painted()
        st.dataframe(
            table.frame if painted is None else painted,
            hide_index=True,
            width="stretch",
            placeholder="—",
            column_config={
                name: st.column_config.NumberColumn(format=f"%.{places}f")
                for name, places in table.decimals.items()
            },
        )


def _charts_for_group(live: LiveStandings) -> tuple[str, pd.DataFrame]:
    group = focus or (groups[0] if groups else "")
    standings = live.analysis.standings
    return group, standings[standings["group"] == group]


def _charts(live: LiveStandings) -> None:
    """The one chart picked: the others are neither computed nor sent."""
    analysis = live.analysis
    labels = {c.key: component_label(c.key, tr) for c in live.method.components}
    group, rows = _charts_for_group(live)
    chart = st.segmented_control(
        tr("standings.tab_charts"),
        CHARTS,
        format_func=lambda c: tr.plain(f"standings.tab_{c}"),
        default=CHARTS[0],
        required=True,
        key="standings_chart",
        label_visibility="collapsed",
    )
    cut = live.cuts.set_index("group")["cut"].get(group, float("nan"))
    if chart == "composite":
        st.plotly_chart(
            charts.composite_overview(analysis.standings, live.cuts, groups, tr),
            width="stretch",
        )
        st.caption(tr("standings.chart_group", group=group))
        st.plotly_chart(charts.group_composite(rows, cut, tr), width="stretch")
    elif chart == "contributions":
        st.caption(tr("standings.chart_group", group=group))
        group_parts = analysis.contributions[analysis.contributions["group"] == group]
        st.plotly_chart(charts.contribution_bars(rows, group_parts, labels, tr), width="stretch")
    elif chart == "distributions":
        if analysis.totals.empty:
            st.info(tr("standings.no_scores"))
        else:
            st.plotly_chart(
                charts.score_distributions(analysis.totals, labels, tr), width="stretch"
            )
    elif chart == "reviewers":
        _diagnostics(live, labels)
    else:
        st.caption(tr("standings.stability_note"))
        st.caption(tr("standings.chart_group", group=group))
        st.plotly_chart(charts.rank_ranges(rows, analysis.stability, tr), width="stretch")


def _diagnostics(live: LiveStandings, labels: dict[str, str]) -> None:
    diagnostics = live.analysis.diagnostics
    if diagnostics.reviewers.empty:
        st.info(tr("standings.no_scores"))
        return
    cells = st.columns(max(len(diagnostics.agreement), 1))
    for cell, row in zip(cells, diagnostics.agreement.to_dict("records"), strict=False):
        w = row["w"]
        cell.metric(
            tr("standings.kendall", panel=labels.get(row["panel"], row["panel"])),
            "—" if pd.isna(w) else f"{w:.3f}",
            help=tr("standings.kendall_help", reviewers=row["reviewers"], entries=row["entries"]),
        )
    st.plotly_chart(charts.reviewer_map(diagnostics.reviewers, labels, tr), width="stretch")
    st.markdown(f"**{tr('standings.reviewer_table')}**")
    summary = diagnostics.reviewers.assign(panel=diagnostics.reviewers["panel"].map(labels))
    _two_places(
        summary.rename(
            columns={
                "panel": tr.plain("standings.group"),
                "reviewer": tr.plain("standings.outlier_reviewer"),
                "n": tr.plain("standings.reviewer_n"),
                "mean": tr.plain("standings.reviewer_mean"),
                "sd": tr.plain("standings.reviewer_sd"),
                "mean_deviation": tr.plain("standings.reviewer_deviation"),
            }
        )
    )
    st.markdown(f"**{tr('standings.outliers')}**")
    outliers = diagnostics.outliers[diagnostics.outliers["outlier"]]
    if outliers.empty:
        st.caption(tr("standings.no_outliers"))
        return
    _two_places(
        outliers.assign(panel=outliers["panel"].map(labels))[
            ["panel", "reviewer", "code", "counted", "entry_mean"]
        ].rename(
            columns={
                "panel": tr.plain("standings.group"),
                "reviewer": tr.plain("standings.outlier_reviewer"),
                "code": tr.plain("entry.code"),
                "counted": tr.plain("standings.outlier_total"),
                "entry_mean": tr.plain("standings.outlier_entry_mean"),
            }
        )
    )


def _two_places(frame: pd.DataFrame) -> None:
    """A table with its decimal columns shown to two places (formatted in the browser)."""
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            name: st.column_config.NumberColumn(format="%.2f")
            for name in frame.columns
            if pd.api.types.is_float_dtype(frame[name])
        },
    )


@st.fragment(run_every=refresh_every(final))
def watch() -> None:
    """Every few seconds: ask only for the data version, and redraw the page when it moved.

    The question goes through the same permission check as the standings, so an organiser
    deactivated or given another role meanwhile is refused on the next refresh: the page
    reruns and its own checks show the refusal instead of the standings.
    """
    try:
        version, _ = _version()
    except ReviewDeskError:
        st.rerun()
    if st.session_state.get(SHOWN) != (campaign.id, version):
        st.rerun()


watch()
st.caption(standings_caption(final, changed))
_headline(live)
shown = st.segmented_control(
    f"{tr.plain('standings.tab_table')} · {tr.plain('standings.tab_charts')}",
    ("table", "charts"),
    format_func=lambda v: tr.plain(f"standings.tab_{v}"),
    default="table",
    required=True,
    key="standings_show",
    label_visibility="collapsed",
)
if shown == "table":
    _table(live, _filtered(live.analysis.standings))
else:
    _charts(live)
