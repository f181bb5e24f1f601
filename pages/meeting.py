"""The review meeting (评审会): open discussion rounds for chosen entries, see revisions."""

import pandas as pd
import streamlit as st

from pages._banner import final_banner
from pages._shared import (
    current_actor,
    in_campaign,
    pick_campaign,
    require_page,
    run_write,
    t,
)
from scoring import context
from scoring.literal import markdown_literal
from scoring.permissions import can_manage
from scoring.services.meeting import close_rounds, meeting_view, open_rounds

actor = current_actor()
require_page(can_manage(actor))
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(tr("meeting.title"))
st.caption(markdown_literal(campaign.name))
final_banner(actor, campaign)
st.caption(tr("meeting.explain"))

with context.database().read() as session:
    view = meeting_view(session, actor, campaign)
under_way, titles, changes = list(view.open_now), view.titles, view.revisions

st.subheader(tr("meeting.open_now"))
if under_way:
    st.text("\n".join(f"{code}  {titles.get(code, '')}" for code in under_way))
else:
    st.caption(tr("meeting.none_open"))

st.caption(tr("meeting.suggested"))
chosen = st.multiselect(
    tr("meeting.open_for"),
    list(view.codes),
    default=list(view.suggested),
    format_func=lambda code: f"{code} {titles.get(code, '')}",
    key="meeting_codes",
    placeholder=tr("gallery.any"),
)
start, stop = st.columns(2)
if start.button(tr("meeting.open"), type="primary", disabled=not chosen, width="stretch"):
    ok, count = run_write(lambda s: open_rounds(s, actor, campaign, chosen))
    if ok:
        st.toast(in_campaign(tr("meeting.opened", count=count)))
        st.rerun()
if stop.button(tr("meeting.close"), disabled=not under_way, width="stretch"):
    ok, count = run_write(lambda s: close_rounds(s, actor, campaign, under_way))
    if ok:
        st.toast(in_campaign(tr("meeting.closed", count=count)))
        st.rerun()

st.subheader(tr("meeting.revisions"))
if changes.empty:
    st.caption(tr("meeting.no_revisions"))
else:

    def _points(points) -> str:
        return ", ".join(f"{k} {v:g}" for k, v in (points or {}).items())

    st.dataframe(
        pd.DataFrame(
            {
                tr.plain("entry.code"): changes["code"],
                tr.plain("meeting.reviewer"): changes["reviewer"],
                tr.plain("meeting.at"): changes["at"].map(
                    lambda at: at.strftime("%Y-%m-%d %H:%M:%S")
                ),
                tr.plain("meeting.before"): changes["old_points"].map(_points),
                tr.plain("meeting.after"): changes["new_points"].map(_points),
            }
        ),
        hide_index=True,
        width="stretch",
    )
