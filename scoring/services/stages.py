"""A campaign's stages and their dates, which one it is in now, and what is late (issue 14.8).

The one home of these rules: the organiser's overview and the reviewer's own-scores page
both ask here, so "the review closes at the end of 20 November, Beijing time" is decided once.

Dates are read as people in China read them: an ``…_on`` date (intake, review, announcement)
covers that whole day in Beijing time, from 00:00 up to, not including, 00:00 of the next
day; the public vote has its own opening and closing instants (stored UTC). A date that is
missing or not a valid ISO date makes its stage "not set": it is shown so, never guessed and
never a crash. ``now`` is a parameter everywhere so that tests can hold the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from scoring.beijing_time import BEIJING, in_beijing, stored_utc
from scoring.permissions import Actor, can_manage
from scoring.services.entries import campaign_counts
from scoring.services.guard import authorise_campaign
from scoring.services.progress import panel_progress
from scoring.storage.models import Campaign

STAGE_KEYS = ("intake", "vote", "review", "announcement")
"""The stages in the order a campaign runs them (vote and review may overlap)."""

PHASES = (
    "not_set",
    "not_started",
    "intake",
    "between",
    "vote",
    "review",
    "announcement",
    "finalised",
)
"""Where a campaign can be: no date at all, before its first stage, inside a stage, between
two, and done (finalised). When two stages overlap, the later one in ``STAGE_KEYS`` wins:
it is the one the organiser is waiting for."""

STAGE_STATES = ("not_set", "upcoming", "now", "done")


def beijing_now() -> datetime:
    """The time of the check as people in China read it (aware)."""
    return datetime.now(BEIJING)


def parse_day(value: str | None) -> date | None:
    """An ``…_on`` column as a date; None when it is empty or not an ISO date (not set)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def day_start(day: date) -> datetime:
    """00:00 of ``day`` in Beijing time."""
    return datetime.combine(day, time(0, 0), tzinfo=BEIJING)


def day_end(day: date) -> datetime:
    """The end of ``day`` in Beijing time: 00:00 of the next day (exclusive)."""
    return day_start(day + timedelta(days=1))


@dataclass(frozen=True)
class Stage:
    """One stage with its bounds (aware, Beijing) and its state at the time asked.

    ``shown_from`` / ``shown_to`` are the bounds as the organiser typed them (a date, or the
    vote's Beijing date and time), None when not set. ``closes`` is exclusive; the
    announcement has no end: it lasts until the result is finalised.
    """

    key: str
    opens: datetime | None
    closes: datetime | None
    shown_from: str | None
    shown_to: str | None
    state: str

    @property
    def is_set(self) -> bool:
        return self.state != "not_set"


def _state(
    opens: datetime | None,
    closes: datetime | None,
    now: datetime,
    *,
    open_end: bool,
    done: bool = False,
) -> str:
    if opens is None or (closes is None and not open_end):
        return "not_set"
    if done:
        return "done"
    if now < opens:
        return "upcoming"
    if closes is None or now < closes:
        return "now"
    return "done"


def _day_stage(key: str, first: str | None, last: str | None, now: datetime) -> Stage:
    first_day, last_day = parse_day(first), parse_day(last)
    opens = day_start(first_day) if first_day else None
    closes = day_end(last_day) if last_day else None
    if opens is not None and closes is not None and closes <= opens:
        opens = closes = None  # closes before it opens: not a usable window
    return Stage(
        key,
        opens,
        closes,
        first_day.isoformat() if first_day else None,
        last_day.isoformat() if last_day else None,
        _state(opens, closes, now, open_end=False),
    )


def _moment(value: datetime | None) -> datetime | None:
    aware = stored_utc(value)
    return in_beijing(aware) if aware is not None else None


def stage_timeline(campaign: Campaign, now: datetime) -> tuple[Stage, ...]:
    """The four stages of ``campaign`` at ``now`` (aware), in ``STAGE_KEYS`` order."""
    vote_opens, vote_closes = _moment(campaign.vote_opens_at), _moment(campaign.vote_closes_at)
    announce_day = parse_day(campaign.announce_on)
    announce_opens = day_start(announce_day) if announce_day else None
    return (
        _day_stage("intake", campaign.intake_opens_on, campaign.intake_closes_on, now),
        Stage(
            "vote",
            vote_opens,
            vote_closes,
            f"{vote_opens:%Y-%m-%d %H:%M}" if vote_opens else None,
            f"{vote_closes:%Y-%m-%d %H:%M}" if vote_closes else None,
            _state(vote_opens, vote_closes, now, open_end=False),
        ),
        _day_stage("review", campaign.review_opens_on, campaign.review_closes_on, now),
        Stage(
            "announcement",
            announce_opens,
            None,
            announce_day.isoformat() if announce_day else None,
            None,
            _state(
                announce_opens,
                None,
                now,
                open_end=True,
                done=campaign.finalised_at is not None
                and announce_opens is not None
                and now >= announce_opens,
            ),
        ),
    )


def current_phase(campaign: Campaign, stages: tuple[Stage, ...]) -> str:
    """One of ``PHASES``: finalised wins; then the latest stage running; then before/between."""
    if campaign.finalised_at is not None:
        return "finalised"
    known = [s for s in stages if s.is_set]
    if not known:
        return "not_set"
    running = [s for s in known if s.state == "now"]
    if running:
        return running[-1].key
    if all(s.state == "upcoming" for s in known):
        return "not_started"
    return "between"


@dataclass(frozen=True)
class LateItem:
    """Something that should have happened by now: a message key and its numbers.

    ``panel`` names the reviewer panel the item is about (the page translates it), if any.
    """

    key: str
    params: dict[str, str | int] = field(default_factory=dict)
    panel: str | None = None


def late_items(
    campaign: Campaign,
    stages: tuple[Stage, ...],
    now: datetime,
    *,
    progress: list[dict],
    counts: dict[str, int],
) -> list[LateItem]:
    """What is late at ``now``, from facts the database holds; a finalised campaign is done.

    ``progress`` is ``panel_progress`` (per panel: submitted, needed, reviewers) and
    ``counts`` is ``campaign_counts`` (entries by status): the same figures the overview
    shows, so the late box never disagrees with the progress bars above it.
    """
    if campaign.finalised_at is not None:
        return []
    by_key = {s.key: s for s in stages}
    intake, vote, review, announce = (by_key[k] for k in STAGE_KEYS)
    late: list[LateItem] = []
    if intake.closes is not None and now >= intake.closes and counts.get("submitted", 0):
        late.append(
            LateItem(
                "stages.late.precheck_pending",
                {"closed": intake.shown_to or "", "count": counts["submitted"]},
            )
        )
    if review.opens is not None and now >= review.opens:
        if not counts.get("shortlisted", 0):
            late.append(LateItem("stages.late.no_shortlist", {"opened": review.shown_from or ""}))
        for row in progress:
            if row["needed"] and not row["reviewers"]:
                late.append(
                    LateItem(
                        "stages.late.no_reviewers",
                        {"opened": review.shown_from or ""},
                        panel=row["panel"],
                    )
                )
    if review.closes is not None and now >= review.closes:
        for row in progress:
            missing = row["needed"] - row["submitted"]
            if missing > 0:
                late.append(
                    LateItem(
                        "stages.late.review_missing",
                        {
                            "closed": review.shown_to or "",
                            "missing": missing,
                            "submitted": row["submitted"],
                            "needed": row["needed"],
                        },
                        panel=row["panel"],
                    )
                )
    if announce.opens is not None and now >= announce.opens:
        late.append(LateItem("stages.late.not_finalised", {"day": announce.shown_from or ""}))
        if vote.state == "now":
            late.append(
                LateItem(
                    "stages.late.vote_still_open",
                    {"day": announce.shown_from or "", "closes": vote.shown_to or ""},
                )
            )
    return late


@dataclass(frozen=True)
class StageReport:
    """A campaign's stages, where it is, and what is late, at ``now``."""

    stages: tuple[Stage, ...]
    phase: str
    late: list[LateItem]
    now: datetime


def build_report(
    campaign: Campaign, now: datetime, *, progress: list[dict], counts: dict[str, int]
) -> StageReport:
    """The report from figures already read (the overview reads them once for everything)."""
    stages = stage_timeline(campaign, now)
    return StageReport(
        stages=stages,
        phase=current_phase(campaign, stages),
        late=late_items(campaign, stages, now, progress=progress, counts=counts),
        now=now,
    )


def stage_report(
    session: Session, actor: Actor, campaign: Campaign, now: datetime | None = None
) -> StageReport:
    """The organiser's stage report (any campaign state: a finalised one says it is done)."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "stages.read", campaign)
    return build_report(
        campaign,
        now or beijing_now(),
        progress=panel_progress(session, actor, campaign),
        counts=campaign_counts(session, actor, campaign),
    )


def review_deadline(campaign: Campaign) -> datetime | None:
    """The end of the review's last day, Beijing time (None when not set)."""
    last = parse_day(campaign.review_closes_on)
    return day_end(last) if last else None


def time_left(deadline: datetime | None, now: datetime) -> tuple[str, dict[str, int]]:
    """How long until ``deadline``, as a message key and its numbers.

    Rounded down to whole hours (days and hours) or minutes in the last hour, never shown
    as "0 minutes" while time is left: the last minute still says 1 minute.
    """
    if deadline is None:
        return "stages.left.not_set", {}
    seconds = (deadline - now).total_seconds()
    if seconds <= 0:
        return "stages.left.closed", {}
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3_600)
    if days:
        return "stages.left.days_hours", {"days": days, "hours": hours}
    if hours:
        return "stages.left.hours_minutes", {"hours": hours, "minutes": rest // 60}
    return "stages.left.minutes", {"minutes": max(1, -(-rest // 60))}
