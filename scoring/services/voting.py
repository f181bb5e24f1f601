"""The public vote (网上投票, SPEC §8): one vote per client IP per campaign per calendar day.

The rule is the database's, not the page's: ``public_vote`` has a unique key on (campaign,
client key, day), so two clicks, two tabs or two app servers racing for the same IP cannot
both land, whatever their timing. The vote row goes in inside a SAVEPOINT so that the key's
refusal becomes a clear message ("one vote per IP per day") instead of a failed transaction.

The tally then grows by one in a single atomic upsert (``INSERT ... ON CONFLICT DO UPDATE SET
votes = votes + 1``): never read, add and write back, which would lose votes under 200 voters
at once. No audit event is written per vote (docs/decisions.md): the ``public_vote`` table is
the record, one row per vote with its time and keyed hashes.

The day is the Asia/Shanghai calendar day: a vote at 23:59 and another at 00:01 Beijing time
are two days, as the campaign's rule reads to its voters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from scoring.beijing_time import BEIJING
from scoring.client_ip import client_key, network_key
from scoring.errors import ReviewDeskError, StateRefused
from scoring.permissions import Actor, can_cast_vote, can_view_public_gallery
from scoring.services.campaigns import get_campaign
from scoring.services.guard import authorise_campaign, voting_window_holds
from scoring.services.public_gallery import public_entry_row, voting_window
from scoring.storage.database import lock_rows_only
from scoring.storage.models import Campaign, Entry, PublicVote, VoteTally, utcnow

ALREADY_TODAY = "vote.already_today"


class AlreadyVotedToday(ReviewDeskError):
    """This IP has voted in this campaign today (Asia/Shanghai); nothing was counted."""


def vote_day(now: datetime) -> str:
    """The calendar day a vote counts for: ``YYYY-MM-DD`` in Asia/Shanghai."""
    return now.astimezone(BEIJING).date().isoformat()


@dataclass(frozen=True)
class VoteReceipt:
    """What the page confirms: for which entry, on which day the vote was counted."""

    entry_code: str
    entry_title: str
    day: str


def _campaign(session: Session, campaign: Campaign | str | int) -> Campaign | int:
    return get_campaign(session, campaign) if isinstance(campaign, str) else campaign


def _add_one(session: Session, entry_id: int, now: datetime) -> None:
    """votes + 1 and counted + 1 in one statement, creating the tally row if it is missing.

    Concurrent voters each add their one under the row lock the upsert takes; none reads a
    figure another is about to change.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = VoteTally.__table__  # type: ignore[attr-defined]
    statement = insert(table).values(
        entry_id=entry_id, votes=1, counted=1, imported=None, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.entry_id],
        set_={
            "votes": table.c.votes + 1,
            "counted": table.c.counted + 1,
            "updated_at": now,
        },
    )
    session.execute(statement)


def cast_vote(
    session: Session,
    actor: Actor,
    campaign: Campaign | str | int,
    entry_code: str,
    ip: str,
    now: datetime | None = None,
) -> VoteReceipt:
    """Count one public vote for ``entry_code`` from ``ip``, or refuse it with the reason.

    Refused: the hall off, voting not open, the campaign finalised (``can_cast_vote``); an
    entry the hall does not show; a second vote from the same IP the same day
    (``AlreadyVotedToday``). Safe to run again (``Database.write`` retries lost races): a
    retry starts from scratch and the unique key decides again.
    """
    lock_rows_only(session)  # PostgreSQL: voters run side by side, each locking what it touches
    now = now or utcnow()
    _, campaign = authorise_campaign(
        session, actor, can_cast_vote, "vote.cast", _campaign(session, campaign)
    )
    if not voting_window_holds(campaign, now):  # the time this vote is counted at decides
        raise StateRefused("public_state.voting_closed", action="vote.cast")
    entry = public_entry_row(session, campaign, entry_code)
    # Taken off the hall (rejected) meanwhile? The row lock makes that change wait or be seen.
    session.exec(select(Entry.id).where(Entry.id == entry.id).with_for_update(read=True)).one()
    day = vote_day(now)
    vote = PublicVote(
        campaign_id=campaign.id,
        entry_id=entry.id,
        client_key=client_key(ip),
        network_key=network_key(ip),
        day=day,
        cast_at=now,
        counted=True,
    )
    try:
        with session.begin_nested():
            session.add(vote)
    except IntegrityError:
        raise AlreadyVotedToday(ALREADY_TODAY) from None
    _add_one(session, entry.id, now)
    return VoteReceipt(entry.code, entry.title, day)


@dataclass(frozen=True)
class VoteStatus:
    """Whether this IP may still vote today, so the page can say so before a click."""

    voting_open: bool
    day: str
    voted_code: str | None
    """The entry this IP voted for today; None when it has not voted yet."""
    voted_title: str | None = None


def public_vote_status(
    session: Session,
    actor: Actor,
    campaign: Campaign | str | int,
    ip: str,
    now: datetime | None = None,
) -> VoteStatus:
    """Has ``ip`` voted in ``campaign`` today, and for which entry (a read; counts nothing)."""
    now = now or utcnow()
    _, campaign = authorise_campaign(
        session, actor, can_view_public_gallery, "vote.status", _campaign(session, campaign)
    )
    day = vote_day(now)
    voted = session.exec(
        select(Entry.code, Entry.title)
        .join(PublicVote, col(PublicVote.entry_id) == Entry.id)
        .where(
            PublicVote.campaign_id == campaign.id,
            PublicVote.client_key == client_key(ip),
            PublicVote.day == day,
        )
    ).first()
    return VoteStatus(
        voting_open=voting_window(campaign, now).open,
        day=day,
        voted_code=voted[0] if voted else None,
        voted_title=voted[1] if voted else None,
    )
