"""The entries gallery: cards with a cached thumbnail, filters, search; reviewers see their own.

One run draws one page of cards (``CARDS_PER_PAGE``), whatever the campaign's size.
"""

import streamlit as st

from pages._banner import final_banner
from pages._entry_layout import GALLERY_KEY, gallery_style
from pages._shared import (
    current_actor,
    entry_edit_link,
    entry_link,
    pick_campaign,
    progress_bar,
    t,
    thumbnail,
)
from scoring import context
from scoring.literal import markdown_literal
from scoring.services.gallery import GalleryFilters, gallery_page, gallery_view

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
    entry_edit_link(None, tr("entry_edit.add_link"))
with context.database().read() as session:
    view = gallery_view(session, actor, campaign)
if actor.is_reviewer:
    progress_bar(actor, campaign)

PAGE = f"gallery_page:{campaign.slug}"


def _first_page() -> None:
    """Changed filters show their first page, not page 7 of a list that has two."""
    st.session_state[PAGE] = 1


def _turn(step: int) -> None:
    st.session_state[PAGE] = st.session_state.get(PAGE, 1) + step


filters = st.columns([2, 2, 2, 3])
chosen_categories = filters[0].multiselect(
    tr("gallery.category"),
    view.categories,
    key="gallery_categories",
    on_change=_first_page,
    placeholder=tr.plain("gallery.any"),
)
chosen_domains = filters[1].multiselect(
    tr("gallery.domain"),
    view.domains,
    key="gallery_domains",
    on_change=_first_page,
    placeholder=tr.plain("gallery.any"),
)
chosen_states = filters[2].multiselect(
    tr("gallery.state" if view.reviewer else "gallery.status"),
    view.state_choices,
    format_func=lambda s: tr(f"state.{s}" if view.reviewer else f"status.{s}"),
    key="gallery_states" if view.reviewer else "gallery_statuses",
    on_change=_first_page,
    placeholder=tr.plain("gallery.any"),
)
query = filters[3].text_input(tr("gallery.search"), key="gallery_search", on_change=_first_page)
shown = view.shown(GalleryFilters(chosen_categories, chosen_domains, chosen_states, query))
frame = view.entries

page = gallery_page(shown, st.session_state.get(PAGE, 1))
st.session_state[PAGE] = page.number  # in range before the page's number box is drawn
counted = tr("gallery.count", shown=len(shown), total=len(frame))
if page.pages > 1:
    where = tr(
        "gallery.range", first=page.first, last=page.last, page=page.number, pages=page.pages
    )
    counted = f"{counted} · {where}"
st.caption(counted)
if shown.empty:
    st.info(tr("gallery.nothing"))
    st.stop()

if page.pages > 1:  # above the cards: a rerun keeps the scroll, the new page shows from its top
    back, number, forward = st.columns([1, 1, 1], vertical_alignment="bottom")
    back.button(
        tr("gallery.previous"),
        icon=":material/chevron_left:",
        on_click=_turn,
        args=(-1,),
        disabled=page.number == 1,
        width="stretch",
    )
    number.number_input(
        tr("gallery.page", pages=page.pages), min_value=1, max_value=page.pages, step=1, key=PAGE
    )
    forward.button(
        tr("gallery.next"),
        icon=":material/chevron_right:",
        on_click=_turn,
        args=(1,),
        disabled=page.number == page.pages,
        width="stretch",
    )

BADGE_COLOURS = {"to_score": "orange", "draft": "blue", "submitted": "green"}
rows = page.entries.to_dict("records")
gallery_style()  # a phone shows the cards as a compact list, not a wall of pictures
cards = st.container(key=GALLERY_KEY)
for start in range(0, len(rows), CARDS_PER_ROW):
    columns = cards.columns(CARDS_PER_ROW)
    for column, entry in zip(columns, rows[start : start + CARDS_PER_ROW], strict=False):
        with column.container(border=True, key=f"card_{entry['code']}"):
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
