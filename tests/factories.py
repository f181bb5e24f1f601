"""Small factories that build real rows through the real use cases (no mocks)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from scoring.beijing_time import BEIJING
from scoring.permissions import Actor
from scoring.services.accounts import create_account
from scoring.services.assignments import assign
from scoring.services.campaigns import create_campaign
from scoring.storage.models import (
    Account,
    Campaign,
    Category,
    Domain,
    Entry,
    PublicVote,
    VoteTally,
    VoteVoid,
)

ORGANISER = Actor.command_line()

CAMPAIGN: dict[str, Any] = {
    "slug": "test-2020",
    "name": "测试评选",
    "year": 2020,
    "categories": ["数字政府", "数字经济"],
    "domains": ["政务服务", "大数据"],
    "vote_group": "category",
    "rank_group": "category",
    "award_quota": 1,
    "components": [
        {"key": "votes", "kind": "votes", "weight": 50},
        {"key": "expert", "kind": "panel", "weight": 30, "aggregate": "mean", "min_reviews": 2},
        {"key": "media", "kind": "panel", "weight": 20, "aggregate": "mean", "min_reviews": 1},
    ],
    "criteria": [
        {"panel": "expert", "key": "innovation", "name": "创新性", "max_points": 60},
        {"panel": "expert", "key": "impact", "name": "成效性", "max_points": 40, "step": 0.5},
        {"panel": "media", "key": "story", "name": "传播价值", "max_points": 100},
    ],
}


def campaign_data(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(CAMPAIGN)
    data.update(changes)
    return data


def make_campaign(session: Session, **changes: Any) -> Campaign:
    return create_campaign(session, ORGANISER, campaign_data(**changes))


def make_account(
    session: Session, username: str, role: str, password: str = "secret-pass"
) -> Account:
    account, _ = create_account(
        session, ORGANISER, username=username, display_name=username, role=role, password=password
    )
    return account


def make_entry(
    session: Session, campaign: Campaign, code: str, *, status: str = "shortlisted", **fields: Any
) -> Entry:
    category = session.exec(select(Category).where(Category.campaign_id == campaign.id)).first()
    domain = session.exec(select(Domain).where(Domain.campaign_id == campaign.id)).first()
    entry = Entry(
        campaign_id=campaign.id,
        code=code,
        title=fields.get("title", f"作品 {code}"),
        applicant=fields.get("applicant", "某单位"),
        category_id=category.id,
        domain_id=domain.id,
        status=status,
    )
    session.add(entry)
    session.flush()
    return entry


def actor_of(account: Account) -> Actor:
    return Actor(username=account.username, role=account.role, account_id=account.id)


def assigned(session: Session, entry: Entry, reviewer: Account) -> None:
    assign(session, ORGANISER, entry=entry, reviewer=reviewer)


def void_public_votes(
    session: Session, entry: Entry, network_key: str, reason: str, *, actor: str = "cli"
) -> VoteVoid:
    """A void of the entry's counted votes from one network (a stand-in for the voiding
    service): a VoteVoid row over their window, the votes uncounted, the tally reduced."""
    votes = session.exec(
        select(PublicVote).where(
            PublicVote.entry_id == entry.id,
            PublicVote.network_key == network_key,
            PublicVote.counted,
        )
    ).all()
    void = VoteVoid(
        campaign_id=entry.campaign_id,
        entry_id=entry.id,
        network_key=network_key,
        window_start=min(v.cast_at for v in votes),
        window_end=max(v.cast_at for v in votes) + timedelta(seconds=1),
        votes=len(votes),
        reason=reason,
        actor=actor,
    )
    session.add(void)
    session.flush()
    tally = session.get(VoteTally, entry.id)
    assert tally is not None
    tally.counted -= void.votes
    tally.votes -= void.votes
    for vote in votes:
        vote.counted, vote.void_id = False, void.id
    session.add_all([tally, *votes])
    session.flush()
    return void


def cast_votes(
    session: Session,
    entry: Entry,
    count: int,
    *,
    network_key: str,
    start: datetime,
    spacing: timedelta = timedelta(seconds=1),
    client_keys: Sequence[str] | None = None,
) -> None:
    """``count`` counted public votes for ``entry`` from one network, ``spacing`` apart from
    ``start`` (aware), each from its own client unless ``client_keys`` names them; the tally
    grows as a cast vote makes it grow (counted and votes + 1 each, SPEC §8 contract)."""
    keys = (
        list(client_keys)
        if client_keys is not None
        else [
            hashlib.sha256(f"{network_key}-{start.isoformat()}-{i}".encode()).hexdigest()
            for i in range(count)
        ]
    )
    zone = BEIJING
    rows = []
    for i in range(count):
        at = start + spacing * i
        rows.append(
            {
                "campaign_id": entry.campaign_id,
                "entry_id": entry.id,
                "client_key": keys[i],
                "network_key": network_key,
                "day": at.astimezone(zone).date().isoformat(),
                "cast_at": at,
                "counted": True,
            }
        )
    if rows:
        session.execute(insert(PublicVote), rows)
    tally = session.get(VoteTally, entry.id) or VoteTally(entry_id=entry.id)
    tally.counted += count
    tally.votes += count
    session.add(tally)
    session.flush()
