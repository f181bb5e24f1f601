"""Publishing the final list: honour certificates and the case collection (SPEC §4).

The press event announces the final list "with certificates and a published case
collection". Both documents are printed from the snapshot in force only — its awards, their
order, groups and public fields are the frozen ones, never a recomputation — and both carry
the snapshot's SHA-256, so a certificate can be checked against the published result
(docs/decisions.md "How a third party verifies a result"). Refused before finalising and
after a withdrawal (``can_publish_result``); each document made is an audit event.

The summary and the images are not in the snapshot (it holds what the result depends on);
they are read from the entry rows, which a finalised campaign no longer lets anybody change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, col, select

from scoring.assets import AssetStore
from scoring.beijing_time import in_beijing
from scoring.errors import AssetError
from scoring.export.canonical import frozen_records
from scoring.export.publication import (
    MAX_IMAGES,
    Award,
    Publication,
    Text,
    casebook_pdf,
    certificates_pdf,
)
from scoring.i18n import Translator
from scoring.permissions import Actor, can_publish_result
from scoring.services import audit
from scoring.services.finalise import active_snapshot
from scoring.services.guard import authorise_campaign
from scoring.settings import get_settings
from scoring.storage.models import Campaign, Entry, EntryAsset

"""The date on a certificate is the day of finalising where the award is given (UTC+8)."""
PRINT_SIZE = (1600, 1200)
"""Images are embedded as the store's JPEG fitted in this box: sharp on A4, a small file."""


def _publication(session: Session, campaign: Campaign, store: AssetStore | None) -> Publication:
    """The awards of the snapshot in force, in final list order, numbered in that order."""
    snapshot = active_snapshot(session, campaign)
    # can_publish_result let only a finalised campaign through, and finalising stores one.
    assert snapshot is not None, "a finalised campaign has a snapshot in force"
    content = json.loads(snapshot.content)
    awarded = [r for r in frozen_records(content) if r["award"]]
    slug = str(content["campaign"]["slug"])
    extra = _public_fields(session, campaign, [r["code"] for r in awarded], store)
    none: tuple[str, tuple[Path, ...]] = ("", ())
    awards = tuple(
        Award(
            number=f"{slug.upper()}-{place:03d}",
            code=r["code"],
            title=r["title"],
            applicant=r["applicant"],
            category=r["category"],
            domain=r["domain"],
            group=r["group"],
            summary=extra.get(r["code"], none)[0],
            images=extra.get(r["code"], none)[1],
        )
        for place, r in enumerate(awarded, start=1)
    )
    return Publication(
        campaign_name=str(content["campaign"]["name"]),
        finalised_at=in_beijing(snapshot.created_at),
        sha256=snapshot.sha256,
        awards=awards,
    )


def _public_fields(
    session: Session, campaign: Campaign, codes: list[str], store: AssetStore | None
) -> dict[str, tuple[str, tuple[Path, ...]]]:
    """code -> (summary, first image files fitted for print); no images without a store."""
    rows = session.exec(
        select(Entry.id, Entry.code, Entry.summary).where(
            Entry.campaign_id == campaign.id, col(Entry.code).in_(codes)
        )
    ).all()
    images: dict[int, list[str]] = {}
    if store is not None and rows:
        for entry_id, sha in session.exec(
            select(EntryAsset.entry_id, EntryAsset.sha256)
            .where(col(EntryAsset.entry_id).in_([r[0] for r in rows]), EntryAsset.role == "image")
            .order_by(EntryAsset.entry_id, EntryAsset.position)
        ):
            images.setdefault(entry_id, []).append(sha)
    fields = {}
    for entry_id, code, summary in rows:
        files = []
        for sha in images.get(entry_id, [])[:MAX_IMAGES]:
            try:
                files.append(store.thumbnail(sha, *PRINT_SIZE))  # type: ignore[union-attr]
            except AssetError:
                continue  # a file missing from the store is the pre-check's finding, not ours
        fields[code] = (summary, tuple(files))
    return fields


def _text(lang: str | None) -> Translator:
    return Translator(lang or get_settings().language)


def certificates(
    session: Session, actor: Actor, campaign: Campaign, lang: str | None = None
) -> bytes:
    """The PDF of one honour certificate per award of the snapshot in force (audited)."""
    return _published(session, actor, campaign, "certificates", None, certificates_pdf, lang)


def casebook(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    store: AssetStore,
    lang: str | None = None,
) -> bytes:
    """The PDF of the case collection of the snapshot in force (audited)."""
    return _published(session, actor, campaign, "casebook", store, casebook_pdf, lang)


def _published(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    kind: str,
    store: AssetStore | None,
    render: Callable[[Publication, Text], bytes],
    lang: str | None,
) -> bytes:
    """Authorise, render from the snapshot in force, and audit which snapshot was printed."""
    actor, campaign = authorise_campaign(
        session, actor, can_publish_result, f"publication.{kind}", campaign
    )
    publication = _publication(session, campaign, store)
    data = render(publication, _text(lang))
    audit.record(
        session,
        actor,
        f"campaign.{kind}",
        target=campaign.slug,
        campaign_id=campaign.id,
        new={"snapshot_sha256": publication.sha256, "documents": len(publication.awards)},
    )
    return data
