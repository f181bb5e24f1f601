"""Materials in bulk: chosen entries' files as one zip, one entry's dossier as one PDF.

Who may: organisers every entry; a reviewer only an entry assigned to them that they have not
declared a conflict on (``can_read_materials``), in any campaign state — reading changes
nothing. Each entry is read through ``review.entry_view`` first, so the entry page's guard,
its words for a conflicted reviewer and its blind-review rule (no applicant or recommender
for reviewers) apply here unchanged; the stricter rule is checked on top.

A use case returns a plan (what goes in, already authorised) inside its read transaction;
the zip or PDF is then written from the plan and the file store outside any transaction, so
a download of a few gigabytes never holds the database. A selection that names one entry
the actor may not read is refused whole, naming it: no zip with part of what was asked.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from sqlmodel import Session, col, func, select

from scoring.assets import AssetStore
from scoring.beijing_time import in_beijing
from scoring.errors import AssetError, ValidationFailed
from scoring.export.bundle import (
    Bundle,
    BundleFile,
    BundleReport,
    safe_part,
    write_bundle,
)
from scoring.export.dossier import Dossier, DossierFile, DossierReport, write_dossier
from scoring.i18n import Translator
from scoring.permissions import Actor, can_read_materials
from scoring.services.entries import entries_frame
from scoring.services.guard import authorise
from scoring.services.review import EntryView, entry_view
from scoring.settings import get_settings
from scoring.storage.models import Campaign, EntryAsset, utcnow

MB = 1024 * 1024
MAX_DOWNLOAD_BYTES = 500 * MB
"""The most a zip offered by the page may hold. Streamlit keeps a download in the server's
memory for the session that asked for it; the CLI streams to a file and has no limit."""
PRINT_SIZE = (1600, 1200)
"""Dossier images are the store's JPEG rendition in this box (the entry page's large one):
sharp on A4 and light, where a 20 MB original would make a 20 MB page."""


@dataclass(frozen=True)
class MaterialsOverview:
    """The page's list: one row per entry the actor may see, with its files' count and size.

    ``entries`` columns: code, title, category, domain, status, images, materials, bytes.
    ``categories``, ``domains``, ``statuses``: the filter choices, over all entries.
    """

    entries: pd.DataFrame
    categories: list[str]
    domains: list[str]
    statuses: list[str]


def materials_overview(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    *,
    categories: list[str] | None = None,
    domains: list[str] | None = None,
    statuses: list[str] | None = None,
) -> MaterialsOverview:
    """Entries the actor may list (narrowed by the filters given), with their files' sizes."""
    frame = entries_frame(session, actor, campaign)
    choices = {
        name: sorted({str(v) for v in frame[name]}) for name in ("category", "domain", "status")
    }
    for column, wanted in (("category", categories), ("domain", domains), ("status", statuses)):
        if wanted:
            frame = frame[frame[column].isin(wanted)]
    ids = [int(i) for i in frame["id"]]
    counts: dict[tuple[int, str], tuple[int, int]] = {}
    if ids:
        for entry_id, role, number, size in session.exec(
            select(
                EntryAsset.entry_id,
                EntryAsset.role,
                func.count(EntryAsset.id),
                func.coalesce(func.sum(EntryAsset.size_bytes), 0),
            )
            .where(col(EntryAsset.entry_id).in_(ids))
            .group_by(EntryAsset.entry_id, EntryAsset.role)
        ).all():
            counts[(entry_id, role)] = (int(number), int(size))
    out = frame[["code", "title", "category", "domain", "status"]].reset_index(drop=True)
    out["images"] = [counts.get((i, "image"), (0, 0))[0] for i in ids]
    out["materials"] = [counts.get((i, "material"), (0, 0))[0] for i in ids]
    out["bytes"] = [
        counts.get((i, "image"), (0, 0))[1] + counts.get((i, "material"), (0, 0))[1] for i in ids
    ]
    return MaterialsOverview(out, choices["category"], choices["domain"], choices["status"])


def _readable_entry(session: Session, actor: Actor, campaign: Campaign, code: str) -> EntryView:
    """The entry as the actor may see it, refused unless its materials are theirs to take."""
    view = entry_view(session, actor, campaign, code)  # the entry page's guard and blind rule
    authorise(session, actor, can_read_materials, "materials.read", entry=view.id)
    return view


def plan_bundle(
    session: Session, actor: Actor, campaign: Campaign, codes: list[str] | None = None
) -> Bundle:
    """The zip's content for ``codes`` (None: every entry the actor may list), authorised.

    Refused whole when one code is unknown or not the actor's to read; an empty choice is
    refused with its own reason.
    """
    if codes is None:
        frame = entries_frame(session, actor, campaign)
        if "state" in frame:  # a reviewer: a conflicted entry is not theirs
            frame = frame[frame["state"] != "conflict"]
        codes = list(frame["code"])
    wanted = sorted({c.strip() for c in codes if c and c.strip()})
    if not wanted:
        raise ValidationFailed("materials.no_entries")
    files: list[BundleFile] = []
    for code in wanted:
        view = _readable_entry(session, actor, campaign, code)
        for role, assets in (("image", view.images), ("material", view.materials)):
            files += [
                BundleFile(view.code, view.title, role, n, a.filename, a.sha256, a.size_bytes)
                for n, a in enumerate(assets, start=1)
            ]
    return Bundle(campaign.slug, tuple(wanted), tuple(files))


def plan_dossier(
    session: Session, actor: Actor, campaign: Campaign, code: str, store: AssetStore
) -> Dossier:
    """One entry's dossier content as the actor may see it (applicant hidden under blind review)."""
    view = _readable_entry(session, actor, campaign, code)
    return Dossier(
        campaign_name=campaign.name,
        code=view.code,
        title=view.title,
        kind=view.kind,
        applicant=view.applicant,
        recommender=view.recommender,
        category=view.category,
        domain=view.domain,
        summary=view.summary,
        images=tuple(
            DossierFile(a.filename, a.mime, _print_image(store, a.sha256)) for a in view.images
        ),
        materials=tuple(
            DossierFile(a.filename, a.mime, _stored_path(store, a.sha256)) for a in view.materials
        ),
    )


def _print_image(store: AssetStore, sha: str) -> Path:
    """The print rendition, or the (missing) stored path: the dossier prints a note for it."""
    try:
        return store.thumbnail(sha, *PRINT_SIZE)
    except AssetError:
        return _stored_path(store, sha)


def _stored_path(store: AssetStore, sha: str) -> Path:
    try:
        return store.path(sha)
    except AssetError:  # not a hash: a path that exists nowhere, so a note page
        return store.root / "files" / "missing"


def _text(lang: str | None) -> Translator:
    return Translator(lang or get_settings().language)


def check_download_size(total_bytes: int) -> None:
    """Refuse a zip the page would hold in memory whole; the CLI has no such limit."""
    if total_bytes > MAX_DOWNLOAD_BYTES:
        raise ValidationFailed(
            "materials.too_large",
            size=f"{total_bytes / MB:.0f}",
            limit=f"{MAX_DOWNLOAD_BYTES / MB:.0f}",
        )


def write_bundle_zip(
    bundle: Bundle, store: AssetStore, target: BinaryIO, lang: str | None = None
) -> BundleReport:
    """Write the materials zip of a planned bundle into ``target``, chunk by chunk."""
    return write_bundle(bundle, store.path, target, _text(lang), in_beijing(utcnow()))


def bundle_zip_bytes(bundle: Bundle, store: AssetStore, lang: str | None = None) -> bytes:
    """The zip for a download button: built in a temporary file, then read once.

    Streamlit needs the bytes to serve the download; building in a file keeps that the only
    copy (a BytesIO would grow by doubling and be copied again on ``getvalue``).
    """
    check_download_size(bundle.total_bytes)
    with tempfile.TemporaryFile(prefix="materials-") as handle:
        write_bundle_zip(bundle, store, handle, lang)
        handle.seek(0)
        return handle.read()


def write_dossier_pdf(dossier: Dossier, target: BinaryIO, lang: str | None = None) -> DossierReport:
    """Write a planned dossier PDF into ``target``."""
    return write_dossier(dossier, target, _text(lang))


def dossier_pdf_bytes(dossier: Dossier, lang: str | None = None) -> bytes:
    """The dossier for a download button (see ``bundle_zip_bytes``)."""
    with tempfile.TemporaryFile(prefix="dossier-") as handle:
        write_dossier_pdf(dossier, handle, lang)
        handle.seek(0)
        return handle.read()


def download_name(campaign_slug: str, what: str) -> str:
    """A safe file name for a download: ``qd-2020-materials.zip``, ``qd-2020-QD-001.pdf``."""
    return safe_part(f"{campaign_slug}-{what}", "download")
