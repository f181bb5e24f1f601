"""A reviewer's own progress: a bar, the counts, and what is left, each one a click away."""

import streamlit as st

from pages._shared import (
    ENTRY_PAGE,
    current_actor,
    entry_link,
    pick_campaign,
    progress_bar,
    require_page,
    t,
)
from scoring import context
from scoring.literal import markdown_literal
from scoring.services.entries import entries_frame
from scoring.services.review import OPEN_STATES, next_to_score, own_conflicts

actor = current_actor()
require_page(actor.is_reviewer)
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(tr("progress.title"))
st.caption(" · ".join((markdown_literal(campaign.name), tr(f"panel.{actor.role}"))))
counts = progress_bar(actor, campaign)
with context.database().read() as session:
    frame = entries_frame(session, actor, campaign)
    conflicts = own_conflicts(session, actor, campaign)
cells = st.columns(4 if conflicts else 3)
cells[0].metric(tr("my_entries.assigned"), counts["assigned"])
cells[1].metric(tr("my_entries.submitted"), counts["submitted"])
cells[2].metric(tr("my_entries.drafts"), counts["drafts"])
if conflicts:
    cells[3].metric(tr("my_conflicts.count"), len(conflicts))

left = frame[frame["state"].isin(OPEN_STATES)]


def _declared_conflicts() -> None:
    """Entries the reviewer declared a conflict on leave every list: show them here instead."""
    if not conflicts:
        return
    with st.container(border=True):
        st.subheader(tr("my_conflicts.title"))
        st.caption(tr("my_conflicts.caption"))
        for conflict in conflicts:
            code, about = st.columns([2, 7], vertical_alignment="center")
            code.text(conflict.code)
            about.text(conflict.title)
            about.caption(
                " · ".join(
                    (
                        tr("my_conflicts.reason", reason=conflict.reason),
                        tr("my_conflicts.declared_at", when=f"{conflict.declared_at:%Y-%m-%d}"),
                    )
                )
            )


st.subheader(tr("progress.left"))
if left.empty:
    st.success(tr("progress.nothing_left"))
    _declared_conflicts()
    st.stop()
if st.button(tr("progress.score_next"), type="primary", icon=":material/edit:"):
    # Looked up on the click only: every other run of the page would read the list twice.
    with context.database().read() as session:
        upcoming = next_to_score(session, actor, campaign, None)
    if upcoming:
        st.switch_page(ENTRY_PAGE, query_params={"code": upcoming})
    st.rerun()  # the last one was scored meanwhile (another tab): the list says so
for row in left.to_dict("records"):
    with st.container(border=True):
        code, title, state, link = st.columns([2, 5, 2, 2], vertical_alignment="center")
        code.text(row["code"])
        title.text(row["title"])
        state.badge(
            tr(f"state.{row['state']}"), color="blue" if row["state"] == "draft" else "orange"
        )
        with link:
            entry_link(row["code"], tr("gallery.score"))

_declared_conflicts()
