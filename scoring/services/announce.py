"""The announcement: winners group by group, in the order they are revealed on stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session, col, select

from scoring.permissions import Actor, can_manage
from scoring.services.campaigns import group_order
from scoring.services.finalise import active_snapshot, final_records
from scoring.services.guard import authorise_campaign
from scoring.storage.models import Campaign, Entry, EntryAsset

RevealOrder = Literal["last_first", "code"]
REVEAL_ORDERS: tuple[str, ...] = ("last_first", "code")


@dataclass(frozen=True)
class Winner:
    code: str
    title: str
    applicant: str
    rank: int
    composite: float | None
    image: str | None
    override: str | None


@dataclass(frozen=True)
class WinnerGroup:
    label: str
    winners: list[Winner]


def announcement(
    session: Session, actor: Actor, campaign: Campaign, order: RevealOrder = "last_first"
) -> list[WinnerGroup]:
    """Groups in the campaign's order, each with its winners in reveal order.

    "last_first" reveals from the last awarded place up to first place (the suspense of a
    ceremony); "code" follows entry codes (for selections that announce without ranks).
    The list is the frozen one when the campaign is finalised.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "announce", campaign)
    if order not in REVEAL_ORDERS:
        raise ValueError(f"unknown reveal order {order!r}")
    records = [r for r in final_records(session, actor, campaign) if r["award"]]
    codes = [r["code"] for r in records]
    applicants = dict(
        session.exec(
            select(Entry.code, Entry.applicant).where(
                Entry.campaign_id == campaign.id, col(Entry.code).in_(codes)
            )
        ).all()
    )
    images: dict[str, str] = {}
    for code, sha in session.exec(
        select(Entry.code, EntryAsset.sha256)
        .join(EntryAsset, EntryAsset.entry_id == Entry.id)
        .where(Entry.campaign_id == campaign.id, EntryAsset.role == "image")
        .order_by(col(Entry.code), col(EntryAsset.position))
    ).all():
        images.setdefault(code, sha)
    labels = group_order(session, campaign, [r["group"] for r in records])
    groups = []
    for label in labels:
        own = [r for r in records if r["group"] == label]
        if order == "last_first":
            own.sort(key=lambda r: (-r["rank"], r["code"]))
        else:
            own.sort(key=lambda r: r["code"])
        winners = [
            Winner(
                code=r["code"],
                title=r["title"],
                applicant=applicants.get(r["code"], ""),
                rank=int(r["rank"]),
                composite=r["composite"],
                image=images.get(r["code"]),
                override=r.get("override"),
            )
            for r in own
        ]
        groups.append(WinnerGroup(label=label, winners=winners))
    return groups


@dataclass(frozen=True)
class Stage:
    """What the announcement view shows: the winners, and the seal they are announced under."""

    groups: list[WinnerGroup]
    sha256: str | None
    """The finalised snapshot's SHA-256; None before finalisation (the show is a rehearsal)."""

    @property
    def rehearsal(self) -> bool:
        return self.sha256 is None


def stage(
    session: Session, actor: Actor, campaign: Campaign, order: RevealOrder = "last_first"
) -> Stage:
    """The announcement with its seal, so the projector can close on the published hash."""
    groups = announcement(session, actor, campaign, order)
    snapshot = active_snapshot(session, campaign)
    return Stage(groups=groups, sha256=None if snapshot is None else snapshot.sha256)
