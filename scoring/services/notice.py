"""The public results notice (结果公示, SPEC §2.8 and §8): the winners, for anyone to read.

After finalising, an organiser publishes the notice of the snapshot in force; from then on a
visitor who is not signed in reads the winners per ranking group with the campaign's public
fields, each winner's first image, and the snapshot's SHA-256, so that the published list can
be checked against any exported file (``reviewdesk verify``). Everything shown comes from the
frozen content, never from live standings: a score changed by accident after finalising could
not change what the public reads. Withdrawing the finalisation takes the notice down in the
same transaction, and a new finalisation is not public until somebody publishes it again.

The summary and the images are not in the snapshot; as for the printed case collection they
are read from the entry rows, which a finalised campaign no longer lets anybody change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from scoring.beijing_time import in_beijing, stored_utc
from scoring.errors import StateRefused, ValidationFailed
from scoring.export.canonical import frozen_records
from scoring.permissions import (
    Actor,
    can_manage,
    can_publish_notice,
    can_view_results_notice,
    can_withdraw_notice,
)
from scoring.services import audit
from scoring.services.campaigns import get_campaign, group_order
from scoring.services.entries import first_images
from scoring.services.finalise import active_snapshot
from scoring.services.guard import authorise_campaign, fresh_actor
from scoring.storage.models import PUBLIC_FIELDS, Campaign, Entry, FinalSnapshot, utcnow

NO_NOTICE = "public_state.no_notice"
"""The refusal of a campaign whose notice is not (or no longer) public."""


@dataclass(frozen=True)
class NoticeWinner:
    """One winner as the public reads it: rank, title and only the campaign's public fields."""

    rank: int
    title: str
    fields: tuple[tuple[str, str], ...]
    """(field key, value) for each of the campaign's public fields, in PUBLIC_FIELDS order."""
    image: str | None
    """SHA-256 of the entry's first stored image, for its thumbnail; None without one."""


@dataclass(frozen=True)
class NoticeGroup:
    """A ranking group's heading and its winners in rank order."""

    label: str
    winners: tuple[NoticeWinner, ...]


@dataclass(frozen=True)
class ResultsNotice:
    """Everything the public results page shows for one campaign."""

    slug: str
    name: str
    year: int
    fields: tuple[str, ...]
    """The public fields shown besides rank, title and image, in PUBLIC_FIELDS order."""
    groups: tuple[NoticeGroup, ...]
    sha256: str
    finalised_at: datetime
    """When the snapshot was taken, in Asia/Shanghai time."""
    published_at: datetime | None
    """When the notice was published, in Asia/Shanghai time; None in the organiser's preview."""


@dataclass(frozen=True)
class NoticeListing:
    """A campaign with a public notice, for the landing list."""

    slug: str
    name: str
    year: int
    published_at: datetime


@dataclass(frozen=True)
class NoticeState:
    """What the organiser's 结果公示 section shows: finalised or not, and published or not."""

    finalised: bool
    published_at: datetime | None
    """Asia/Shanghai time of publication; None when the notice is not public."""
    sha256: str | None
    """The snapshot in force (the one a publication would make public)."""


def _shanghai(at: datetime) -> datetime:
    return in_beijing(at)


def _public_snapshot(session: Session, campaign: Campaign) -> FinalSnapshot | None:
    """The snapshot in force when its notice is the published one; else None.

    The guard's ``notice_published`` looks at the campaign's columns; this also makes sure
    they name the snapshot in force, so that a notice can never show a withdrawn result.
    """
    snapshot = active_snapshot(session, campaign)
    if snapshot is None or campaign.notice_snapshot_id != snapshot.id:
        return None
    if campaign.notice_published_at is None:
        return None
    return snapshot


def notice_state(session: Session, actor: Actor, campaign: Campaign) -> NoticeState:
    """The organiser's view of the notice: may it be published, and is it."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "notice.state", campaign)
    snapshot = active_snapshot(session, campaign)
    public = _public_snapshot(session, campaign)
    return NoticeState(
        finalised=snapshot is not None and campaign.finalised_at is not None,
        published_at=_shanghai(campaign.notice_published_at)
        if public is not None and campaign.notice_published_at is not None
        else None,
        sha256=snapshot.sha256 if snapshot is not None else None,
    )


def publish_notice(session: Session, actor: Actor, campaign: Campaign) -> NoticeState:
    """Make the notice of the snapshot in force public (audited); again is no change.

    Publishing twice keeps the first publication time: the time a notice went public is a
    fact about it, and a second press of the button does not make it newer.
    """
    actor, campaign = authorise_campaign(
        session, actor, can_publish_notice, "notice.publish", campaign, exclusive=True
    )
    snapshot = active_snapshot(session, campaign)
    # can_publish_notice let only a finalised campaign through, and finalising stores one.
    assert snapshot is not None, "a finalised campaign has a snapshot in force"
    if _public_snapshot(session, campaign) is None:
        old = _notice_columns(campaign)
        campaign.notice_snapshot_id, campaign.notice_published_at = snapshot.id, utcnow()
        session.add(campaign)
        audit.record(
            session,
            actor,
            "campaign.notice_publish",
            target=campaign.slug,
            campaign_id=campaign.id,
            old=old,
            new={
                "snapshot_sha256": snapshot.sha256,
                "public_fields": _public_fields(campaign),
            },
        )
        session.flush()
    return notice_state(session, actor, campaign)


def withdraw_notice(session: Session, actor: Actor, campaign: Campaign, reason: str) -> None:
    """Take the notice down with a reason (audited); nothing public is no change."""
    actor, campaign = authorise_campaign(
        session, actor, can_withdraw_notice, "notice.withdraw", campaign, exclusive=True
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("notice.reason_required")
    _take_down(session, actor, campaign, reason, "campaign.notice_withdraw")


def _take_down(
    session: Session, actor: Actor, campaign: Campaign, reason: str, action: str
) -> None:
    """Clear the campaign's notice and audit it; the caller authorised and checked the reason.

    Withdrawing the finalisation calls this in its own transaction, so that no moment exists
    in which the notice names a withdrawn snapshot.
    """
    if campaign.notice_snapshot_id is None and campaign.notice_published_at is None:
        return
    old = _notice_columns(campaign)
    campaign.notice_snapshot_id = campaign.notice_published_at = None
    session.add(campaign)
    audit.record(
        session,
        actor,
        action,
        target=campaign.slug,
        campaign_id=campaign.id,
        old=old,
        new={"reason": reason},
    )


def _notice_columns(campaign: Campaign) -> dict[str, Any] | None:
    if campaign.notice_snapshot_id is None:
        return None
    at = campaign.notice_published_at
    return {
        "notice_snapshot_id": campaign.notice_snapshot_id,
        "notice_published_at": stored_utc(at).isoformat() if at is not None else None,
    }


def _public_fields(campaign: Campaign) -> list[str]:
    """The campaign's public fields that the public may see, in PUBLIC_FIELDS order."""
    chosen = set(campaign.public_fields or ())
    return [f for f in PUBLIC_FIELDS if f in chosen]


def results_notice(session: Session, actor: Actor, campaign_slug: str) -> ResultsNotice:
    """The public notice of one campaign; refused (``public_state.no_notice``) when none is,
    whatever the reason (not finalised, not published, withdrawn)."""
    campaign = get_campaign(session, campaign_slug)
    try:
        actor, campaign = authorise_campaign(
            session, actor, can_view_results_notice, "notice.view", campaign
        )
    except StateRefused as refused:
        # Not finalised or not published: the public learns only that nothing is published,
        # not how far the committee has got.
        raise StateRefused(NO_NOTICE, action="notice.view") from refused
    snapshot = _public_snapshot(session, campaign)
    if snapshot is None:  # columns naming a withdrawn snapshot: not public, whatever they say
        raise StateRefused(NO_NOTICE, action="notice.view")
    return _notice(session, campaign, snapshot)


def notice_preview(session: Session, actor: Actor, campaign: Campaign) -> ResultsNotice:
    """What publishing would make public, for the organiser's confirmation (not yet public).

    The same builder as the public page's, so the confirmation shows exactly what the public
    will read; ``published_at`` is None until it is published.
    """
    actor, campaign = authorise_campaign(
        session, actor, can_publish_notice, "notice.preview", campaign
    )
    snapshot = active_snapshot(session, campaign)
    assert snapshot is not None, "a finalised campaign has a snapshot in force"
    return _notice(session, campaign, snapshot)


def _notice(session: Session, campaign: Campaign, snapshot: FinalSnapshot) -> ResultsNotice:
    """The notice of ``snapshot``: frozen winners per group, public fields only."""
    content = json.loads(snapshot.content)
    winners = [r for r in frozen_records(content) if r["award"]]
    fields = _public_fields(campaign)
    rows = _entry_rows(session, campaign, [r["code"] for r in winners])
    groups = []
    for label in group_order(session, campaign, [r["group"] for r in winners]):
        own = sorted((r for r in winners if r["group"] == label), key=_rank_order)
        groups.append(
            NoticeGroup(
                label=label,
                winners=tuple(_winner(r, fields, rows.get(r["code"], ("", None))) for r in own),
            )
        )
    public = _public_snapshot(session, campaign) is not None
    return ResultsNotice(
        slug=campaign.slug,
        name=str(content["campaign"]["name"]),
        year=int(content["campaign"]["year"]),
        fields=tuple(fields),
        groups=tuple(groups),
        sha256=snapshot.sha256,
        finalised_at=_shanghai(snapshot.created_at),
        published_at=_shanghai(campaign.notice_published_at)
        if public and campaign.notice_published_at is not None
        else None,
    )


def _rank_order(record: dict[str, Any]) -> tuple[int, str]:
    return int(record["rank"]), str(record["code"])


def _winner(record: dict[str, Any], fields: list[str], row: tuple[str, str | None]) -> NoticeWinner:
    """Only the public fields are copied out: nothing else of the record leaves here."""
    summary, image = row
    values = {**{k: record.get(k) for k in PUBLIC_FIELDS if k != "summary"}, "summary": summary}
    return NoticeWinner(
        rank=int(record["rank"]),
        title=str(record["title"] or ""),
        fields=tuple((f, str(values[f] or "")) for f in fields if values[f]),
        image=image,
    )


def _entry_rows(
    session: Session, campaign: Campaign, codes: list[str]
) -> dict[str, tuple[str, str | None]]:
    """code -> (summary, SHA-256 of the first image) for the winners."""
    if not codes:
        return {}
    rows = session.exec(
        select(Entry.id, Entry.code, Entry.summary).where(
            Entry.campaign_id == campaign.id, col(Entry.code).in_(codes)
        )
    ).all()
    images = first_images(session, [entry_id for entry_id, _, _ in rows])
    return {code: (summary or "", images.get(entry_id)) for entry_id, code, summary in rows}


def published_notices(session: Session, actor: Actor) -> list[NoticeListing]:
    """Campaigns whose notice is public now, newest publication first (the landing list).

    Each candidate passes the same rule as its notice page, so the list never names a
    campaign whose page would refuse.
    """
    actor = fresh_actor(session, actor)  # a deactivated account is refused, list or not
    candidates = session.exec(
        select(Campaign).where(
            col(Campaign.notice_snapshot_id).is_not(None),
            col(Campaign.finalised_at).is_not(None),
        )
    ).all()
    listed = []
    for candidate in candidates:
        try:
            actor, campaign = authorise_campaign(
                session, actor, can_view_results_notice, "notice.list", candidate
            )
        except StateRefused:
            continue
        if _public_snapshot(session, campaign) is None:
            continue
        assert campaign.notice_published_at is not None
        listed.append(
            NoticeListing(
                campaign.slug,
                campaign.name,
                campaign.year,
                _shanghai(campaign.notice_published_at),
            )
        )
    return sorted(listed, key=lambda n: n.published_at, reverse=True)
