"""Benchmark of score-sheet saves against SPEC §9: 50 reviewers saving at once, none lost.

Creates a campaign with 50 expert reviewers, each assigned 20 entries, in a fresh database
(SQLite in a temporary folder, and the PostgreSQL database named by REVIEWDESK_BENCH_PG_URL,
whose schema is dropped and made again), then measures the server side of a save
(`save_own_sheet` in its own write transaction, the call the score sheet makes):

* alone: one reviewer saving, 100 saves one after another;
* at once: 50 threads, one per reviewer, released together; each saves its 20 sheets as a
  draft, then submits them, pausing 0.3-0.9 s between two saves (a reviewer pressing save
  every half second, far faster than anyone scores a sheet). The first round is a burst:
  all 50 press save in the same millisecond, and its slowest save is printed too;
* flat out: the same 50 threads with no pause, a throughput figure (every thread of one
  Python process shares its interpreter, so latency there measures the queue, not locks).

Beside the times it prints the CPU time this process spends per save, alone and at once:
the threads share one interpreter, so that is what queues 49 savers pressing save in the
same instant, and unlike the times it hardly moves with the load of a shared machine.

Prints, for each database, the median, 95th percentile and maximum, the ratio of the median
at once to the median alone, and checks the outcome: every sheet submitted with the last
points its reviewer saved, none twice, no error raised to a caller, and an audit chain that
holds one sealed event per change and verifies. Run: `python bench/bench_saves.py`.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text
from sqlmodel import func, select

from scoring.permissions import Actor
from scoring.services.accounts import create_account
from scoring.services.assignments import assign
from scoring.services.audit import check_chain
from scoring.services.campaigns import create_campaign
from scoring.services.sheets import save_own_sheet, sheet_points
from scoring.storage.database import Database
from scoring.storage.migrate import upgrade
from scoring.storage.models import Account, AuditEvent, Category, Domain, Entry, Score, ScoreSheet

REVIEWERS = 50
PAUSE = (0.3, 0.9)
"""Seconds between two saves of one reviewer under load."""
ENTRIES_PER_REVIEWER = 20
BASELINE_SAVES = 100
ORGANISER = Actor.command_line()
CAMPAIGN = {
    "slug": "bench",
    "name": "性能测试",
    "year": 2026,
    "categories": ["数字政府"],
    "domains": ["政务服务"],
    "components": [{"key": "expert", "kind": "panel", "weight": 100, "min_reviews": 1}],
    "criteria": [
        {"panel": "expert", "key": f"c{i}", "name": f"指标{i}", "max_points": 25} for i in range(4)
    ],
}


def _setup(database: Database) -> tuple[list[Actor], list[int]]:
    def work(session):
        campaign = create_campaign(session, ORGANISER, CAMPAIGN)
        category = session.exec(select(Category)).first()
        domain = session.exec(select(Domain)).first()
        entries = []
        for i in range(ENTRIES_PER_REVIEWER):
            entry = Entry(
                campaign_id=campaign.id,
                code=f"B-{i:03d}",
                title=f"作品{i}",
                applicant="单位",
                category_id=category.id,
                domain_id=domain.id,
                status="shortlisted",
            )
            session.add(entry)
            entries.append(entry)
        session.flush()
        actors = []
        for r in range(REVIEWERS):
            account, _ = create_account(
                session,
                ORGANISER,
                username=f"rev{r:02d}",
                display_name=f"评审{r}",
                role="expert",
                password="bench-password-1",
            )
            for entry in entries:
                assign(session, ORGANISER, entry=entry, reviewer=account)
            actors.append(Actor(account.username, "expert", account.id))
        return actors, [e.id for e in entries]

    return database.write(work)


def _fresh_postgres(url: str) -> Database:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    database = Database(url)
    upgrade(database)
    return database


def _save(database: Database, actor: Actor, entry_id: int, value: int, submit: bool) -> float:
    points = {f"c{i}": float(value % 26) for i in range(4)}
    started = time.perf_counter()
    database.write(
        lambda s: save_own_sheet(
            s,
            actor,
            entry_id=entry_id,
            points=points,
            comment="",
            submit=submit,
            expected_version=None,
        )
    )
    return time.perf_counter() - started


def _figures(seconds: list[float]) -> tuple[float, float, float]:
    """Median, 95th percentile and maximum."""
    ordered = sorted(seconds)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))], ordered[-1]


def _line(name: str, seconds: list[float]) -> float:
    median, p95, most = _figures(seconds)
    print(
        f"  {name:<30} n={len(seconds):>5}  median {median * 1000:7.1f} ms"
        f"  p95 {p95 * 1000:7.1f} ms  max {most * 1000:7.1f} ms"
    )
    return median


def _load(
    database: Database, actors: list[Actor], entry_ids: list[int], pause: tuple[float, float]
) -> tuple[list[float], list[float], list[BaseException], float]:
    """Every reviewer but the first saves each sheet as a draft, then submits it."""
    timings: list[float] = []
    burst: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(actors) - 1)

    def reviewer(index: int) -> None:
        rng = random.Random(index)
        own: list[float] = []
        ready.wait()
        try:
            for submit in (False, True):
                for entry_id in entry_ids:
                    own.append(_save(database, actors[index], entry_id, index + submit, submit))
                    if pause[1]:
                        time.sleep(rng.uniform(*pause))
        except BaseException as error:  # every failure is counted, none hidden
            with lock:
                errors.append(error)
        with lock:
            timings.extend(own)
            burst.extend(own[:1])

    threads = [threading.Thread(target=reviewer, args=(i,)) for i in range(1, len(actors))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, burst, errors, time.perf_counter() - started


def _outcome(database: Database, saves: int) -> tuple[int, int, int, str]:
    """Sheets not holding their last save, sheets or scores stored twice, audit verdict."""
    database.seal_audit()
    with database.read() as session:
        wrong = 0
        for sheet in session.exec(select(ScoreSheet)):
            index = int(session.get(Account, sheet.reviewer_id).username[3:])
            if index == 0:
                continue
            expected = float((index + 1) % 26)
            points = sheet_points(session, sheet)
            wrong += sheet.status != "submitted" or len(points) != 4
            wrong += any(v != expected for v in points.values())
        sheets = session.exec(select(func.count()).select_from(ScoreSheet)).one()
        scores = session.exec(select(func.count()).select_from(Score)).one()
        twice = (sheets - REVIEWERS * ENTRIES_PER_REVIEWER) + (scores - 4 * sheets)
        events = session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "sheet.save")
        ).one()
        report = check_chain(session, ORGANISER)
    verdict = (
        f"{'verified' if report.ok and not report.unsealed else 'BROKEN'}: "
        f"{report.checked} events chained, {report.unsealed} unsealed, "
        f"{events} sheet saves audited of {saves} expected"
    )
    return wrong, twice, len(report.problems) + report.unsealed, verdict


def _warm_pool(database: Database) -> None:
    """Open a connection per reviewer, as a server that has been serving them already has."""
    if database.is_sqlite:
        return  # opening a file is cheap, and its writers take turns on one connection
    connections = [database.engine.connect() for _ in range(REVIEWERS)]
    for connection in connections:
        connection.close()


def _bench(name: str, database: Database) -> dict[str, float]:
    actors, entry_ids = _setup(database)
    _warm_pool(database)
    cpu = time.process_time()
    alone = [
        _save(database, actors[0], entry_ids[i % len(entry_ids)], i, False)
        for i in range(BASELINE_SAVES)
    ]
    cpu_alone = (time.process_time() - cpu) / len(alone)
    cpu = time.process_time()
    timings, burst, errors, wall = _load(database, actors, entry_ids, PAUSE)
    cpu_at_once = (time.process_time() - cpu) / len(timings)
    # Every save above changed its sheet: one audit event each.
    expected_events = BASELINE_SAVES + (REVIEWERS - 1) * 2 * len(entry_ids)
    wrong, twice, broken, verdict = _outcome(database, expected_events)
    flat, _, flat_errors, flat_wall = _load(database, actors, entry_ids, (0.0, 0.0))
    print(f"{name}: score-sheet saves, server side (save_own_sheet + commit)")
    lone = _line("one reviewer alone", alone)
    at_once = _line(f"{REVIEWERS - 1} reviewers at once", timings)
    _line("  their first save (a burst)", burst)
    print(f"  {'ratio at once / alone (median)':<30} {at_once / lone:5.2f}x   (target <= 2x)")
    print(
        f"  CPU of this process per save: alone {cpu_alone * 1000:.1f} ms, "
        f"at once {cpu_at_once * 1000:.1f} ms   (one interpreter serves every thread)"
    )
    print(f"  lost or wrong sheets: {wrong}   stored twice: {twice}   errors: {len(errors)}")
    for error in errors[:3]:
        print(f"    {type(error).__name__}: {str(error).splitlines()[0]}")
    print(f"  audit: {verdict}")
    _line("flat out, no pause", flat)
    print(
        f"  throughput flat out: {len(flat) / flat_wall:,.0f} saves/s, "
        f"errors: {len(flat_errors)}   (at once: {len(timings) / wall:,.0f} saves/s)"
    )
    p95 = _figures(timings)[1]
    return {"ratio": at_once / lone, "p95": p95, "problems": wrong + twice + broken}


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        sqlite = Database(f"sqlite:///{Path(scratch) / 'bench.db'}")
        upgrade(sqlite)
        results["SQLite"] = _bench("SQLite", sqlite)
        sqlite.dispose()
    url = os.environ.get("REVIEWDESK_BENCH_PG_URL")
    if url:
        postgres = _fresh_postgres(url)
        results["PostgreSQL"] = _bench("PostgreSQL", postgres)
        postgres.dispose()
    else:
        print("PostgreSQL: skipped (set REVIEWDESK_BENCH_PG_URL to a database it may wipe)")
    for name, figures in results.items():
        met = figures["ratio"] <= 2 and figures["p95"] <= 0.3 and not figures["problems"]
        print(
            f"{name}: median {figures['ratio']:.2f}x alone, p95 {figures['p95'] * 1000:.0f} ms, "
            f"{figures['problems']} problems -> {'target met' if met else 'TARGET MISSED'}"
        )


if __name__ == "__main__":
    main()
