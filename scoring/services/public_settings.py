"""The organiser's side of the public gallery (SPEC §8): hall switch, public fields, voting window.

The people who run a selection think and announce in Beijing time ("投票 6 月 1 日 9:00 开始"),
so the page and the campaign file give the window as Asia/Shanghai wall-clock times; the
database keeps aware UTC like every other timestamp, and the audit log shows the times back in
Asia/Shanghai ISO form so that an auditor reads what the organiser typed. Voting is open iff
``opens <= now < closes`` (``scoring.services.guard.voting_window_holds``, the one home of
that rule); this module only checks and stores the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session

from scoring.beijing_time import BEIJING, in_beijing, stored_utc
from scoring.errors import ValidationFailed
from scoring.importers.report import Report
from scoring.permissions import Actor, can_configure_public
from scoring.services import audit
from scoring.services.guard import authorise_campaign, voting_window_holds
from scoring.storage.models import PUBLIC_FIELDS, Campaign, utcnow

"""The zone of every voting time an organiser enters or reads (SPEC §8)."""
FILE_TIME_FORMAT = "%Y-%m-%d %H:%M"
"""How the campaign file writes a voting time: ``vote_opens = "2026-06-01 09:00"``."""


def as_utc(moment: datetime) -> datetime:
    """An entered time as aware UTC: a naive one is Asia/Shanghai wall-clock time."""
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(UTC)


def local_time(moment: datetime | None) -> datetime | None:
    """A stored time as Beijing wall-clock time (aware), for pages and messages."""
    return in_beijing(moment) if moment is not None else None


def local_iso(moment: datetime | None) -> str | None:
    """``2026-06-01T09:00:00+08:00``: how the audit log names a voting time."""
    local = local_time(moment)
    return local.isoformat() if local is not None else None


def local_text(moment: datetime | None, *, seconds: bool = False) -> str:
    """``2026-06-01 09:00`` (Asia/Shanghai) for a page; an empty string for no time."""
    local = local_time(moment)
    if local is None:
        return ""
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else FILE_TIME_FORMAT)


def combine_local(day: date | None, clock: time | None) -> datetime | None:
    """The page's date and time boxes as one naive Asia/Shanghai time (None when no date).

    A date without a time means the start of that day, the way a notice says "6月1日起".
    """
    if day is None:
        return None
    return datetime.combine(day, clock or time(0, 0))


def window_problems(
    public_fields: Iterable[str], opens: datetime | None, closes: datetime | None
) -> list[tuple[str, dict[str, Any]]]:
    """Every reason the public settings are wrong, as (catalogue key, parameters).

    The one home of these checks: the page's form and the campaign file both go through it.
    """
    problems: list[tuple[str, dict[str, Any]]] = []
    unknown = [f for f in public_fields if f not in PUBLIC_FIELDS]
    if unknown:
        problems.append(
            (
                "public_settings.unknown_field",
                {"fields": ", ".join(map(str, unknown)), "allowed": ", ".join(PUBLIC_FIELDS)},
            )
        )
    if (opens is None) != (closes is None):
        problems.append(("public_settings.half_window", {}))
    elif opens is not None and closes is not None and as_utc(closes) <= as_utc(opens):
        problems.append(
            (
                "public_settings.closes_not_after_opens",
                {"opens": local_text(as_utc(opens)), "closes": local_text(as_utc(closes))},
            )
        )
    return problems


def _file_time(value: Any, field: str, report: Report) -> datetime | None:
    """A campaign file's voting time: ``"2026-06-01 09:00"`` or a TOML date-time, local."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.strptime(value.strip(), FILE_TIME_FORMAT)
        except ValueError:
            pass
    report.add("public_settings.bad_file_time", column=field, value=value)
    return None


def campaign_file_settings(data: dict[str, Any], report: Report) -> dict[str, Any]:
    """The public keys of a campaign file, checked into ``report``; the Campaign's fields.

    ``public_fields`` (a list of PUBLIC_FIELDS keys), ``vote_opens`` and ``vote_closes``
    (Asia/Shanghai, both or neither) sit beside ``public_gallery`` (SPEC §5.1).
    """
    settings: dict[str, Any] = {}
    fields = data.get("public_fields")
    if fields is not None:
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            report.add("public_settings.bad_file_fields", column="public_fields")
            fields = None
        else:
            settings["public_fields"] = list(dict.fromkeys(fields))
    opens = _file_time(data.get("vote_opens"), "vote_opens", report)
    closes = _file_time(data.get("vote_closes"), "vote_closes", report)
    unreadable = (opens is None and data.get("vote_opens") is not None) or (
        closes is None and data.get("vote_closes") is not None
    )
    if unreadable:
        return settings
    for key, params in window_problems(fields or [], opens, closes):
        column = "public_fields" if key == "public_settings.unknown_field" else "vote_opens"
        report.add(key, column=column, **params)
    if opens is not None and closes is not None:
        settings["vote_opens_at"], settings["vote_closes_at"] = as_utc(opens), as_utc(closes)
    return settings


@dataclass(frozen=True)
class PublicChange:
    """What a save changed (old → new, as audited) and whether voting is open now."""

    changed: dict[str, dict[str, Any]]
    voting_open: bool


def _audited(campaign: Campaign) -> dict[str, Any]:
    return {
        "public_gallery": bool(campaign.public_gallery),
        "public_fields": list(campaign.public_fields or []),
        "vote_opens_at": local_iso(campaign.vote_opens_at),
        "vote_closes_at": local_iso(campaign.vote_closes_at),
    }


def changes_voting_state(
    campaign: Campaign, opens: datetime | None, closes: datetime | None, now: datetime
) -> bool:
    """Whether saving this window opens or closes voting right now: the page confirms that."""
    current = Campaign(
        vote_opens_at=stored_utc(campaign.vote_opens_at),
        vote_closes_at=stored_utc(campaign.vote_closes_at),
    )
    proposed = Campaign(
        vote_opens_at=as_utc(opens) if opens else None,
        vote_closes_at=as_utc(closes) if closes else None,
    )
    return voting_window_holds(current, now) != voting_window_holds(proposed, now)


def configure_public(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    *,
    gallery: bool,
    public_fields: list[str],
    vote_opens: datetime | None,
    vote_closes: datetime | None,
) -> PublicChange:
    """Save the hall switch, its public fields and the voting window; audited old → new.

    Naive times are Asia/Shanghai; both times or neither (no window: voting stays closed).
    """
    actor, campaign = authorise_campaign(
        session, actor, can_configure_public, "public.configure", campaign
    )
    problems = window_problems(public_fields, vote_opens, vote_closes)
    if problems:
        key, params = problems[0]
        raise ValidationFailed(key, **params)
    before = _audited(campaign)
    ordered = [f for f in PUBLIC_FIELDS if f in set(public_fields)]
    campaign.public_gallery = bool(gallery)
    campaign.public_fields = ordered
    campaign.vote_opens_at = as_utc(vote_opens) if vote_opens else None
    campaign.vote_closes_at = as_utc(vote_closes) if vote_closes else None
    after = _audited(campaign)
    changed = {
        key: {"old": before[key], "new": after[key]} for key in after if before[key] != after[key]
    }
    if changed:
        session.add(campaign)
        audit.record(
            session,
            actor,
            "public.configure",
            target=campaign.slug,
            campaign_id=campaign.id,
            old={k: v["old"] for k, v in changed.items()},
            new={k: v["new"] for k, v in changed.items()},
        )
    return PublicChange(changed, voting_window_holds(campaign, utcnow()))
