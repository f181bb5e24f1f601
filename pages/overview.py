"""Organiser home: the chosen campaign at a glance — stages, what is late, entries, progress."""

import pandas as pd
import streamlit as st

from pages._banner import final_banner
from pages._shared import current_actor, pick_campaign, require_page, t
from scoring import context
from scoring.beijing_time import in_beijing
from scoring.literal import markdown_literal
from scoring.permissions import can_manage
from scoring.services.overview import overview_view

actor = current_actor()
require_page(can_manage(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(markdown_literal(campaign.name))
final_banner(actor, campaign)
st.caption(tr("overview.subtitle", year=campaign.year, slug=campaign.slug))

with context.database().read() as session:
    view = overview_view(session, actor, campaign)
counts, comps, rubrics, progress = view.counts, view.components, view.rubrics, view.progress
report = view.stages


def _stage_dates(stage) -> str:
    """A stage's bounds as typed, "not set" for a missing one (the announcement is one day)."""
    if stage.key == "announcement":
        return stage.shown_from or tr.plain("stages.not_set")
    if stage.shown_from is None and stage.shown_to is None:
        return tr.plain("stages.not_set")
    return tr.plain(
        "stages.range",
        first=stage.shown_from or tr.plain("stages.not_set"),
        last=stage.shown_to or tr.plain("stages.not_set"),
    )


_STAGE_COLOURS = {"now": "blue", "done": "green", "upcoming": "gray", "not_set": "gray"}
_STAGE_ICONS = {
    "now": ":material/radio_button_checked:",
    "done": ":material/check:",
    "upcoming": ":material/schedule:",
    "not_set": ":material/help:",
}

with st.container(border=True, key="stage_box"):
    st.markdown(
        " · ".join(
            (
                tr("stages.phase", phase=tr.plain(f"stages.phase_name.{report.phase}")),
                tr("stages.now_at", now=f"{report.now:%Y-%m-%d %H:%M}"),
            )
        )
    )
    # One line of badges that wraps: columns would stack into a screen of their own on a phone.
    steps = []
    for stage in report.stages:
        current = stage.key == report.phase
        state = "now" if current else stage.state
        label = tr.plain(f"stages.name.{stage.key}")
        if current:
            label += f" · {tr.plain('stages.current')}"
        colour = "blue" if current else _STAGE_COLOURS[stage.state]
        dates = markdown_literal(_stage_dates(stage))
        steps.append(f":{colour}-badge[{_STAGE_ICONS[state]} {label}] {dates}")
    done = report.phase == "finalised"
    final = tr.plain("stages.name.finalised")
    if done:
        final += f" · {tr.plain('stages.current')}"
    when = view.campaign.finalised_at
    steps.append(
        f":{'blue' if done else 'gray'}-badge[:material/verified: {final}]"
        + (f" {in_beijing(when):%Y-%m-%d}" if when is not None else "")
    )
    st.markdown(" → ".join(steps), width="stretch")
    st.markdown(f"**{tr('stages.late_title')}**")
    if report.late:
        lines = []
        for item in report.late:
            panel = {"panel": tr.plain(f"panel.{item.panel}")} if item.panel else {}
            lines.append(f"- {tr(item.key, **item.params, **panel)}")
        st.warning("\n".join(lines), icon=":material/schedule:")
    else:
        st.caption(tr("stages.nothing_late"))

cols = st.columns(4)
cols[0].metric(tr("overview.entries"), counts["entries"])
cols[1].metric(tr("overview.shortlisted"), counts["shortlisted"])
cols[2].metric(tr("overview.sheets_submitted"), counts["sheets_submitted"])
cols[3].metric(tr("overview.sheets_draft"), counts["sheets_draft"])

st.subheader(tr("overview.progress"))
for row in progress:
    share = row["submitted"] / row["needed"] if row["needed"] else 0.0
    st.progress(
        min(share, 1.0),
        text=tr(
            "overview.panel_progress",
            panel=tr(f"panel.{row['panel']}"),
            submitted=row["submitted"],
            needed=row["needed"],
            reviewers=row["reviewers"],
        ),
    )

st.subheader(tr("overview.method"))
st.dataframe(
    pd.DataFrame(
        [
            {
                tr("method.component"): tr(f"panel.{c.key}"),
                tr("method.weight"): c.weight,
                tr("method.aggregate"): tr.plain(f"method.aggregate_{c.aggregate}", trim=c.trim)
                if c.kind == "panel"
                else "—",
                tr("method.min_reviews"): str(c.min_reviews) if c.kind == "panel" else "—",
                tr("method.locked"): tr("common.yes") if c.locked else tr("common.no"),
            }
            for c in comps
        ]
    ),
    hide_index=True,
)
groups = {g: tr(f"group.{g}") for g in ("category", "domain", "category_domain", "all")}
st.caption(
    tr(
        "overview.groups",
        vote_group=groups[view.campaign.vote_group],
        rank_group=groups[view.campaign.rank_group],
        quota=view.campaign.award_quota,
    )
)

for key, criteria in rubrics.items():
    with st.expander(tr("overview.rubric", panel=tr(f"panel.{key}"))):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        tr("rubric.name"): c.name,
                        tr("rubric.max_points"): c.max_points,
                        tr("rubric.step"): c.step,
                        tr("rubric.description"): c.description,
                    }
                    for c in criteria
                ]
            ),
            hide_index=True,
        )
