"""The review meeting (评审会, SPEC §2.6): discussion rounds opened for chosen entries.

While a round is open for an entry, each reviewer who has submitted a sheet for it sees the
anonymised spread of their panel's totals and may revise before the lock. Organisers open
and close rounds and see who revised what, from the audit log (every revision is a
``sheet.save`` event with old and new points).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, col, select

from scoring.beijing_time import stored_utc
from scoring.errors import ValidationFailed
from scoring.permissions import Actor, can_assign, can_manage
from scoring.services import audit
from scoring.services.guard import authorise_campaign
from scoring.services.standings import live_standings
from scoring.storage.models import AuditEvent, Campaign, Entry, MeetingRound, utcnow


def _entries(session: Session, campaign: Campaign, codes: list[str]) -> list[Entry]:
    found = {
        e.code: e
        for e in session.exec(
            select(Entry).where(Entry.campaign_id == campaign.id, col(Entry.code).in_(codes))
        )
    }
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationFailed("meeting.unknown_codes", codes=", ".join(unknown))
    not_shortlisted = [c for c in codes if found[c].status != "shortlisted"]
    if not_shortlisted:
        raise ValidationFailed("meeting.not_shortlisted", codes=", ".join(not_shortlisted))
    return [found[c] for c in codes]


def open_codes(session: Session, campaign: Campaign) -> list[str]:
    """Codes of the entries whose round is open now."""
    return sorted(
        session.exec(
            select(Entry.code)
            .join(MeetingRound, MeetingRound.entry_id == Entry.id)
            .where(Entry.campaign_id == campaign.id, col(MeetingRound.closed_at).is_(None))
        ).all()
    )


def open_rounds(session: Session, actor: Actor, campaign: Campaign, codes: list[str]) -> int:
    """Open a round for each named entry that has none open; returns how many opened."""
    actor, campaign = authorise_campaign(session, actor, can_assign, "meeting.open", campaign)
    already = set(open_codes(session, campaign))
    opened = 0
    for entry in _entries(session, campaign, codes):
        if entry.code in already:
            continue
        session.add(MeetingRound(entry_id=entry.id, opened_by=actor.username))
        audit.record(session, actor, "meeting.open", target=entry.code, campaign_id=campaign.id)
        opened += 1
    return opened


def close_rounds(session: Session, actor: Actor, campaign: Campaign, codes: list[str]) -> int:
    """Close the open round of each named entry; returns how many closed."""
    actor, campaign = authorise_campaign(session, actor, can_assign, "meeting.close", campaign)
    closed = 0
    for entry in _entries(session, campaign, codes):
        for meeting in session.exec(
            select(MeetingRound).where(
                MeetingRound.entry_id == entry.id, col(MeetingRound.closed_at).is_(None)
            )
        ).all():
            meeting.closed_at = utcnow()
            session.add(meeting)
            audit.record(
                session, actor, "meeting.close", target=entry.code, campaign_id=campaign.id
            )
            closed += 1
    return closed


def revisions(session: Session, actor: Actor, campaign: Campaign) -> pd.DataFrame:
    """Every sheet change made while the entry's round was open: who, when, old and new.

    Columns: code, reviewer, at, old_status, new_status, old_points, new_points.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "meeting.revisions", campaign)
    rounds = session.exec(
        select(Entry.code, MeetingRound.opened_at, MeetingRound.closed_at)
        .join(Entry, Entry.id == MeetingRound.entry_id)
        .where(Entry.campaign_id == campaign.id)
    ).all()
    columns = ["code", "reviewer", "at", "old_status", "new_status", "old_points", "new_points"]
    if not rounds:
        return pd.DataFrame(columns=columns)
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.campaign_id == campaign.id, AuditEvent.action == "sheet.save")
        .order_by(col(AuditEvent.id))
    ).all()
    rows = []
    for event in events:
        code, _, reviewer = event.target.partition("/")
        at = stored_utc(event.at)
        inside = any(
            c == code and stored_utc(opened) <= at and (closed is None or at <= stored_utc(closed))
            for c, opened, closed in rounds
        )
        if not inside:
            continue
        old = event.old_value or {}
        new = event.new_value or {}
        rows.append(
            {
                "code": code,
                "reviewer": reviewer,
                "at": at,
                "old_status": old.get("status"),
                "new_status": new.get("status"),
                "old_points": old.get("points"),
                "new_points": new.get("points"),
            }
        )
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class MeetingView:
    """What the meeting page shows: rounds open now, the entries to pick from, the revisions."""

    open_now: tuple[str, ...]
    """Codes of the entries whose round is open, sorted."""
    codes: tuple[str, ...]
    """Every shortlisted entry, in standings order: what a round may be opened for."""
    titles: dict[str, str]
    suggested: tuple[str, ...]
    """Entries worth discussing and not under way: tied across a cut line, or holding an
    outlying review; sorted."""
    revisions: pd.DataFrame
    """As ``revisions``."""


def meeting_view(session: Session, actor: Actor, campaign: Campaign) -> MeetingView:
    """The meeting page's one call (organisers only), with the analysed standings once.

    The analysis is the standings page's, kept per data version, so opening the meeting
    after the standings computes nothing again.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "meeting.read", campaign)
    under_way = open_codes(session, campaign)
    analysis = live_standings(session, actor, campaign).analysis
    standings, outliers = analysis.standings, analysis.diagnostics.outliers
    disputed = set(standings.loc[standings["tie_at_cutline"], "code"])
    disputed |= set(outliers.loc[outliers["outlier"], "code"])
    return MeetingView(
        open_now=tuple(under_way),
        codes=tuple(standings["code"]),
        titles=dict(zip(standings["code"], standings["title"], strict=True)),
        suggested=tuple(sorted(disputed - set(under_way))),
        revisions=revisions(session, actor, campaign),
    )
