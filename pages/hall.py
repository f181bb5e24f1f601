"""The online exhibition hall (网上展厅, SPEC §8): public cards, one entry, the public vote.

Runs for anybody, signed in or not (``app.py`` draws no login form here); it always acts as
the public visitor, so an organiser previewing it sees exactly what the public sees. The
address carries the campaign (``?campaign=slug``) and the entry (``&entry=code``), so a link
shared on a phone opens the same entry. The vote's rule is the database's; this page only
keeps one tab from sending a second click of its own.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from pages._shared import CAMPAIGN_PARAM, sign_in_page, t, through_the_gate, thumbnail
from scoring import context
from scoring.client_ip import client_ip
from scoring.errors import ReviewDeskError
from scoring.literal import markdown_literal
from scoring.permissions import Actor
from scoring.services.public_gallery import (
    HallFilters,
    HallView,
    PublicEntry,
    VotingWindow,
    hall_view,
    public_campaigns,
    public_entry,
)
from scoring.services.voting import cast_vote, public_vote_status

HALL_PAGE = "pages/hall.py"
NOTICE_PAGE = "pages/notice.py"
ENTRY_PARAM = "entry"
# Comments, not docstrings, below: Streamlit's magic would draw a bare string on the page.
CARDS_PER_ROW = 3  # three across on a desktop; a phone stacks columns: one card per row
IMAGE_SIZE = (1200, 900)
VOTED = "hall_voted"  # session: {(campaign slug, day): (code, title)} of this tab's votes
REFUSED = "hall_refused"  # session: (campaign slug, code, message) of the last refusal

through_the_gate()  # run by its address before app.py's first run: go through app.py

tr = t()
visitor = Actor.public_visitor()
database = context.database()


def _voter_ip() -> str:
    """The connection's IP (None for loopback); behind a trusted proxy, the header's voter.

    A session without a connection (AppTest) has no peer and no headers: it is loopback.
    """
    peer, headers = st.context.ip_address, st.context.headers
    return client_ip(
        peer if isinstance(peer, str) else None, headers if isinstance(headers, Mapping) else {}
    )


voter_ip = _voter_ip()


def _link_params(**params: str) -> dict[str, str]:
    """Query parameters of a link within the hall, keeping the language."""
    if "lang" in st.query_params:
        params["lang"] = st.query_params["lang"]
    return params


def _header_links() -> None:
    """The results notice, and sign-in for staff (visitors only: the signed-in have a list)."""
    notice, sign_in = st.columns(2)
    notice.page_link(
        NOTICE_PAGE,
        label=tr("hall.notice_link"),
        icon=":material/campaign:",
        query_params=_link_params(),
    )
    if not st.session_state.get("authentication_status"):
        sign_in.page_link(sign_in_page(), label=tr("hall.sign_in"), icon=":material/login:")


def _pick_campaign() -> str | None:
    """The hall's campaign: the address's, else the first public one; None when there is none."""
    with database.read() as session:
        campaigns = public_campaigns(session, visitor)
    if not campaigns:
        st.info(tr("hall.none_public"))
        return None
    by_slug = {c.slug: c for c in campaigns}
    addressed = st.query_params.get(CAMPAIGN_PARAM)
    slug = addressed or campaigns[0].slug

    def chosen() -> None:
        st.query_params[CAMPAIGN_PARAM] = st.session_state["hall_campaign"]
        st.query_params.pop(ENTRY_PARAM, None)

    if len(campaigns) > 1 or slug not in by_slug:
        st.session_state["hall_campaign"] = slug if slug in by_slug else None
        st.selectbox(
            tr("hall.pick"),
            list(by_slug),
            format_func=lambda s: tr.plain(
                "hall.campaign_line", name=by_slug[s].name, year=by_slug[s].year
            ),
            key="hall_campaign",
            on_change=chosen,
            placeholder=tr.plain("hall.pick"),
        )
    if slug not in by_slug:
        st.error(tr("hall.unknown_campaign", slug=slug))
        return None
    st.query_params[CAMPAIGN_PARAM] = slug
    return slug


def _window(voting: VotingWindow) -> None:
    if voting.opens and voting.closes:
        st.caption(tr("vote.window", opens=voting.opens, closes=voting.closes))


PAGE_KEY = "hall_page"


def _first_page() -> None:
    st.session_state[PAGE_KEY] = 1


def _turn(step: int) -> None:
    st.session_state[PAGE_KEY] = st.session_state.get(PAGE_KEY, 1) + step


def _cards(view: HallView) -> None:
    st.caption(markdown_literal(tr.plain("hall.campaign_line", name=view.name, year=view.year)))
    if view.voting.open:
        st.info(tr("vote.rule"))
    _window(view.voting)
    filters = st.columns([2, 2, 3])
    chosen_categories = chosen_domains = []
    if view.categories:  # offered only when the category is public: a filter would reveal it
        chosen_categories = filters[0].multiselect(
            tr("hall.category"),
            view.categories,
            key="hall_categories",
            on_change=_first_page,
            placeholder=tr.plain("hall.any"),
        )
    if view.domains:
        chosen_domains = filters[1].multiselect(
            tr("hall.domain"),
            view.domains,
            key="hall_domains",
            on_change=_first_page,
            placeholder=tr.plain("hall.any"),
        )
    query = filters[2].text_input(tr("hall.search"), key="hall_search", on_change=_first_page)
    wanted = HallFilters(chosen_categories, chosen_domains, query)
    shown = view.shown(wanted)
    page = view.page(shown, st.session_state.get(PAGE_KEY, 1))
    st.session_state[PAGE_KEY] = page.number
    counted = tr("hall.count", shown=len(shown), total=len(view.entries))
    if page.pages > 1:
        where = tr(
            "hall.range", first=page.first, last=page.last, page=page.number, pages=page.pages
        )
        counted = f"{counted} · {where}"
    st.caption(counted)
    if page.entries.empty:
        st.info(tr("hall.nothing"))
        return
    rows = page.entries.to_dict("records")
    for start in range(0, len(rows), CARDS_PER_ROW):
        columns = st.columns(CARDS_PER_ROW)
        for column, entry in zip(columns, rows[start : start + CARDS_PER_ROW], strict=False):
            with column.container(border=True, key=f"hall_card_{entry['code']}"):
                picture = thumbnail(entry["image"])
                if picture is None:
                    st.caption(tr("hall.no_image"))
                else:
                    st.image(str(picture), width="stretch")
                st.markdown(f"**{markdown_literal(entry['title'])}**")
                details = [
                    entry[name] for name in view.fields if name not in ("summary",) and entry[name]
                ]
                if details:
                    st.caption(" · ".join(markdown_literal(value) for value in details))
                st.page_link(
                    HALL_PAGE,
                    label=tr("hall.open"),
                    icon=":material/open_in_new:",
                    query_params=_link_params(campaign=view.slug, entry=entry["code"]),
                )
    if page.pages > 1:
        back, number, forward = st.columns([1, 1, 1], vertical_alignment="bottom")
        back.button(
            tr("hall.previous"),
            on_click=_turn,
            args=(-1,),
            disabled=page.number == 1,
            width="stretch",
        )
        number.number_input(
            tr("hall.page", pages=page.pages),
            min_value=1,
            max_value=page.pages,
            step=1,
            key=PAGE_KEY,
        )
        forward.button(
            tr("hall.next"),
            on_click=_turn,
            args=(1,),
            disabled=page.number == page.pages,
            width="stretch",
        )


def _cast(slug: str, code: str, day: str) -> None:
    """The vote button's callback: one database write, then the page shows the outcome.

    A second click of this tab (a double click, or a click before the page redrew) finds
    its vote of today remembered and sends nothing; any other second vote is refused by
    the database's unique key, and its message shown.
    """
    voted = st.session_state.setdefault(VOTED, {})
    if (slug, day) in voted:
        return
    try:
        receipt = database.write(lambda s: cast_vote(s, visitor, slug, code, voter_ip))
    except ReviewDeskError as error:
        st.session_state[REFUSED] = (slug, code, error.markdown(tr.lang))
        return
    voted[(slug, receipt.day)] = (receipt.entry_code, receipt.entry_title)
    st.session_state.pop(REFUSED, None)


def _vote(entry: PublicEntry) -> None:
    voting = entry.voting
    with database.read() as session:
        status = public_vote_status(session, visitor, entry.campaign_slug, voter_ip)
    if not voting.opens or not voting.closes:
        return
    st.info(tr("vote.rule"))
    _window(voting)
    refused = st.session_state.get(REFUSED)
    mine = st.session_state.get(VOTED, {}).get((entry.campaign_slug, status.day))
    if refused and refused[:2] == (entry.campaign_slug, entry.code):
        st.error(refused[2])
    elif mine is not None and mine[0] == entry.code:
        st.success(tr("vote.done", title=mine[1]))
    elif status.voted_code == entry.code:
        st.success(tr("vote.voted_here"))
    elif status.voted_code is not None:
        st.warning(tr("vote.voted_for", title=status.voted_title or status.voted_code))
    if not status.voting_open:
        st.caption(tr("vote.closed"))
        return
    st.button(
        tr("vote.button"),
        key=f"vote_{entry.campaign_slug}_{entry.code}",
        type="primary",
        icon=":material/how_to_vote:",
        on_click=_cast,
        args=(entry.campaign_slug, entry.code, status.day),
        disabled=status.voted_code is not None or mine is not None,
        width="stretch",
    )


def _entry(slug: str, code: str) -> None:
    st.page_link(
        HALL_PAGE,
        label=tr("hall.back"),
        icon=":material/arrow_back:",
        query_params=_link_params(campaign=slug),
    )
    try:
        with database.read() as session:
            entry = public_entry(session, visitor, slug, code)
    except ReviewDeskError as error:
        st.error(error.markdown(tr.lang))
        return
    st.caption(markdown_literal(entry.campaign_name))
    st.subheader(markdown_literal(entry.title))
    _vote(entry)  # above the images: on a phone they stack, and the button would sink below
    pictures, about = st.columns([3, 2])
    with pictures:
        if not entry.images:
            st.info(tr("hall.no_images"))
        for index, sha in enumerate(entry.images, start=1):
            shown = thumbnail(sha, *IMAGE_SIZE)
            if shown is not None:
                st.image(
                    str(shown),
                    width="stretch",
                    caption=tr.plain("hall.image_of", index=index, count=len(entry.images)),
                )
    with about:
        for name, value in entry.fields:
            st.caption(tr(f"hall.field_{name}"))
            st.text(value or "—")


st.title(tr("hall.title"))
_header_links()
campaign_slug = _pick_campaign()
if campaign_slug is None:
    st.stop()
entry_code = st.query_params.get(ENTRY_PARAM)
if entry_code:
    _entry(campaign_slug, entry_code)
    st.stop()
try:
    with database.read() as session:
        hall = hall_view(session, visitor, campaign_slug)
except ReviewDeskError as error:
    st.error(error.markdown(tr.lang))
    st.stop()
st.caption(tr("hall.intro"))
_cards(hall)
