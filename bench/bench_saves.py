"""Benchmark of score-sheet saves against SPEC §9: 50 reviewers saving at once, none lost.

Creates a campaign with 50 expert reviewers, each assigned 20 entries, in a fresh database
(SQLite in a temporary folder, or the PostgreSQL database named by
REVIEWDESK_BENCH_PG_URL), then measures the server side of a save (`save_own_sheet` in its
own write transaction, the call the score sheet makes):

* baseline: one reviewer saving alone, 100 saves;
* load: 50 threads, one per reviewer, each saving its 20 sheets as fast as it can.

Prints the median and 95th percentile of each, their ratio, and checks that every sheet
holds the last value its reviewer saved (no lost update). The browser round trip adds a
Streamlit rerun on top; this measures the part that contends. Run:
`python bench/bench_saves.py`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import select

from scoring.permissions import Actor
from scoring.services.accounts import create_account
from scoring.services.assignments import assign
from scoring.services.campaigns import create_campaign
from scoring.services.sheets import save_own_sheet, sheet_points
from scoring.storage.database import Database
from scoring.storage.migrate import upgrade
from scoring.storage.models import Account, Category, Domain, Entry, ScoreSheet

REVIEWERS = 50
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


def _database(folder: Path) -> Database:
    url = os.environ.get("REVIEWDESK_BENCH_PG_URL") or f"sqlite:///{folder / 'bench.db'}"
    database = Database(url)
    upgrade(database)
    return database


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


def _save(database: Database, actor: Actor, entry_id: int, value: int) -> float:
    points = {f"c{i}": float(value % 26) for i in range(4)}
    started = time.perf_counter()
    database.write(
        lambda s: save_own_sheet(
            s,
            actor,
            entry_id=entry_id,
            points=points,
            comment="",
            submit=True,
            expected_version=None,
        )
    )
    return time.perf_counter() - started


def _summary(name: str, seconds: list[float]) -> tuple[float, float]:
    """Print and return the median and 95th percentile."""
    ordered = sorted(seconds)
    median = statistics.median(ordered)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    print(
        f"{name:<34} n={len(ordered):>5}  median {median * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms"
    )
    return median, p95


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        database = _database(Path(scratch))
        actors, entry_ids = _setup(database)
        alone = [
            _save(database, actors[0], entry_ids[i % len(entry_ids)], i)
            for i in range(BASELINE_SAVES)
        ]
        timings: list[float] = []
        lock = threading.Lock()

        def reviewer(index: int) -> None:
            own = [_save(database, actors[index], entry_id, index + 1) for entry_id in entry_ids]
            with lock:
                timings.extend(own)

        threads = [threading.Thread(target=reviewer, args=(i,)) for i in range(1, REVIEWERS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started

        with database.read() as session:
            lost = 0
            for sheet in session.exec(select(ScoreSheet)):
                account = session.get(Account, sheet.reviewer_id)
                index = int(account.username[3:])
                if index == 0:
                    continue
                expected = float((index + 1) % 26)
                lost += any(v != expected for v in sheet_points(session, sheet).values())
        backend = "PostgreSQL" if os.environ.get("REVIEWDESK_BENCH_PG_URL") else "SQLite"
        print(f"score-sheet saves on {backend}, server side (save_own_sheet + commit)")
        base_median, _ = _summary("one reviewer alone", alone)
        load_median, _ = _summary(f"{REVIEWERS - 1} reviewers at once", timings)
        print(f"{'ratio (median under load / alone)':<34} {load_median / base_median:5.1f}x")
        print(f"throughput under load: {len(timings) / wall:,.0f} saves/s over {wall:.1f} s")
        print(
            f"lost updates: {lost} of {len(timings) // ENTRIES_PER_REVIEWER * ENTRIES_PER_REVIEWER}"
        )


if __name__ == "__main__":
    main()
