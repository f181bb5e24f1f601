"""The finalised banner every organiser page shows, and the standings' frozen caption.

Once a campaign is finalised, nobody should have to open the finalise page to learn that the
list on screen is the frozen one: each organiser page says so, with the SHA-256 that an
exported file can be checked against.
"""

from __future__ import annotations

import streamlit as st

from pages._shared import t
from scoring import context
from scoring.literal import Markdown
from scoring.permissions import Actor, can_manage
from scoring.services.finalise import FinalState, final_state
from scoring.settings import get_settings
from scoring.storage.models import Campaign

TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


def final_banner(actor: Actor, campaign: Campaign | None) -> FinalState | None:
    """Show "已定稿 ... SHA-256 ..." when the campaign is finalised; returns what it showed.

    Reviewers share some pages (the gallery) and are told nothing: the snapshot is not theirs.
    """
    if campaign is None or not can_manage(actor):
        return None
    with context.database().read() as session:
        final = final_state(session, actor, campaign)
    if final is not None:
        st.success(
            t()(
                "confirm.banner",
                at=final.finalised_at.strftime(TIME_FORMAT),
                by=final.finalised_by,
                # A hex digest, nothing in it to escape; escaped, the code span would show
                # its backticks instead of the digest in monospace.
                sha=Markdown(f"`{final.sha256}`"),
            ),
            icon=":material/verified:",
        )
    return final


def standings_caption(final: FinalState | None, changed: str) -> str:
    """The standings' caption: frozen since finalising, else when data last changed."""
    tr = t()
    if final is not None:
        return tr("confirm.standings_frozen", at=final.finalised_at.strftime(TIME_FORMAT))
    return tr("standings.last_change", time=changed, seconds=get_settings().refresh_seconds)


def refresh_every(final: FinalState | None) -> str | None:
    """The live panel's timer: none for a frozen list, which cannot change."""
    return None if final is not None else f"{get_settings().refresh_seconds}s"
