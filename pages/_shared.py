"""What every page needs from the session: the actor, the translator, the campaign picker.

Pages stay thin: widgets in, one call into ``scoring``, render the result. This module only
reads ``st.session_state`` that ``app.py`` filled in after the login gate.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import streamlit as st

from scoring import context
from scoring.errors import AssetError, PermissionDenied, ReviewDeskError
from scoring.i18n import MarkdownTranslator
from scoring.permissions import Actor
from scoring.services.accounts import actor_for
from scoring.services.campaigns import campaigns_for
from scoring.services.progress import reviewer_progress
from scoring.storage.models import Campaign

T = TypeVar("T")


def t() -> MarkdownTranslator:
    """The translator for the language chosen in the sidebar; data in messages shows literally."""
    return MarkdownTranslator(st.session_state.get("lang", "zh"))


SIGN_IN_REASON = "sign_in_reason"
"""Session key of the catalogue key that the sign-in page shows above the form once."""

INACTIVE = "account_state.inactive"
"""The key the services refuse a deactivated (or removed) account with."""


def _blank() -> None:
    """The body of every signed-out page: the login form is drawn by ``app.py`` itself."""


PUBLIC_PAGES = {
    "hall": ("pages/hall.py", "hall.nav"),
    "notice": ("pages/notice.py", "notice.title"),
}
"""The pages of SPEC §8 that run without login: url path -> (script, title key)."""


def public_pages() -> list[st.Page]:
    """The public pages, hidden from the page list: a visitor reaches them by their address."""
    return [
        st.Page(script, title=t().plain(title), url_path=path, visibility="hidden")
        for path, (script, title) in PUBLIC_PAGES.items()
    ]


def sign_in_page() -> st.Page:
    """The login form's own address (``/signin``); ``app.py`` draws the form itself."""
    return st.Page(_blank, title=t()("login.title"), url_path="signin", default=True)


def signed_out_navigation() -> st.Page:
    """Register the pages of a visitor who is not logged in: the public ones, none else runs.

    Without an ``st.navigation`` call in a run Streamlit lists every file of this folder
    and runs the one a URL names, past the login gate. Each page path but the public ones
    (``PUBLIC_PAGES``) gets a hidden blank stand-in instead, so that a deep link
    (``/entry?code=...&campaign=...``) keeps its address until the login cookie is read, and
    the real page opens right after it. Returns the page the address names.
    """
    title = t()("login.title")
    stand_ins = [sign_in_page(), *public_pages()]
    stand_ins += [
        st.Page(_blank, title=title, url_path=path.stem)
        for path in sorted(Path(__file__).parent.glob("*.py"))
        if not path.stem.startswith("_") and path.stem not in PUBLIC_PAGES
    ]
    return st.navigation(stand_ins, position="hidden")


def back_to_sign_in() -> NoReturn:
    """Leave a page script that has no (active) signed-in user for the sign-in page.

    A page runs without ``app.py`` only before the gate's first run in a process, when
    Streamlit still runs a file of this folder by its URL: the stand-ins replace that
    listing, and the rerun goes through ``app.py``, which signs a deactivated account out.
    """
    signed_out_navigation()
    st.rerun(scope="app")


def through_the_gate() -> None:
    """A public page's first line: a run outside ``app.py`` goes through it first.

    Before ``app.py``'s first run in a session Streamlit runs a file of this folder by its
    address and lists the whole folder in the sidebar; a public page needs no login, so no
    ``current_actor`` sends it back. The rerun goes through ``app.py`` (language switch, the
    gate's navigation), which runs the page again at the same address.
    """
    if "gate_ready" not in st.session_state:
        back_to_sign_in()


def sign_out_if_inactive(error: ReviewDeskError) -> None:
    """A refusal because the account was deactivated ends the session, not just the action.

    The whole app reruns (from a fragment too), and ``app.py`` signs the account out and
    shows the login form with the reason.
    """
    if isinstance(error, PermissionDenied) and error.key == INACTIVE:
        st.rerun(scope="app")


def current_actor() -> Actor:
    """The logged-in user, re-read from the database now (role and active flag included)."""
    username = st.session_state.get("username")
    if not username or not st.session_state.get("authentication_status"):
        back_to_sign_in()
    with context.database().read() as session:
        actor = actor_for(session, username)
    if actor is None:  # deactivated since app.py checked: the gate signs the account out
        back_to_sign_in()
    return actor


def require_page(allowed: bool) -> None:
    """A page's own role check: a user who reaches it by URL is refused, nothing shown."""
    if not allowed:
        st.error(t()("error.page_not_allowed"))
        st.stop()


def run_write(
    work: Callable[[Any], T],
    success_key: str | None = None,
    on_error: Callable[[ReviewDeskError], None] | None = None,
    **params: Any,
) -> tuple[bool, T | None]:
    """Run a use case in a write transaction; on refusal show the reason and keep the page.

    Returns ``(ok, result)`` so that a page reruns only after a change that landed;
    ``on_error`` lets a page react to a particular refusal (a stale sheet, say).
    """
    translate = t()
    try:
        result = context.database().write(work)
    except ReviewDeskError as error:
        sign_out_if_inactive(error)
        if on_error is not None:
            on_error(error)
        st.error(error.markdown(translate.lang))
        for problem in getattr(error, "problems", [])[:200]:
            st.text(f"• {problem.message(translate.lang)}")
        return False, None
    if success_key:
        st.toast(in_campaign(translate(success_key, **params)))
    return True, result


CAMPAIGN_OF_RUN = "campaign_of_run"
"""Session key of the campaign name this page works on; ``app.py`` clears it every run."""


def in_campaign(message: str) -> str:
    """A confirmation that names the campaign it changed (when the page works on one).

    Two tabs can show two campaigns; "导入 20 件作品" alone does not tell which one got them.
    """
    name = st.session_state.get(CAMPAIGN_OF_RUN)
    return t()("gate.in_campaign", campaign=name, message=message) if name else message


CAMPAIGN_PARAM = "campaign"
"""The query parameter naming the campaign: a reload or a shared link keeps it."""


def keep_in_address(params: dict[str, str]) -> None:
    """Write ``params`` into the address in one message, and none when it holds them.

    The browser makes a history entry of every address the app writes that differs from the
    one shown. A page switch empties the query on the server, and the language and then the
    campaign written one by one made three entries per page: Back went to the same page with
    only the language in its address, whose run wrote the campaign again, so Back seemed to
    do nothing. Written at once, they equal the address already shown and add no entry.
    """
    changed = {name: value for name, value in params.items() if st.query_params.get(name) != value}
    if changed:
        st.query_params.update(changed)


_SHOWN = "campaign_shown"
_VISIBLE = "campaigns_visible"  # (username, slugs) as the last campaign picker read them


def address_for(lang: str, actor: Actor, url_path: str) -> dict[str, str]:
    """What the address of a signed-in page should say: the language, and the campaign the
    page will pick when the address names none (a page switch empties it).

    Written before the page runs, together, so that the browser makes one history entry per
    page (see ``keep_in_address``). Only a campaign this user could see when it was last
    picked, and never on the public pages, whose address chooses their own campaign.
    """
    address = {"lang": lang}
    remembered = st.session_state.get("campaign_slug")
    seen_by, visible = st.session_state.get(_VISIBLE, (None, set()))
    if (
        url_path not in PUBLIC_PAGES
        and CAMPAIGN_PARAM not in st.query_params
        and seen_by == actor.username
        and remembered in visible
    ):
        address[CAMPAIGN_PARAM] = remembered
    return address


def _choose_campaign() -> None:
    st.session_state["campaign_slug"] = st.session_state["campaign_picker"]


def pick_campaign(actor: Actor) -> Campaign | None:
    """The campaign the address names (``?campaign=slug``), with a selector in the sidebar.

    What wins: a choice made in this session since the last run (the selector, or a page
    that just created a campaign), then the address, then the one used on the previous page
    (a page switch drops the query), then the first. An address naming a campaign that the
    user cannot see says so and picks none: an import must never land in another campaign.
    """
    translate = t()
    with context.database().read() as session:
        campaigns = campaigns_for(session, actor)
    if not campaigns:
        st.info(translate("campaign.none_yet"))
        return None
    by_slug = {c.slug: c for c in campaigns}
    st.session_state[_VISIBLE] = (actor.username, set(by_slug))
    remembered = st.session_state.get("campaign_slug")
    addressed = st.query_params.get(CAMPAIGN_PARAM)
    if remembered and remembered != st.session_state.get(_SHOWN):
        slug = remembered
    elif addressed:
        slug = addressed
    elif remembered in by_slug:
        slug = remembered
    else:
        slug = campaigns[0].slug
    known = slug in by_slug
    st.session_state["campaign_picker"] = slug if known else None
    st.sidebar.selectbox(
        translate("campaign.pick"),
        list(by_slug),
        format_func=lambda s: by_slug[s].name,
        key="campaign_picker",
        on_change=_choose_campaign,
        placeholder=translate.plain("campaign.pick"),
    )
    st.session_state["campaign_slug"] = st.session_state[_SHOWN] = slug
    keep_in_address({CAMPAIGN_PARAM: slug})
    if not known:
        st.error(translate("gate.unknown_campaign", slug=slug))
        return None
    st.session_state[CAMPAIGN_OF_RUN] = by_slug[slug].name
    return by_slug[slug]


ENTRY_PAGE = "pages/entry.py"


ENTRY_EDIT_PAGE = "pages/entry_edit.py"


def _carried_params(code: str | None) -> dict[str, str]:
    """A link's address: the entry, and the campaign and language the tab shows now, so that
    a new tab opens the same campaign in the same language."""
    params = {} if code is None else {"code": code}
    for name in (CAMPAIGN_PARAM, "lang"):
        if name in st.query_params:
            params[name] = st.query_params[name]
    return params


def entry_link(code: str, label: str) -> None:
    """A link to one entry's page (a real link: it can be opened in a new tab)."""
    st.page_link(
        ENTRY_PAGE, label=label, icon=":material/open_in_new:", query_params=_carried_params(code)
    )


def entry_edit_link(code: str | None, label: str) -> None:
    """A link to the organisers' form for one entry (``None``: a new entry)."""
    st.page_link(
        ENTRY_EDIT_PAGE,
        label=label,
        icon=":material/add:" if code is None else ":material/edit:",
        query_params=_carried_params(code),
    )


#: The rendition shown large (entry page, announcement): sharp on a projector, far lighter
#: than a 20 MB original.
DISPLAY_SIZE = (1600, 1200)


def thumbnail(sha: str | None, width: int = 480, height: int = 320) -> Path | None:
    """A cached rendition of a stored image fitted in width x height (None without one)."""
    if not sha:
        return None
    try:
        return context.asset_store().thumbnail(sha, width, height)
    except AssetError:
        return None


def progress_bar(actor: Actor, campaign: Campaign) -> dict[str, int]:
    """A reviewer's own progress bar; returns the counts it shows."""
    with context.database().read() as session:
        counts = reviewer_progress(session, actor, campaign)
    done = counts["submitted"] / counts["assigned"] if counts["assigned"] else 0.0
    st.progress(done, text=t()("my_entries.progress", **counts))
    return counts


if __name__ == "__main__":  # run as a page (by its URL, before the gate ran): never
    back_to_sign_in()
