"""A reviewer's own list: the entries assigned to them, their state, and progress."""

import streamlit as st

from pages._shared import current_actor, pick_campaign, require_page, t
from scoring import context
from scoring.services.entries import REVIEW_STATES, entries_frame
from scoring.services.progress import reviewer_progress

actor = current_actor()
require_page(actor.is_reviewer)
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(tr("my_entries.title"))
st.caption(f"{campaign.name} · {tr(f'panel.{actor.role}')}")
with context.database().read() as session:
    counts = reviewer_progress(session, actor, campaign)
    frame = entries_frame(session, actor, campaign)

done = counts["submitted"] / counts["assigned"] if counts["assigned"] else 0.0
st.progress(done, text=tr("my_entries.progress", **counts))
cols = st.columns(3)
cols[0].metric(tr("my_entries.assigned"), counts["assigned"])
cols[1].metric(tr("my_entries.submitted"), counts["submitted"])
cols[2].metric(tr("my_entries.drafts"), counts["drafts"])

states = st.multiselect(
    tr("my_entries.filter_state"),
    REVIEW_STATES,
    default=[s for s in REVIEW_STATES if s != "submitted"],
    format_func=lambda s: tr(f"state.{s}"),
)
query = st.text_input(tr("my_entries.search"), placeholder=tr("my_entries.search_hint"))
shown = frame[frame["state"].isin(states)]
if query:
    needle = query.strip().casefold()
    shown = shown[
        shown["code"].str.casefold().str.contains(needle, regex=False)
        | shown["title"].str.casefold().str.contains(needle, regex=False)
    ]
if shown.empty:
    st.info(tr("my_entries.nothing"))
else:
    table = shown.assign(state=shown["state"].map(lambda s: tr(f"state.{s}")))
    columns = {
        "code": tr("entry.code"),
        "title": tr("entry.title"),
        "category": tr("entry.category"),
        "domain": tr("entry.domain"),
        "state": tr("entry.state"),
    }
    st.dataframe(table[list(columns)].rename(columns=columns), hide_index=True)
