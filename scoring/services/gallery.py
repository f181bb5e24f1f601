"""The entries gallery in one read, and its filters as one rule (organisers and reviewers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlmodel import Session

from scoring.permissions import Actor, can_list_entries
from scoring.services.campaigns import categories, domains
from scoring.services.entries import REVIEW_STATES
from scoring.services.guard import authorise_campaign
from scoring.services.review import gallery
from scoring.storage.models import ENTRY_STATUSES, Campaign

CARDS_PER_PAGE = 48
"""Cards one run draws: a page switch costs the same at 36 entries and at 5,000 (SPEC §9).

A multiple of the page's four cards per row, and above the demo's 36 so that a small
campaign shows on one page, without a pager.
"""


@dataclass(frozen=True)
class GalleryFilters:
    """What the gallery's filter widgets hold; empty means "any"."""

    categories: Sequence[str] = ()
    domains: Sequence[str] = ()
    states: Sequence[str] = ()
    """Review states for a reviewer, entry statuses for an organiser (``state_column``)."""
    query: str = ""
    """Searched in code, title and (when shown) applicant, ignoring case."""


@dataclass(frozen=True)
class GalleryView:
    """The entries the actor may see and the choices of each filter."""

    entries: pd.DataFrame
    """As ``review.gallery``: every entry the actor may see, with its first image."""
    categories: tuple[str, ...]
    domains: tuple[str, ...]
    state_column: str
    """``state`` (a reviewer's own progress) or ``status`` (the entry's, for organisers)."""
    state_choices: tuple[str, ...]
    reviewer: bool = field(default=False)

    def shown(self, filters: GalleryFilters) -> pd.DataFrame:
        """The cards to show under ``filters``; a reviewer never sees an entry they declined."""
        shown = self.entries
        if self.reviewer:
            shown = shown[shown["state"] != "conflict"]
        if filters.categories:
            shown = shown[shown["category"].isin(filters.categories)]
        if filters.domains:
            shown = shown[shown["domain"].isin(filters.domains)]
        if filters.states:
            shown = shown[shown[self.state_column].isin(filters.states)]
        query = filters.query.strip().casefold()
        if query:
            haystack = shown["code"] + " " + shown["title"]
            if "applicant" in shown:
                haystack = haystack + " " + shown["applicant"]
            shown = shown[haystack.str.casefold().str.contains(query, regex=False)]
        return shown


@dataclass(frozen=True)
class GalleryPage:
    """One page of the shown cards, with where it sits in the whole list."""

    entries: pd.DataFrame
    number: int
    """1-based, within ``1..pages`` (a number past the end shows the last page)."""
    pages: int
    first: int
    """1-based position of the page's first card in the shown list (0 when it is empty)."""
    last: int


def gallery_page(shown: pd.DataFrame, number: int, size: int = CARDS_PER_PAGE) -> GalleryPage:
    """The ``number``-th page of ``size`` cards of ``shown``, kept in range.

    Filters narrowing the list under a reviewer on page 9 land them on the last page there
    is, not on an empty one.
    """
    pages = max(1, -(-len(shown) // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    entries = shown.iloc[start : start + size]
    first = start + 1 if len(entries) else 0
    return GalleryPage(entries, number, pages, first, start + len(entries))


def gallery_view(session: Session, actor: Actor, campaign: Campaign) -> GalleryView:
    """The gallery page's one call: organisers see every entry, reviewers their assigned ones."""
    actor, campaign = authorise_campaign(session, actor, can_list_entries, "entries.list", campaign)
    reviewer = actor.is_reviewer
    return GalleryView(
        entries=gallery(session, actor, campaign),
        categories=tuple(c.name for c in categories(session, campaign.id)),
        domains=tuple(d.name for d in domains(session, campaign.id)),
        state_column="state" if reviewer else "status",
        state_choices=tuple(REVIEW_STATES[:3] if reviewer else ENTRY_STATUSES),
        reviewer=reviewer,
    )
