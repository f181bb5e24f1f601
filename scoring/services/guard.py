"""The one door of every use case: re-read who acts and the campaign, then check the rule.

A page holds an ``Actor`` and a ``Campaign`` read minutes ago; since then the account may have
been deactivated or given another role, and the campaign finalised. So every use case, read or
write, starts with ``authorise(...)`` inside its own transaction and works with what it
returns, never with the objects it was handed.

On PostgreSQL a write transaction takes the campaign row ``FOR SHARE`` (changes of what feeds
the result run side by side) or ``FOR UPDATE`` (finalise and withdraw, which wait for those
changes and make them wait). A reviewer's save runs at READ COMMITTED, so this lock is read
again at its newest: a save that waited for finalise sees the campaign finalised. Every other
write also waits for the saves in flight before its snapshot (``scoring.storage.database``),
so finalise freezes every save that reported success. SQLite's ``BEGIN IMMEDIATE`` serialises
every write transaction already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from scoring.errors import NotFound, PermissionDenied
from scoring.permissions import Actor, Rule, Situation, refuse
from scoring.storage.models import (
    Account,
    Assignment,
    Campaign,
    Component,
    ConflictDeclaration,
    Entry,
    utcnow,
)


def voting_window_holds(campaign: Campaign, now: datetime) -> bool:
    """Public voting is open from ``vote_opens_at`` up to, not including, ``vote_closes_at``."""
    opens, closes = campaign.vote_opens_at, campaign.vote_closes_at
    return opens is not None and closes is not None and opens <= now < closes


def public_voting_started(campaign: Campaign, now: datetime) -> bool:
    """Once the public vote has opened, an entry nobody voted for has 0 votes, not none.

    Before it (or without one) a missing tally is a missing component (provisional): the
    votes are to be imported. The standings and the export's Votes sheet both ask this.
    """
    return campaign.vote_opens_at is not None and campaign.vote_opens_at <= now


WRITE_OPTION = "reviewdesk_write"


@dataclass(frozen=True)
class Authorised:
    """What a use case may work with: the actor and rows as they are now, in this transaction."""

    actor: Actor
    campaign: Campaign | None = None
    entry: Entry | None = None
    component: Component | None = None
    """The panel the action touches (the reviewer's own, or the one named), when it has one."""


def _in_write_transaction(session: Session) -> bool:
    return bool(session.connection().get_execution_options().get(WRITE_OPTION, False))


def fresh_actor(session: Session, actor: Actor) -> Actor:
    """The acting account as the database says now; refused when deactivated or gone."""
    if actor.is_command_line or actor.is_public_visitor:
        return actor
    account = (
        session.get(Account, actor.account_id, populate_existing=True)
        if actor.account_id is not None
        else session.exec(select(Account).where(Account.username == actor.username)).first()
    )
    if account is None or not account.active or account.username != actor.username:
        raise PermissionDenied("account_state.inactive")
    return Actor(username=account.username, role=account.role, account_id=account.id)


def fresh_campaign(
    session: Session, campaign: Campaign | int, *, exclusive: bool = False
) -> Campaign:
    """The campaign row re-read in this transaction (row-locked in a write transaction)."""
    campaign_id = campaign if isinstance(campaign, int) else campaign.id
    lock: dict[str, bool] | bool | None = None
    if _in_write_transaction(session):
        lock = True if exclusive else {"read": True}
    row = session.get(Campaign, campaign_id, populate_existing=True, with_for_update=lock)
    if row is None:
        raise NotFound("error.no_such_campaign", slug=str(campaign_id))
    return row


def _component(session: Session, campaign_id: int, key: str | None) -> Component | None:
    if key is None:
        return None
    return session.exec(
        select(Component).where(Component.campaign_id == campaign_id, Component.key == key)
    ).first()


def _exists(
    session: Session, table: type, reviewer_id: int, entry_id: int, *, lock: bool = False
) -> bool:
    query = select(table.id).where(table.reviewer_id == reviewer_id, table.entry_id == entry_id)
    if lock:
        query = query.with_for_update()
    return session.exec(query).first() is not None


def authorise(
    session: Session,
    actor: Actor,
    rule: Rule,
    action: str,
    *,
    campaign: Campaign | int | None = None,
    entry: Entry | int | None = None,
    panel: str | None = None,
    sheet_owner_id: int | None = None,
    exclusive: bool = False,
    lock_assignment: bool = False,
) -> Authorised:
    """Re-read the actor, the campaign (and entry), check ``rule``; raise its refusal or return.

    ``panel`` names the panel whose lock matters (default: the reviewer's own panel);
    ``sheet_owner_id`` the account whose sheet is written (default: the actor).
    ``lock_assignment`` reads the reviewer's assignment to the entry ``FOR UPDATE``, after
    the campaign's lock: a save locks it anyway, and reading it once, locked, both checks it
    at its newest and makes two first saves of one sheet take turns.
    """
    now_actor = fresh_actor(session, actor)
    entry_row: Entry | None = None
    if entry is not None:
        entry_id = entry if isinstance(entry, int) else entry.id
        entry_row = session.get(Entry, entry_id, populate_existing=True)
        if entry_row is None:
            raise NotFound("error.no_such_entry", code=str(entry_id))
        if campaign is None:
            campaign = entry_row.campaign_id
    campaign_row = fresh_campaign(session, campaign, exclusive=exclusive) if campaign else None
    if entry_row is not None and campaign_row and entry_row.campaign_id != campaign_row.id:
        raise NotFound("error.no_such_entry", code=entry_row.code)
    component = (
        _component(session, campaign_row.id, panel or now_actor.panel) if campaign_row else None
    )
    reviewer_id = now_actor.account_id
    on_entry = entry_row is not None and reviewer_id is not None and now_actor.is_reviewer
    situation = Situation(
        actor=now_actor,
        finalised=campaign_row is not None and campaign_row.finalised_at is not None,
        panel_locked=bool(component and component.locked),
        assigned=on_entry
        and _exists(session, Assignment, reviewer_id, entry_row.id, lock=lock_assignment),
        conflicted=on_entry and _exists(session, ConflictDeclaration, reviewer_id, entry_row.id),
        owns_sheet=sheet_owner_id is None or sheet_owner_id == reviewer_id,
        gallery_public=bool(campaign_row and campaign_row.public_gallery),
        voting_open=bool(campaign_row and voting_window_holds(campaign_row, utcnow())),
        notice_published=bool(
            campaign_row and campaign_row.finalised_at and campaign_row.notice_snapshot_id
        ),
    )
    refuse(rule, situation, action)
    return Authorised(now_actor, campaign_row, entry_row, component)


def authorise_campaign(
    session: Session,
    actor: Actor,
    rule: Rule,
    action: str,
    campaign: Campaign | int,
    *,
    exclusive: bool = False,
) -> tuple[Actor, Campaign]:
    """``authorise`` for the common case: an action on a whole campaign; (actor, campaign)."""
    done = authorise(session, actor, rule, action, campaign=campaign, exclusive=exclusive)
    assert done.campaign is not None
    return done.actor, done.campaign
