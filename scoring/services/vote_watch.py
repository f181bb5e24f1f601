"""Watching the public vote for ballot stuffing (刷票) and voiding a burst (SPEC §8, issue 13).

The database counts the votes per entry per hour (Asia/Shanghai) and picks the (entry,
network) pairs with enough votes to hold a burst; only those pairs' votes are read one by one.
That feeds everything an organiser sees: the votes over time and two kinds of warning, each
with the evidence an organiser needs before voiding anything:

* **network burst** — at least ``BURST_VOTES`` votes for one entry from one network (the
  keyed hash of a /24 or /48, never an IP) within ``BURST_WINDOW``: each client IP votes
  once a day, so this is twenty addresses of one network picking the same entry within
  minutes — a script cycling addresses, or an office told to vote; the evidence lets the
  organiser judge which. A sliding window, so a burst straddling two clock hours is whole;
* **above baseline** — an hour in which an entry got at least ``BASELINE_FACTOR`` times its
  own median active hour and at least ``BASELINE_MIN_VOTES`` votes: stuffing spread over
  many networks still shows as a spike against the entry's own history.

A warning stays listed after its votes were voided (its ``still_counted`` drops to 0), so
that the page shows what was found and what was done about it. Voiding (``void_burst``) marks
the counted votes of one network for one entry in one window as not counted, with a
``VoteVoid`` row, takes them out of the entry's tally in one UPDATE (the database checks
``votes = COALESCE(imported, 0) + counted``) and is audited with the reason and the count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Integer, case, cast, func, update
from sqlmodel import Session, col, select

from scoring.beijing_time import BEIJING, stored_utc
from scoring.errors import NotFound, ValidationFailed
from scoring.permissions import Actor, can_void_votes, can_watch_votes
from scoring.services import audit, cache
from scoring.services.guard import authorise_campaign
from scoring.services.public_settings import local_iso
from scoring.storage.models import Campaign, Entry, PublicVote, VoteTally, VoteVoid, utcnow

BURST_VOTES = 20
"""Votes for one entry from one network within ``BURST_WINDOW`` that make a burst."""
BURST_WINDOW = timedelta(minutes=10)
"""The sliding window of the network rule; a /24 of honest voters rarely fills it."""
BASELINE_FACTOR = 5.0
"""An hour at this many times the entry's median active hour is far above its baseline..."""
BASELINE_MIN_VOTES = 30
"""...and only with at least this many votes in it: 5 votes against a median of 1 is noise."""
NETWORK_PREFIX = 8
"""Hex characters of a network's keyed hash shown as its name: enough to tell networks apart."""


@dataclass(frozen=True)
class BurstWarning:
    """One burst that looks like ballot stuffing, with the evidence for voiding it.

    The window runs from ``window_start`` up to, not including, ``window_end`` (whole
    seconds, UTC): exactly what ``void_burst`` voids for ``network_key``. For the baseline
    rule the network is the one that cast most of that hour's votes (``network_votes``).
    """

    rule: str
    """``network`` (many votes from one network) or ``baseline`` (far above the entry's hours)."""
    entry_code: str
    entry_title: str
    network_key: str
    window_start: datetime
    window_end: datetime
    votes: int
    """Votes for the entry in the window (from the network, for the network rule)."""
    share: float
    """``votes`` as a share of all public votes the entry received, 0..1."""
    still_counted: int
    """How many of the burst's votes still count (0 once voided)."""
    network_votes: int
    baseline: float | None = None
    """The entry's median votes in an hour with votes (baseline rule)."""

    @property
    def network(self) -> str:
        """The network as shown: a short prefix of its keyed hash, never an address."""
        return network_label(self.network_key)


@dataclass(frozen=True)
class VoidRecord:
    """One void as the page lists it."""

    entry_code: str
    entry_title: str
    network: str
    window_start: datetime
    window_end: datetime
    votes: int
    reason: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class VoteWatch:
    """Everything the organiser's vote page shows, from one read of the votes."""

    hourly: pd.DataFrame
    """code, title, hour (Asia/Shanghai, aware), counted, voided: votes cast in that hour."""
    warnings: list[BurstWarning]
    voids: list[VoidRecord]
    total: int
    counted: int


def network_label(network_key: str) -> str:
    """A network's short name on pages and in the audit log: its hash prefix."""
    return network_key[:NETWORK_PREFIX] if network_key else "—"


def _epoch_seconds(session: Session):  # type: ignore[no-untyped-def]
    """``cast_at`` as whole seconds since 1970 (UTC), computed by the database.

    Converting 100,000 datetimes in Python costs more than the rest of the analysis.
    """
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", PublicVote.cast_at), Integer)
    return cast(func.floor(func.extract("epoch", PublicVote.cast_at)), Integer)


def _hour(session: Session):  # type: ignore[no-untyped-def]
    """The UTC hour of casting, as hours since 1970: the same buckets as Asia/Shanghai
    hours, which are UTC hours moved by a whole eight."""
    return (_epoch_seconds(session) // 3600).label("hour")


def _as_int(condition):  # type: ignore[no-untyped-def]
    return func.sum(case((condition, 1), else_=0))


def _per_hour(session: Session, campaign_id: int) -> pd.DataFrame:
    """Votes per entry per hour, counted in the database: entry_id, hour (epoch seconds),
    votes, counted, voided (a vote replaced by an import is neither counted nor voided).

    Two queries: all votes from the (campaign, entry, cast_at) index alone, and the few
    that no longer count from the table; one query over the table for both is 3× slower.
    """
    hour = _hour(session)
    everything = session.execute(
        select(PublicVote.entry_id, hour, func.count())
        .where(PublicVote.campaign_id == campaign_id)
        .group_by(PublicVote.entry_id, hour)
    ).all()
    uncounted = session.execute(
        select(
            PublicVote.entry_id,
            hour,
            func.count(),
            _as_int(col(PublicVote.void_id).is_not(None)),
        )
        .where(PublicVote.campaign_id == campaign_id, col(PublicVote.counted).is_(False))
        .group_by(PublicVote.entry_id, hour)
    ).all()
    frame = pd.DataFrame(everything, columns=["entry_id", "hour", "votes"]).astype("int64")
    gone = pd.DataFrame(uncounted, columns=["entry_id", "hour", "uncounted", "voided"])
    frame = frame.merge(gone.astype("int64"), on=["entry_id", "hour"], how="left")
    frame[["uncounted", "voided"]] = frame[["uncounted", "voided"]].fillna(0).astype("int64")
    frame["counted"] = frame["votes"] - frame["uncounted"]
    frame["hour"] = frame["hour"] * 3600
    return frame[["entry_id", "hour", "votes", "counted", "voided"]]


def _candidate_votes(session: Session, campaign_id: int) -> pd.DataFrame:
    """The votes of each (entry, network) pair with at least ``BURST_VOTES`` votes at all:
    only such a pair can hold a burst, and in an honest vote there are few of them."""
    pairs = (
        select(PublicVote.entry_id, PublicVote.network_key)
        .where(PublicVote.campaign_id == campaign_id)
        .group_by(PublicVote.entry_id, PublicVote.network_key)
        .having(func.count() >= BURST_VOTES)
        .subquery()
    )
    rows = session.execute(
        select(
            PublicVote.entry_id,
            PublicVote.network_key,
            _epoch_seconds(session),
            PublicVote.counted,
        )
        .join(
            pairs,
            (pairs.c.entry_id == PublicVote.entry_id)
            & (pairs.c.network_key == PublicVote.network_key),
        )
        .where(PublicVote.campaign_id == campaign_id)
    ).all()
    frame = pd.DataFrame(rows, columns=["entry_id", "network_key", "second", "counted"])
    return frame.astype(
        {"entry_id": "int64", "network_key": "object", "second": "int64", "counted": "bool"}
    )


def _moment(second: int | np.integer) -> datetime:
    return datetime.fromtimestamp(int(second), UTC)


def hourly_votes(per_hour: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """The chart's data: code, title, hour (Asia/Shanghai, aware), counted, voided."""
    columns = ["code", "title", "hour", "counted", "voided"]
    if per_hour.empty:
        return pd.DataFrame(columns=columns)
    frame = per_hour.merge(entries, on="entry_id", how="left")
    frame["hour"] = pd.to_datetime(frame["hour"], unit="s", utc=True).dt.tz_convert(BEIJING)
    return frame.sort_values(["code", "hour"])[columns].reset_index(drop=True)


def cumulative(hourly: pd.DataFrame) -> pd.DataFrame:
    """The hourly counts as running totals per entry (the chart's cumulative view)."""
    if hourly.empty:
        return hourly
    running = hourly.sort_values(["code", "hour"]).copy()
    running[["counted", "voided"]] = running.groupby("code")[["counted", "voided"]].cumsum()
    return running.reset_index(drop=True)


def network_bursts(votes: pd.DataFrame) -> tuple[list[dict], pd.Series]:
    """Sliding-window bursts of one network for one entry, merged where windows overlap;
    and which votes fall in one (a mask over ``votes``).

    Sorting by (entry, network, second) puts each pair's votes side by side; one
    ``searchsorted`` of every vote's window end then counts the votes in each window.
    """
    in_burst = pd.Series(False, index=votes.index)
    if votes.empty:
        return [], in_burst
    ordered = votes.sort_values(["entry_id", "network_key", "second"], kind="stable")
    labels = ordered.index
    ordered = ordered.reset_index(drop=True)
    pair = ordered.groupby(["entry_id", "network_key"], sort=False).ngroup().to_numpy()
    second = ordered["second"].to_numpy()
    key = pair.astype("int64") * 10**10 + (second - second.min())
    window = int(BURST_WINDOW.total_seconds())
    ends = np.searchsorted(key, key + window, side="left")
    starts_burst = np.flatnonzero(ends - np.arange(len(key)) >= BURST_VOTES)
    counted = np.concatenate([[0], np.cumsum(ordered["counted"].to_numpy())])
    bursts: list[dict] = []
    for index in starts_burst:
        last = bursts[-1] if bursts else None
        if last is not None and last["pair"] == pair[index] and index < last["end"]:
            last["end"] = max(last["end"], int(ends[index]))
            continue
        bursts.append({"pair": pair[index], "start": int(index), "end": int(ends[index])})
    found = []
    for burst in bursts:
        first, end = burst["start"], burst["end"]
        in_burst.loc[labels[first:end]] = True
        found.append(
            {
                "entry_id": int(ordered.at[first, "entry_id"]),
                "network_key": str(ordered.at[first, "network_key"]),
                "start": int(second[first]),
                "end": int(second[end - 1]) + 1,
                "votes": end - first,
                "counted": int(counted[end] - counted[first]),
            }
        )
    return found, in_burst


def baseline_hours(per_hour: pd.DataFrame) -> pd.DataFrame:
    """Hours far above the entry's own median active hour: entry_id, hour, votes, counted,
    baseline.

    ``per_hour`` leaves out the votes already in a network burst: that burst is warned of
    once, and what this rule adds is stuffing spread over many networks.
    """
    active = per_hour[per_hour["votes"] > 0]
    median = active.groupby("entry_id")["votes"].transform("median")
    hot = active[(active["votes"] >= BASELINE_FACTOR * median)]
    hot = hot[hot["votes"] >= BASELINE_MIN_VOTES]
    return hot.assign(baseline=median[hot.index].astype(float))[
        ["entry_id", "hour", "votes", "counted", "baseline"]
    ]


def _busiest_network(
    session: Session, campaign_id: int, entry_id: int, hour: int, left_out: pd.DataFrame
) -> tuple[str, int]:
    """The network that cast most of a hot hour's votes outside network bursts."""
    start, end = _moment(hour), _moment(hour + 3600)
    counts = dict(
        session.execute(
            select(PublicVote.network_key, func.count())
            .where(
                PublicVote.campaign_id == campaign_id,
                PublicVote.entry_id == entry_id,
                col(PublicVote.cast_at) >= start,
                col(PublicVote.cast_at) < end,
            )
            .group_by(PublicVote.network_key)
        ).all()
    )
    mine = left_out[(left_out["entry_id"] == entry_id) & (left_out["hour"] == hour)]
    for network, n in mine.groupby("network_key").size().items():
        counts[network] = counts.get(network, 0) - int(n)
    network = min(counts, key=lambda k: (-counts[k], k))
    return network, counts[network]


def _warnings(
    session: Session, campaign_id: int, per_hour: pd.DataFrame, entries: pd.DataFrame
) -> list[BurstWarning]:
    """Both rules' warnings with their evidence, the ones with most still counted first."""
    candidates = _candidate_votes(session, campaign_id)
    network, in_burst = network_bursts(candidates)
    bursting = candidates[in_burst].assign(hour=lambda f: f["second"] - f["second"] % 3600)
    taken = (
        bursting.assign(counted=bursting["counted"].astype("int64"))
        .groupby(["entry_id", "hour"])
        .agg(votes=("second", "size"), counted=("counted", "sum"))
    )
    outside = per_hour.set_index(["entry_id", "hour"])[["votes", "counted"]]
    outside = outside.sub(taken.reindex(outside.index, fill_value=0)).reset_index()
    baseline = []
    for row in baseline_hours(outside).itertuples():
        key, from_network = _busiest_network(
            session, campaign_id, int(row.entry_id), int(row.hour), bursting
        )
        baseline.append(
            {
                "entry_id": int(row.entry_id),
                "network_key": key,
                "start": int(row.hour),
                "end": int(row.hour) + 3600,
                "votes": int(row.votes),
                "counted": int(row.counted),
                "network_votes": from_network,
                "baseline": float(row.baseline),
            }
        )
    titles = entries.set_index("entry_id")
    totals = per_hour.groupby("entry_id")["votes"].sum()
    warnings = []
    for rule, found in (("network", network), ("baseline", baseline)):
        for burst in found:
            entry = titles.loc[burst["entry_id"]]
            warnings.append(
                BurstWarning(
                    rule=rule,
                    entry_code=str(entry["code"]),
                    entry_title=str(entry["title"]),
                    network_key=burst["network_key"],
                    window_start=_moment(burst["start"]),
                    window_end=_moment(burst["end"]),
                    votes=burst["votes"],
                    share=burst["votes"] / int(totals.loc[burst["entry_id"]]),
                    still_counted=burst["counted"],
                    network_votes=burst.get("network_votes", burst["votes"]),
                    baseline=burst.get("baseline"),
                )
            )
    return sorted(warnings, key=lambda w: (-w.still_counted, -w.votes, w.entry_code))


def _entries(session: Session, campaign_id: int) -> pd.DataFrame:
    rows = session.exec(
        select(Entry.id, Entry.code, Entry.title).where(Entry.campaign_id == campaign_id)
    ).all()
    return pd.DataFrame(rows, columns=["entry_id", "code", "title"])


def _voids(session: Session, campaign_id: int) -> list[VoidRecord]:
    rows = session.exec(
        select(VoteVoid, Entry.code, Entry.title)
        .join(Entry, Entry.id == VoteVoid.entry_id)
        .where(VoteVoid.campaign_id == campaign_id)
        .order_by(col(VoteVoid.at).desc(), col(VoteVoid.id).desc())
    ).all()
    return [
        VoidRecord(
            entry_code=code,
            entry_title=title,
            network=network_label(void.network_key),
            window_start=stored_utc(void.window_start),
            window_end=stored_utc(void.window_end),
            votes=void.votes,
            reason=void.reason,
            actor=void.actor,
            at=stored_utc(void.at),
        )
        for void, code, title in rows
    ]


def watch_votes(session: Session, actor: Actor, campaign: Campaign) -> VoteWatch:
    """The votes over time, the burst warnings with their evidence and the past voids."""
    _, campaign = authorise_campaign(session, actor, can_watch_votes, "votes.watch", campaign)

    def compute() -> VoteWatch:
        per_hour = _per_hour(session, campaign.id)
        entries = _entries(session, campaign.id)
        return VoteWatch(
            hourly=hourly_votes(per_hour, entries),
            warnings=_warnings(session, campaign.id, per_hour, entries),
            voids=_voids(session, campaign.id),
            total=int(per_hour["votes"].sum()),
            counted=int(per_hour["counted"].sum()),
        )

    # A new vote moves the data version's newest vote, a void or an import its audit events
    # and counted votes: a rerun of the page (a widget) reads nothing but the version.
    watch = cache.cached(session, campaign, "vote_watch", "organisers", compute)
    return replace(watch, hourly=watch.hourly.copy())  # the cached frame stays as computed


def _aware(moment: datetime, name: str) -> datetime:
    if moment.utcoffset() is None:
        raise ValidationFailed("vote_watch.naive_window", field=name)
    return moment.astimezone(UTC)


def void_burst(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    entry_code: str,
    network_key: str,
    window_start: datetime,
    window_end: datetime,
    reason: str,
) -> VoteVoid:
    """Void the counted votes of one network for one entry cast in [start, end); audited.

    Refused without a reason, and when nothing in the window still counts (voided before):
    a void of nothing would only clutter the record.
    """
    actor, campaign = authorise_campaign(session, actor, can_void_votes, "votes.void", campaign)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("vote_watch.reason_required")
    start, end = _aware(window_start, "window_start"), _aware(window_end, "window_end")
    if end <= start:
        raise ValidationFailed("vote_watch.bad_window")
    entry = session.exec(
        select(Entry).where(Entry.campaign_id == campaign.id, Entry.code == entry_code)
    ).first()
    if entry is None:
        raise NotFound("error.no_such_entry", code=entry_code)
    void = VoteVoid(
        campaign_id=campaign.id,
        entry_id=entry.id,
        network_key=network_key,
        window_start=start,
        window_end=end,
        votes=0,
        reason=reason,
        actor=actor.username,
    )
    session.add(void)
    session.flush()
    # One UPDATE with the condition on ``counted``: a second void of the same burst, even one
    # racing this one on PostgreSQL, re-checks the rows after the first commits and finds none.
    voided = session.execute(
        update(PublicVote)
        .where(
            col(PublicVote.campaign_id) == campaign.id,
            col(PublicVote.entry_id) == entry.id,
            col(PublicVote.network_key) == network_key,
            col(PublicVote.counted).is_(True),
            col(PublicVote.cast_at) >= start,
            col(PublicVote.cast_at) < end,
        )
        .values(counted=False, void_id=void.id)
    ).rowcount
    if not voided:
        raise ValidationFailed(
            "vote_watch.nothing_to_void",
            code=entry_code,
            network=network_label(network_key),
        )
    void.votes = voided
    session.add(void)
    session.execute(
        update(VoteTally)
        .where(col(VoteTally.entry_id) == entry.id)
        .values(
            counted=VoteTally.counted - voided, votes=VoteTally.votes - voided, updated_at=utcnow()
        )
    )
    audit.record(
        session,
        actor,
        "votes.void",
        target=entry.code,
        campaign_id=campaign.id,
        new={
            "network": network_label(network_key),
            "window_start": local_iso(start),
            "window_end": local_iso(end),
            "votes": voided,
            "reason": reason,
        },
    )
    return void
