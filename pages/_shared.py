"""What every page needs from the session: the actor, the translator, the campaign picker.

Pages stay thin: widgets in, one call into ``scoring``, render the result. This module only
reads ``st.session_state`` that ``app.py`` filled in after the login gate.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from scoring import context
from scoring.errors import AssetError, ReviewDeskError
from scoring.i18n import Translator
from scoring.permissions import Actor
from scoring.services.accounts import actor_for
from scoring.services.campaigns import campaigns_for
from scoring.services.progress import reviewer_progress
from scoring.storage.models import Campaign

T = TypeVar("T")


def t() -> Translator:
    """The translator for the language chosen in the sidebar."""
    return Translator(st.session_state.get("lang", "zh"))


def current_actor() -> Actor:
    """The logged-in user, re-read from the database now (role and active flag included)."""
    with context.database().read() as session:
        actor = actor_for(session, st.session_state.get("username"))
    if actor is None:
        st.error(t()("login.required"))
        st.stop()
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
        if on_error is not None:
            on_error(error)
        st.error(error.message(translate.lang))
        for problem in getattr(error, "problems", [])[:200]:
            st.text(f"• {problem.message(translate.lang)}")
        return False, None
    if success_key:
        st.toast(translate(success_key, **params))
    return True, result


def pick_campaign(actor: Actor) -> Campaign | None:
    """A campaign selector shared by the pages, remembered across pages."""
    translate = t()
    with context.database().read() as session:
        campaigns = campaigns_for(session, actor)
    if not campaigns:
        st.info(translate("campaign.none_yet"))
        return None
    slugs = [c.slug for c in campaigns]
    chosen = st.session_state.get("campaign_slug")
    index = slugs.index(chosen) if chosen in slugs else 0
    slug = st.sidebar.selectbox(
        translate("campaign.pick"),
        slugs,
        index=index,
        format_func=lambda s: next(c.name for c in campaigns if c.slug == s),
        key="campaign_picker",
    )
    st.session_state["campaign_slug"] = slug
    return next(c for c in campaigns if c.slug == slug)


#: Characters that Streamlit's Markdown gives a meaning to (":" starts emoji and icon
#: shortcodes, "$" LaTeX, "~" strikethrough); each is shown literally once escaped.
_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()#+-.!|<>~$:&\"'=")


def plain(text: str) -> str:
    """Entry text made safe for a Markdown element: shown exactly as typed, never rendered.

    Entries come from applicants' workbooks; a title such as ``**win**`` or
    ``[click](javascript:...)`` must appear as those characters, not as formatting or a link.
    """
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIALS else c for c in str(text))


ENTRY_PAGE = "pages/entry.py"


def entry_link(code: str, label: str) -> None:
    """A link to one entry's page (a real link: it can be opened in a new tab)."""
    st.page_link(
        ENTRY_PAGE, label=label, icon=":material/open_in_new:", query_params={"code": code}
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
