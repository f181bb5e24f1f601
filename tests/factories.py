"""Small factories that build real rows through the real use cases (no mocks)."""

from __future__ import annotations

import copy
from typing import Any

from sqlmodel import Session, select

from scoring.permissions import Actor
from scoring.services.accounts import create_account
from scoring.services.assignments import assign
from scoring.services.campaigns import create_campaign
from scoring.storage.models import Account, Campaign, Category, Domain, Entry

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
