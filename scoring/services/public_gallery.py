"""What the public sees of a campaign (网上展厅, SPEC §8): its accepted entries, public fields only.

A campaign whose gallery is on shows every accepted or shortlisted entry with its title, its
images and the fields the organisers marked public (``Campaign.public_fields``). Everything
else an entry holds — materials, pre-check reasons, and any field not marked public (often
the applicant or the recommending unit) — never leaves this module: the rows read here hold
only public values, so a filter or a search cannot find an entry by a hidden field either.

Every function authorises ``can_view_public_gallery``: a visitor who types the slug of a
campaign whose hall is off is told so and sees nothing of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
from sqlmodel import Session, col, select

from scoring.errors import NotFound, StateRefused
from scoring.permissions import Actor, can_cast_vote, can_view_public_gallery
from scoring.services.campaigns import categories, domains, get_campaign
from scoring.services.entries import first_images
from scoring.services.gallery import GalleryPage, gallery_page
from scoring.services.guard import authorise_campaign, fresh_actor, voting_window_holds
from scoring.services.public_settings import local_text
from scoring.storage.models import (
    PUBLIC_FIELDS,
    Campaign,
    Category,
    Domain,
    Entry,
    EntryAsset,
    utcnow,
)

PUBLIC_STATUSES = ("accepted", "shortlisted")
"""Entries the hall shows and the public may vote for: past pre-check, not rejected."""
HALL_CARDS_PER_PAGE = 24
"""A phone shows one card per row: 24 is a long scroll already, and a fast page."""
ALWAYS_PUBLIC = ("title",)
"""Shown whatever the campaign chose (SPEC §8): the title, and the images."""


def public_fields_of(campaign: Campaign) -> tuple[str, ...]:
    """The fields ``campaign`` shows the public besides title and images, in a fixed order."""
    chosen = set(campaign.public_fields or ())
    return tuple(name for name in PUBLIC_FIELDS if name in chosen)


@dataclass(frozen=True)
class VotingWindow:
    """When the public may vote, and whether it may now (the guard's one rule decides)."""

    open: bool
    opens: str
    """Asia/Shanghai wall-clock time, ``2026-06-01 09:00``; empty when no window is set."""
    closes: str


def voting_window(campaign: Campaign, now: datetime | None = None) -> VotingWindow:
    """The campaign's voting window as the hall shows it."""
    holds = can_cast_vote(
        Actor.public_visitor(),
        gallery_public=bool(campaign.public_gallery),
        voting_open=voting_window_holds(campaign, now or utcnow()),
        finalised=campaign.finalised_at is not None,
    )
    return VotingWindow(
        holds, local_text(campaign.vote_opens_at), local_text(campaign.vote_closes_at)
    )


@dataclass(frozen=True)
class PublicCampaign:
    """A campaign on the hall's landing list."""

    slug: str
    name: str
    year: int
    voting: VotingWindow


def public_campaigns(
    session: Session, actor: Actor, now: datetime | None = None
) -> list[PublicCampaign]:
    """Every campaign whose hall is on, newest year first, for the visitor to pick from."""
    actor = fresh_actor(session, actor)  # a deactivated account is refused, list or not
    found = []
    candidates = session.exec(
        select(Campaign.id).where(col(Campaign.public_gallery).is_(True))
    ).all()
    for campaign_id in candidates:
        try:
            _, campaign = authorise_campaign(
                session, actor, can_view_public_gallery, "hall.list", campaign_id
            )
        except StateRefused:  # switched off meanwhile: not listed
            continue
        found.append(
            PublicCampaign(
                campaign.slug, campaign.name, campaign.year, voting_window(campaign, now)
            )
        )
    return sorted(found, key=lambda c: (-c.year, c.slug))


@dataclass(frozen=True)
class HallFilters:
    """The hall's filter widgets; empty means "any"."""

    categories: Sequence[str] = ()
    domains: Sequence[str] = ()
    query: str = ""
    """Searched in the title and the public fields only, ignoring case."""


@dataclass(frozen=True)
class HallView:
    """One campaign's hall: its public cards and what the filters may offer."""

    slug: str
    name: str
    year: int
    fields: tuple[str, ...]
    """The public fields, in ``PUBLIC_FIELDS`` order; each is a column of ``entries``."""
    entries: pd.DataFrame
    """``code``, ``title``, one column per public field, ``image`` (first image's SHA-256)."""
    categories: tuple[str, ...] = ()
    """Filter choices; empty when the category is not public (filtering would reveal it)."""
    domains: tuple[str, ...] = ()
    voting: VotingWindow = field(default_factory=lambda: VotingWindow(False, "", ""))

    def shown(self, filters: HallFilters) -> pd.DataFrame:
        """The cards under ``filters``; the search reads only what a card shows."""
        shown = self.entries
        if filters.categories and "category" in self.fields:
            shown = shown[shown["category"].isin(filters.categories)]
        if filters.domains and "domain" in self.fields:
            shown = shown[shown["domain"].isin(filters.domains)]
        query = filters.query.strip().casefold()
        if query and not shown.empty:
            haystack = shown["title"].astype(str)
            for name in self.fields:
                haystack = haystack + "\n" + shown[name].astype(str)
            shown = shown[haystack.str.casefold().str.contains(query, regex=False)]
        return shown

    @staticmethod
    def page(shown: pd.DataFrame, number: int) -> GalleryPage:
        """One page of the ``shown`` cards (the reviewers' gallery's paging, a phone's size)."""
        return gallery_page(shown, number, HALL_CARDS_PER_PAGE)


def _public_columns(fields: tuple[str, ...]) -> list:
    by_name = {
        "code": Entry.code,
        "applicant": Entry.applicant,
        "recommender": Entry.recommender,
        "category": Category.name,
        "domain": Domain.name,
        "summary": Entry.summary,
    }
    return [by_name[name] for name in fields]


def _campaign(session: Session, campaign: Campaign | str | int) -> Campaign | int:
    return get_campaign(session, campaign) if isinstance(campaign, str) else campaign


def hall_view(
    session: Session, actor: Actor, campaign: Campaign | str | int, now: datetime | None = None
) -> HallView:
    """The hall's one call: the public cards of a campaign whose gallery is on."""
    _, campaign = authorise_campaign(
        session, actor, can_view_public_gallery, "hall.view", _campaign(session, campaign)
    )
    fields = public_fields_of(campaign)
    # Only public values are read: what is not in this frame cannot be shown or searched.
    query = (
        select(Entry.id, Entry.code, Entry.title, *_public_columns(fields))
        .join(Category, Category.id == Entry.category_id)
        .join(Domain, Domain.id == Entry.domain_id)
        .where(Entry.campaign_id == campaign.id, col(Entry.status).in_(PUBLIC_STATUSES))
        .order_by(Entry.code)
    )
    names = ["id", "code", "title", *(f"public_{name}" for name in fields)]
    frame = pd.DataFrame(session.exec(query).all(), columns=names)
    # ``code`` may be public too: its public column replaces the identifier's copy.
    frame = frame.rename(columns={f"public_{name}": name for name in fields if name != "code"})
    frame = frame.drop(columns=[c for c in ("public_code",) if c in frame])
    images = first_images(session, [int(i) for i in frame["id"]])
    frame["image"] = pd.Series([images.get(int(i)) for i in frame["id"]], dtype=object)
    frame = frame.drop(columns=["id"])
    return HallView(
        slug=campaign.slug,
        name=campaign.name,
        year=campaign.year,
        fields=fields,
        entries=frame,
        categories=tuple(c.name for c in categories(session, campaign.id))
        if "category" in fields
        else (),
        domains=tuple(d.name for d in domains(session, campaign.id)) if "domain" in fields else (),
        voting=voting_window(campaign, now),
    )


@dataclass(frozen=True)
class PublicEntry:
    """One entry as the public sees it: title, public fields, every image; nothing else."""

    code: str
    """The entry's identifier in links and votes (shown as a field only when public)."""
    title: str
    fields: tuple[tuple[str, str], ...]
    """(field key, value) for each public field, in ``PUBLIC_FIELDS`` order."""
    images: tuple[str, ...]
    """SHA-256 of each image, in order; file names stay private (they may name the applicant)."""
    campaign_slug: str
    campaign_name: str
    voting: VotingWindow


def public_entry(
    session: Session,
    actor: Actor,
    campaign: Campaign | str | int,
    code: str,
    now: datetime | None = None,
) -> PublicEntry:
    """One accepted or shortlisted entry of a public hall, with all its images."""
    _, campaign = authorise_campaign(
        session, actor, can_view_public_gallery, "hall.entry", _campaign(session, campaign)
    )
    entry = public_entry_row(session, campaign, code)
    fields = public_fields_of(campaign)
    values = {
        "code": entry.code,
        "applicant": entry.applicant,
        "recommender": entry.recommender,
        "category": _name(session, Category, entry.category_id),
        "domain": _name(session, Domain, entry.domain_id),
        "summary": entry.summary,
    }
    images = session.exec(
        select(EntryAsset.sha256)
        .where(EntryAsset.entry_id == entry.id, EntryAsset.role == "image")
        .order_by(col(EntryAsset.position))
    ).all()
    return PublicEntry(
        code=entry.code,
        title=entry.title,
        fields=tuple((name, values[name]) for name in fields),
        images=tuple(images),
        campaign_slug=campaign.slug,
        campaign_name=campaign.name,
        voting=voting_window(campaign, now),
    )


def public_entry_row(session: Session, campaign: Campaign, code: str) -> Entry:
    """The entry ``code`` of the hall of ``campaign`` (authorised already), or NotFound.

    A rejected or not yet checked entry is as unknown as one that does not exist: the
    public is never told that it is there.
    """
    entry = session.exec(
        select(Entry).where(
            Entry.campaign_id == campaign.id,
            Entry.code == code,
            col(Entry.status).in_(PUBLIC_STATUSES),
        )
    ).first()
    if entry is None:
        raise NotFound("hall.no_such_entry", code=code)
    return entry


def _name(session: Session, table: type[Category] | type[Domain], row_id: int) -> str:
    row = session.get(table, row_id)
    return row.name if row is not None else ""
