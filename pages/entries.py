"""The entries gallery: cards with a cached thumbnail, filters, search; reviewers see their own."""

import streamlit as st

from pages._banner import final_banner
from pages._shared import current_actor, entry_link, pick_campaign, progress_bar, t, thumbnail
from scoring import context
from scoring.literal import markdown_literal
from scoring.services.gallery import GalleryFilters, gallery_view

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
    view = gallery_view(session, actor, campaign)
if actor.is_reviewer:
    progress_bar(actor, campaign)

filters = st.columns([2, 2, 2, 3])
chosen_categories = filters[0].multiselect(
    tr("gallery.category"),
    view.categories,
    key="gallery_categories",
    placeholder=tr.plain("gallery.any"),
)
chosen_domains = filters[1].multiselect(
    tr("gallery.domain"), view.domains, key="gallery_domains", placeholder=tr.plain("gallery.any")
)
chosen_states = filters[2].multiselect(
    tr("gallery.state" if view.reviewer else "gallery.status"),
    view.state_choices,
    format_func=lambda s: tr(f"state.{s}" if view.reviewer else f"status.{s}"),
    key="gallery_states" if view.reviewer else "gallery_statuses",
    placeholder=tr.plain("gallery.any"),
)
query = filters[3].text_input(tr("gallery.search"), key="gallery_search")
shown = view.shown(GalleryFilters(chosen_categories, chosen_domains, chosen_states, query))
frame = view.entries

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
            if view.reviewer:
                state = entry["state"]
                st.badge(tr(f"state.{state}"), color=BADGE_COLOURS.get(state, "gray"))
            else:
                st.badge(tr(f"status.{entry['status']}"), color="gray")
            entry_link(entry["code"], tr("gallery.score" if view.reviewer else "gallery.open"))
