"""The entries gallery: cards with a cached thumbnail, filters, search; reviewers see their own."""

import streamlit as st

from pages._banner import final_banner
from pages._shared import current_actor, entry_link, pick_campaign, progress_bar, t, thumbnail
from scoring import context
from scoring.literal import markdown_literal
from scoring.services.campaigns import categories, domains
from scoring.services.entries import REVIEW_STATES
from scoring.services.review import gallery
from scoring.storage.models import ENTRY_STATUSES

CARDS_PER_ROW = 4

actor = current_actor()
tr = t()
campaign = pick_campaign(actor)
if campaign is None:
    st.stop()

st.title(tr("gallery.title"))
final_banner(actor, campaign)
if actor.is_reviewer:
    st.caption(
        " · ".join((markdown_literal(campaign.name), tr("gallery.mine"), tr(f"panel.{actor.role}")))
    )
else:
    st.caption(" · ".join((markdown_literal(campaign.name), tr("gallery.all"))))
with context.database().read() as session:
    frame = gallery(session, actor, campaign)
    category_names = [c.name for c in categories(session, campaign.id)]
    domain_names = [d.name for d in domains(session, campaign.id)]
if actor.is_reviewer:
    progress_bar(actor, campaign)

filters = st.columns([2, 2, 2, 3])
chosen_categories = filters[0].multiselect(
    tr("gallery.category"),
    category_names,
    key="gallery_categories",
    placeholder=tr.plain("gallery.any"),
)
chosen_domains = filters[1].multiselect(
    tr("gallery.domain"), domain_names, key="gallery_domains", placeholder=tr.plain("gallery.any")
)
if actor.is_reviewer:
    chosen_states = filters[2].multiselect(
        tr("gallery.state"),
        REVIEW_STATES[:3],
        format_func=lambda s: tr(f"state.{s}"),
        key="gallery_states",
        placeholder=tr.plain("gallery.any"),
    )
    state_column = "state"
else:
    chosen_states = filters[2].multiselect(
        tr("gallery.status"),
        ENTRY_STATUSES,
        format_func=lambda s: tr(f"status.{s}"),
        key="gallery_statuses",
        placeholder=tr.plain("gallery.any"),
    )
    state_column = "status"
query = filters[3].text_input(tr("gallery.search"), key="gallery_search").strip().casefold()

shown = frame
if actor.is_reviewer:
    shown = shown[shown["state"] != "conflict"]
if chosen_categories:
    shown = shown[shown["category"].isin(chosen_categories)]
if chosen_domains:
    shown = shown[shown["domain"].isin(chosen_domains)]
if chosen_states:
    shown = shown[shown[state_column].isin(chosen_states)]
if query:
    haystack = shown["code"] + " " + shown["title"]
    if "applicant" in shown:
        haystack = haystack + " " + shown["applicant"]
    shown = shown[haystack.str.casefold().str.contains(query, regex=False)]

st.caption(tr("gallery.count", shown=len(shown), total=len(frame)))
if shown.empty:
    st.info(tr("gallery.nothing"))
    st.stop()

BADGE_COLOURS = {"to_score": "orange", "draft": "blue", "submitted": "green"}
rows = shown.to_dict("records")
for start in range(0, len(rows), CARDS_PER_ROW):
    columns = st.columns(CARDS_PER_ROW)
    for column, entry in zip(columns, rows[start : start + CARDS_PER_ROW], strict=False):
        with column.container(border=True):
            picture = thumbnail(entry["image"])
            if picture is None:
                st.caption(tr("gallery.no_image"))
            else:
                st.image(str(picture), width="stretch")
            st.text(f"{entry['code']}\n{entry['title']}")
            st.caption(
                " · ".join((markdown_literal(entry["category"]), markdown_literal(entry["domain"])))
            )
            if actor.is_reviewer:
                state = entry["state"]
                st.badge(tr(f"state.{state}"), color=BADGE_COLOURS.get(state, "gray"))
            else:
                st.badge(tr(f"status.{entry['status']}"), color="gray")
            entry_link(entry["code"], tr("gallery.score" if actor.is_reviewer else "gallery.open"))
