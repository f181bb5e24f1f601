"""Benchmark of the public vote (SPEC §8) against bare floors taken in the same run.

For SQLite in a temporary folder and, when REVIEWDESK_BENCH_PG_URL names a server, for a
PostgreSQL database made for this run on it (and dropped after), it measures:

* **voters at once**: a campaign with its hall open (``public_gallery`` on, the voting window
  around now) and ``--voters`` voters (200 by default), one thread each, each its own IP,
  released together; each casts one vote as the hall's vote button does
  (``Database.write(cast_vote(..., Actor.public_visitor(), ...))``). Printed: the median,
  95th percentile and maximum per vote and the votes per second, beside a floor taken in
  the same run by the same threads: one bare ``Database.write`` inserting one row into a
  scratch table, and the ratio of the two (one vote and one insert first, outside the
  figures, as a running server has made them already). Afterwards it checks what voters
  care about: the tallies add up to the stored votes (entry by entry), no vote lost, none
  stored twice; then the same voters vote again the same day and every one of them must be
  refused (the database's one-vote-per-IP-per-day key), nothing counted.
* **the vote watch**: ``--votes`` votes (100,000 by default) put in with one bulk insert, of
  the stored shape (keyed-hash client and network keys, the Beijing day), spread over seven
  days, 500 networks and 200 entries, with one planted burst (60 votes of one network for
  one entry in five minutes); then the organiser's vote page's call, ``watch_votes``,
  uncached (``scoring.services.cache.clear()`` before each run), median of 5, and once more
  cached, against a floor: pandas reading the same votes from the same table and counting
  them per entry and hour, median of 5.

Every thread of one Python process shares one interpreter: at once, a latency measures the
queue as much as the database (SQLite's writers of one process take turns by design). No
timed assertion. Run: `python bench/bench_votes.py [--voters N] [--votes V]`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# A fixed key, so that no key file is written into the data folder; set before any read.
os.environ.setdefault("REVIEWDESK_VOTE_KEY", "bench-vote-key")

import pandas as pd
from sqlalchemy import create_engine, func, insert, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from scoring.beijing_time import BEIJING
from scoring.client_ip import client_key
from scoring.permissions import Actor
from scoring.services import cache
from scoring.services.campaigns import create_campaign
from scoring.services.vote_watch import watch_votes
from scoring.services.voting import AlreadyVotedToday, cast_vote, vote_day
from scoring.storage.database import Database
from scoring.storage.migrate import upgrade
from scoring.storage.models import Campaign, Category, Domain, Entry, PublicVote, VoteTally, utcnow

CLI = Actor.command_line()
PUBLIC = Actor.public_visitor()
VOTE_SLUG = "bench-vote"
WATCH_SLUG = "bench-watch"
WARM_SLUG = "bench-warm"
VOTE_ENTRIES = 20
"""Entries the voters at once choose among: ten voters per tally row, the rows they race for."""
WATCH_ENTRIES = 200
WATCH_DAYS = 7
WATCH_NETWORKS = 500
BURST = 60
"""Votes of the planted burst: one network, one entry, 5 s apart (the rule needs 20 in 10 min)."""
RUNS = 5


def _campaign(slug: str) -> dict:
    return {
        "slug": slug,
        "name": "投票性能测试",
        "year": 2026,
        "categories": ["数字政府"],
        "domains": ["政务服务"],
        "components": [
            {"key": "votes", "kind": "votes", "weight": 40},
            {"key": "expert", "kind": "panel", "weight": 60, "min_reviews": 1},
        ],
        "criteria": [{"panel": "expert", "key": "c0", "name": "指标", "max_points": 100}],
    }


def _code(number: int) -> str:
    return f"V{number:04d}"


def _open_hall(database: Database, slug: str, entries: int, opened_days_ago: int) -> int:
    """A campaign with ``entries`` shortlisted entries and its hall open; its id."""

    def work(session: Session) -> int:
        campaign = create_campaign(session, CLI, _campaign(slug))
        category = session.exec(select(Category).where(Category.campaign_id == campaign.id)).one()
        domain = session.exec(select(Domain).where(Domain.campaign_id == campaign.id)).one()
        session.execute(
            insert(Entry),
            [
                {
                    "campaign_id": campaign.id,
                    "code": _code(i),
                    "title": f"作品 {i}",
                    "kind": "case",
                    "applicant": "某单位",
                    "recommender": "",
                    "category_id": category.id,
                    "domain_id": domain.id,
                    "summary": "",
                    "status": "shortlisted",
                    "status_reason": "",
                    "created_at": campaign.created_at,
                }
                for i in range(entries)
            ],
        )
        now = utcnow()
        campaign.public_gallery = True
        campaign.vote_opens_at = now - timedelta(days=opened_days_ago)
        campaign.vote_closes_at = now + timedelta(days=10)
        session.add(campaign)
        session.flush()
        return campaign.id

    return database.write(work)


def _ip(number: int) -> str:
    """Voter ``number``'s address: distinct per voter, 200 of them to a /24."""
    return f"10.{number // 50_000 % 256}.{number // 200 % 250}.{number % 200 + 1}"


def _figures(seconds: list[float]) -> tuple[float, float, float]:
    """Median, 95th percentile and maximum."""
    ordered = sorted(seconds)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))], ordered[-1]


def _line(name: str, seconds: list[float]) -> tuple[float, float]:
    median, p95, most = _figures(seconds)
    print(
        f"  {name:<34} n={len(seconds):>5}  median {median * 1000:7.1f} ms"
        f"  p95 {p95 * 1000:7.1f} ms  max {most * 1000:7.1f} ms"
    )
    return median, p95


def _at_once(
    count: int, work: Callable[[int], object]
) -> tuple[list[float], list[BaseException | None], float]:
    """``work(i)`` in ``count`` threads released together: each one's seconds, each one's
    error (None when it went through), and the wall time from the first start to the last end."""
    seconds = [0.0] * count
    errors: list[BaseException | None] = [None] * count
    spans: list[tuple[float, float]] = [(0.0, 0.0)] * count
    ready = threading.Barrier(count)

    def one(index: int) -> None:
        ready.wait()
        started = time.perf_counter()
        try:
            work(index)
        except BaseException as error:  # every failure is counted, none hidden
            errors[index] = error
        ended = time.perf_counter()
        seconds[index], spans[index] = ended - started, (started, ended)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seconds, errors, max(e for _, e in spans) - min(s for s, _ in spans)


def _warm_pool(database: Database, count: int) -> None:
    """Open the connections a server serving these voters would have open already."""
    if database.is_sqlite:
        return  # opening a file is cheap, and its writers take turns on one connection
    connections = [database.engine.connect() for _ in range(min(count, 60))]
    for connection in connections:
        connection.close()


def _stored(database: Database, campaign_id: int) -> tuple[Counter, dict[int, int], dict]:
    """The stored votes' client keys (with how often each occurs), counted votes per entry,
    and each entry's tally (votes, counted)."""
    with database.read() as session:
        keys = Counter(
            session.exec(
                select(PublicVote.client_key).where(PublicVote.campaign_id == campaign_id)
            ).all()
        )
        per_entry = dict(
            session.exec(
                select(PublicVote.entry_id, func.count())
                .where(PublicVote.campaign_id == campaign_id, col(PublicVote.counted))
                .group_by(PublicVote.entry_id)
            ).all()
        )
        tallies = {
            entry_id: (votes, counted)
            for entry_id, votes, counted in session.exec(
                select(VoteTally.entry_id, VoteTally.votes, VoteTally.counted)
                .join(Entry, col(Entry.id) == VoteTally.entry_id)
                .where(Entry.campaign_id == campaign_id)
            ).all()
        }
    return keys, per_entry, tallies


def bench_cast(name: str, database: Database, voters: int) -> dict[str, float]:
    campaign_id = _open_hall(database, VOTE_SLUG, VOTE_ENTRIES, opened_days_ago=1)
    with database.engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE bench_floor (client_key VARCHAR(64) NOT NULL, at VARCHAR(40))")
        )
    _warm_pool(database, voters)
    ips = [_ip(i) for i in range(voters)]

    def bare(index: int) -> None:
        row = {"k": f"floor-{index}", "t": utcnow().isoformat()}
        database.write(lambda s: s.execute(text("INSERT INTO bench_floor VALUES (:k, :t)"), row))

    def vote(index: int) -> None:
        code = _code(index % VOTE_ENTRIES)
        database.write(lambda s: cast_vote(s, PUBLIC, VOTE_SLUG, code, ips[index]))

    # One vote and one insert before the clock runs, outside the campaign checked: the first
    # call of a kind compiles its statements and reads the vote key, a running server's has.
    _open_hall(database, WARM_SLUG, 1, opened_days_ago=1)
    database.write(lambda s: cast_vote(s, PUBLIC, WARM_SLUG, _code(0), "192.0.2.1"))
    bare(voters)
    day = vote_day(utcnow())
    floor, floor_errors, floor_wall = _at_once(voters, bare)
    first, first_errors, first_wall = _at_once(voters, vote)
    keys, per_entry, tallies = _stored(database, campaign_id)
    again, again_errors, _ = _at_once(voters, vote)
    keys_after, _, tallies_after = _stored(database, campaign_id)
    same_day = vote_day(utcnow()) == day

    expected = {client_key(ip) for ip in ips}
    rows = sum(keys.values())
    tally_votes = sum(votes for votes, _ in tallies.values())
    differ = sum(
        tallies.get(entry_id, (0, 0)) != (n, n) for entry_id, n in per_entry.items()
    ) + sum(entry_id not in per_entry for entry_id in tallies)
    lost = len(expected - set(keys))
    twice = rows - len(keys)
    failed = [e for e in first_errors if e is not None]
    floor_failed = sum(e is not None for e in floor_errors)
    refused = sum(isinstance(e, AlreadyVotedToday) for e in again_errors)
    other = [e for e in again_errors if e is not None and not isinstance(e, AlreadyVotedToday)]
    counted_again = sum(keys_after.values()) - rows

    print(f"\n{name}: public vote, {voters} voters at once, one IP each (cast_vote + commit)")
    floor_median, _ = _line("floor: bare Database.write insert", floor)
    median, p95 = _line("vote", first)
    _line("the same voters again (refused)", again)
    print(
        f"  {'ratio vote / floor':<34} median {median / floor_median:5.2f}x"
        f"   p95 {p95 / _figures(floor)[1]:5.2f}x"
    )
    print(
        f"  throughput: {voters / first_wall:,.0f} votes/s"
        f"   (floor {voters / floor_wall:,.0f} inserts/s, {floor_failed} errors)"
    )
    print(
        f"  tally {tally_votes} = {rows} vote rows: {'yes' if tally_votes == rows else 'NO'}"
        f" ({differ} entries differ)   lost {lost}   twice {twice}   errors {len(failed)}"
    )
    for error in failed[:3]:
        print(f"    {type(error).__name__}: {str(error).splitlines()[0]}")
    print(
        f"  again the same day: {refused} of {voters} refused, {counted_again} counted,"
        f" tallies {'unchanged' if tallies_after == tallies else 'CHANGED'},"
        f" {len(other)} other errors" + ("" if same_day else "   (NOTE: the Beijing day turned)")
    )
    for error in other[:3]:
        print(f"    {type(error).__name__}: {str(error).splitlines()[0]}")
    problems = (
        lost + twice + len(failed) + differ + (tally_votes != rows) + len(other) + counted_again
    )
    if same_day:
        problems += voters - refused
    return {"ratio": median / floor_median, "p95": p95, "problems": problems}


# --- the vote watch --------------------------------------------------------------------------


def _hash(text_: str) -> str:
    return hashlib.sha256(text_.encode()).hexdigest()


def _fill_votes(database: Database, campaign_id: int, count: int, seed: int = 2026) -> str:
    """``count`` votes over the last WATCH_DAYS days, of the stored shape, one planted burst;
    tallies to match. The burst's entry code."""
    rng = random.Random(seed)
    with database.read() as session:
        entry_ids = session.exec(
            select(Entry.id).where(Entry.campaign_id == campaign_id).order_by(Entry.id)
        ).all()
    weights = [1 / (k + 1) ** 0.5 for k in range(len(entry_ids))]  # a few popular entries
    networks = [_hash(f"network-{n}") for n in range(WATCH_NETWORKS)]
    end = utcnow().replace(microsecond=0) - timedelta(hours=1)
    span = WATCH_DAYS * 86_400
    background = max(count - BURST, 0)
    chosen = rng.choices(entry_ids, weights, k=background)
    burst_entry = entry_ids[len(entry_ids) // 2]
    burst_start = end - timedelta(days=2)
    rows = []
    for i in range(count):
        if i < background:
            entry_id, network = chosen[i], rng.choice(networks)
            at = end - timedelta(seconds=rng.randrange(span))
        else:
            entry_id, network = burst_entry, _hash("stuffing-network")
            at = burst_start + timedelta(seconds=5 * (i - background))
        rows.append(
            {
                "campaign_id": campaign_id,
                "entry_id": entry_id,
                "client_key": _hash(f"client-{i}"),
                "network_key": network,
                "day": at.astimezone(BEIJING).date().isoformat(),
                "cast_at": at,
                "counted": True,
            }
        )
    per_entry = Counter(row["entry_id"] for row in rows)

    def work(session: Session) -> None:
        for start in range(0, len(rows), 20_000):
            session.execute(insert(PublicVote), rows[start : start + 20_000])
        session.execute(
            insert(VoteTally),
            [
                {"entry_id": e, "votes": n, "counted": n, "imported": None, "updated_at": end}
                for e, n in per_entry.items()
            ],
        )

    database.write(work)
    return _code(entry_ids.index(burst_entry))


def _floor_groupby(database: Database, campaign_id: int) -> float:
    """Read the campaign's votes from the same table and count them per entry and hour."""
    started = time.perf_counter()
    with database.read() as session:
        frame = pd.read_sql_query(
            text("SELECT entry_id, cast_at FROM public_vote WHERE campaign_id = :c"),
            session.connection(),
            params={"c": campaign_id},
        )
    hour = pd.to_datetime(frame["cast_at"], utc=True, format="ISO8601").dt.floor("h")
    frame.groupby([frame["entry_id"], hour]).size()
    return time.perf_counter() - started


def _watch(database: Database, campaign_id: int, uncached: bool):  # type: ignore[no-untyped-def]
    if uncached:
        cache.clear()
    with database.read() as session:
        campaign = session.get(Campaign, campaign_id)
        started = time.perf_counter()
        watch = watch_votes(session, CLI, campaign)
        return time.perf_counter() - started, watch


def bench_watch(name: str, database: Database, count: int) -> dict[str, float]:
    campaign_id = _open_hall(database, WATCH_SLUG, WATCH_ENTRIES, opened_days_ago=WATCH_DAYS + 1)
    started = time.perf_counter()
    burst_code = _fill_votes(database, campaign_id, count)
    filled = time.perf_counter() - started
    floor = [_floor_groupby(database, campaign_id) for _ in range(RUNS)]
    runs = [_watch(database, campaign_id, uncached=True) for _ in range(RUNS)]
    cached = [_watch(database, campaign_id, uncached=False)[0] for _ in range(RUNS)]
    uncached = [seconds for seconds, _ in runs]
    watch = runs[-1][1]
    found = [w for w in watch.warnings if w.entry_code == burst_code and w.rule == "network"]
    print(
        f"\n{name}: vote watch over {count:,} votes ({WATCH_DAYS} days, {WATCH_NETWORKS} networks,"
        f" {WATCH_ENTRIES} entries, one burst of {BURST}; put in in {filled:.1f} s)"
    )
    floor_median = statistics.median(floor)
    median = statistics.median(uncached)
    for label, seconds in (
        ("floor: pandas read + groupby", floor),
        ("watch_votes, uncached", uncached),
        ("watch_votes, cached rerun", cached),
    ):
        print(
            f"  {label:<34} median of {RUNS} {statistics.median(seconds) * 1000:8.1f} ms"
            f"   (min {min(seconds) * 1000:.1f}, max {max(seconds) * 1000:.1f})"
        )
    print(f"  {'ratio uncached / floor':<34} {median / floor_median:5.2f}x")
    rules = Counter(w.rule for w in watch.warnings)
    print(
        f"  {watch.total:,} votes, {watch.counted:,} counted, {len(watch.hourly):,} entry-hours;"
        f" warnings: {rules['network']} network, {rules['baseline']} baseline;"
        f" the planted burst {'found' if found else 'NOT FOUND'}"
        + (f" ({found[0].votes} votes)" if found else "")
    )
    problems = (watch.total != count) + (not found)
    return {"ratio": median / floor_median, "watch": median, "problems": problems}


def _fresh_postgres(base: str) -> tuple[str, Callable[[], None]]:
    """A new database on the server of ``base`` for this run, and how to drop it after."""
    url = make_url(base)
    name = f"reviewdesk_bench_votes_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def _bench(name: str, url: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    database = Database(url)
    upgrade(database)
    results = {}
    try:
        if not args.skip_cast:
            results["vote"] = bench_cast(name, database, args.voters)
        if not args.skip_watch:
            results["watch"] = bench_watch(name, database, args.votes)
    finally:
        database.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=200, help="voters casting at once")
    parser.add_argument("--votes", type=int, default=100_000, help="votes the vote watch reads")
    parser.add_argument("--skip-cast", action="store_true")
    parser.add_argument("--skip-watch", action="store_true")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = _bench("SQLite", f"sqlite:///{Path(tmp) / 'votes.db'}", args)
    pg = os.environ.get("REVIEWDESK_BENCH_PG_URL")
    if pg:
        url, drop = _fresh_postgres(pg)
        try:
            results["PostgreSQL"] = _bench("PostgreSQL", url, args)
        finally:
            drop()
    else:
        print("\nPostgreSQL: skipped (set REVIEWDESK_BENCH_PG_URL)")
    print()
    for name, parts in results.items():
        figures = []
        if "vote" in parts:
            vote = parts["vote"]
            figures.append(
                f"vote {vote['ratio']:.2f}x floor, p95 {vote['p95'] * 1000:.0f} ms,"
                f" {vote['problems']:.0f} problems"
            )
        if "watch" in parts:
            watch = parts["watch"]
            figures.append(
                f"watch {watch['watch'] * 1000:.0f} ms = {watch['ratio']:.2f}x groupby,"
                f" {watch['problems']:.0f} problems"
            )
        print(f"{name}: " + "; ".join(figures))


if __name__ == "__main__":
    main()
