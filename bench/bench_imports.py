"""Benchmark of the two bulk imports against SPEC §9 and a bare floor taken in the same run.

Scores: a campaign of 5,000 shortlisted entries, 100 reviewers (50 per panel), 2 panels of 8
criteria and 5 reviews per entry per panel, so the file holds 400,000 scores (generated once,
seeded). For SQLite in a temporary folder and, when REVIEWDESK_BENCH_PG_URL names one, for
PostgreSQL, it times what `reviewdesk import-scores --submit` does (the plan in a read
session, then the write transaction with its audit chain), first into an empty campaign and
then again over the same sheets (every sheet updated, nothing changed), beside two floors:
pandas reading the same CSV, and a bare `executemany` of the same 400,000 rows into a
scratch table of the same database. It also prints how long the write transaction held its
lock (reviewers' saves wait that long) and this process's CPU time, which tells the code's
cost apart from waiting for a core on a loaded machine. Afterwards the audit chain is
checked. `--score-entries N` makes a smaller campaign (80 scores per entry) for a quick run.

Entries: ENTRIES entries with 4 JPEG images each (distinct pictures, 1200x900), imported as
`reviewdesk import-entries` does (every image decoded, stored and thumbnailed), against
Pillow alone decoding and thumbnailing the same files. The default is 1,000 entries / 4,000
images, a fifth of the SPEC's 5,000 / 20,000 (the ratio is what is compared); pass
`--entries 5000` for the full size.

Every figure is one run (the import of 400,000 scores is itself 50,000 sheets); no timed
assertion. Run: `python bench/bench_imports.py [--entries N]`.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from PIL import Image, ImageDraw
from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from scoring.assets import AssetStore
from scoring.importers.entries import apply_entries_import, plan_entries_import
from scoring.importers.scores import apply_scores_import, plan_scores_import
from scoring.permissions import Actor
from scoring.services.accounts import create_account
from scoring.services.audit import check_chain
from scoring.services.campaigns import create_campaign
from scoring.storage.database import Database
from scoring.storage.migrate import upgrade
from scoring.storage.models import Account, Campaign, Category, Domain, Entry, ScoreSheet

N_ENTRIES = 5_000
REVIEWERS_PER_PANEL = 50
CRITERIA_PER_PANEL = 8
REVIEWS_PER_ENTRY = 5
PANELS = ("expert", "media")
MAX_POINTS = (10, 10, 15, 15, 10, 10, 20, 10)
IMAGES_PER_ENTRY = 4
IMAGE_SIZE = (1200, 900)
THUMBNAIL = (480, 320)
CLI = Actor.command_line()


def _campaign(slug: str) -> dict:
    return {
        "slug": slug,
        "name": "导入性能测试",
        "year": 2026,
        "categories": ["数字政府", "数字经济"],
        "domains": ["政务服务", "大数据"],
        "components": [
            {"key": "votes", "kind": "votes", "weight": 40},
            {"key": "expert", "kind": "panel", "weight": 40, "min_reviews": REVIEWS_PER_ENTRY},
            {"key": "media", "kind": "panel", "weight": 20, "min_reviews": REVIEWS_PER_ENTRY},
        ],
        "criteria": [
            {"panel": p, "key": f"c{j}", "name": f"指标{j}", "max_points": MAX_POINTS[j]}
            for p in PANELS
            for j in range(CRITERIA_PER_PANEL)
        ],
    }


def _reviewer(panel: str, number: int) -> str:
    return f"{panel}{number:02d}"


def _code(number: int) -> str:
    return f"QD{number:05d}"


def write_scores_file(path: Path, entries: int, seed: int = 2026) -> int:
    """reviewer, code, criterion, score: 5 distinct reviewers per entry per panel."""
    rng = random.Random(seed)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["reviewer", "code", "criterion", "score"])
        for number in range(entries):
            for panel in PANELS:
                for reviewer in rng.sample(range(REVIEWERS_PER_PANEL), REVIEWS_PER_ENTRY):
                    for j in range(CRITERIA_PER_PANEL):
                        writer.writerow(
                            [
                                _reviewer(panel, reviewer),
                                _code(number),
                                f"c{j}",
                                rng.randint(0, MAX_POINTS[j]),
                            ]
                        )
                        count += 1
    return count


def _setup_scores(database: Database, entries: int) -> None:
    """The campaign, its entries and reviewers (one bcrypt hash reused: setup, not timed)."""

    def work(session):
        campaign = create_campaign(session, CLI, _campaign("bench-scores"))
        category = session.exec(select(Category).where(Category.campaign_id == campaign.id)).first()
        domain = session.exec(select(Domain).where(Domain.campaign_id == campaign.id)).first()
        session.execute(
            insert(Entry),
            [
                {
                    "campaign_id": campaign.id,
                    "code": _code(i),
                    "title": f"案例 {i}",
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
        first, _ = create_account(
            session,
            CLI,
            username=_reviewer("expert", 0),
            display_name="评审 0",
            role="expert",
            password="bench-password-1",
        )
        session.execute(
            insert(Account),
            [
                {
                    "username": _reviewer(panel, r),
                    "display_name": f"评审 {panel} {r}",
                    "email": "",
                    "role": panel,
                    "password_hash": first.password_hash,
                    "active": True,
                    "failed_logins": 0,
                    "must_change_password": False,
                    "created_at": first.created_at,
                }
                for panel in PANELS
                for r in range(REVIEWERS_PER_PANEL)
                if (panel, r) != ("expert", 0)
            ],
        )

    database.write(work)


class _Held:
    """How long the write transaction held its lock: from its BEGIN to its COMMIT.

    The lock is taken as the transaction begins (``BEGIN IMMEDIATE`` on SQLite, ``score_sheet``
    in SHARE ROW EXCLUSIVE mode on PostgreSQL): reviewers' saves wait that long. On SQLite
    the audit chain is sealed inside it; on PostgreSQL after the commit, outside it.
    """

    def __init__(self, database: Database) -> None:
        self.marks: list[tuple[str, float]] = []
        for name in ("begin", "commit"):
            event.listen(database.engine, name, self._mark(name))

    def _mark(self, name: str) -> Callable[..., None]:
        return lambda *_: self.marks.append((name, time.perf_counter()))

    def first(self) -> float:
        """BEGIN to COMMIT of the first transaction since the marks were cleared."""
        begun = next(t for name, t in self.marks if name == "begin")
        return next(t for name, t in self.marks if name == "commit" and t >= begun) - begun


def _import_scores(
    database: Database, path: Path, held: _Held
) -> tuple[float, float, float, float, dict]:
    """(plan, write, lock held, this process's CPU) seconds, and the counts, of one
    `import-scores --submit`. The CPU time tells this code's cost apart from waiting for a
    core on a loaded machine (on SQLite the database works in this process too)."""
    cpu = time.process_time()
    started = time.perf_counter()
    with database.read() as session:
        campaign = session.exec(select(Campaign).where(Campaign.slug == "bench-scores")).one()
        plan = plan_scores_import(session, campaign, path, submit=True)
    planned = time.perf_counter()
    held.marks.clear()
    counts = database.write(lambda session: apply_scores_import(session, CLI, plan))
    written = time.perf_counter()
    used = time.process_time() - cpu
    return planned - started, written - planned, held.first(), used, counts


def _bare_executemany(database: Database, path: Path) -> float:
    """The same rows into a scratch table with one plain executemany: the database's floor."""
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    started = time.perf_counter()
    with database.engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE bench_floor (reviewer VARCHAR(40), code VARCHAR(40), "
                "criterion VARCHAR(100), points FLOAT)"
            )
        )
        connection.execute(
            text("INSERT INTO bench_floor VALUES (:r, :c, :k, :p)"),
            [{"r": r, "c": c, "k": k, "p": float(p)} for r, c, k, p in rows],
        )
    seconds = time.perf_counter() - started
    with database.engine.begin() as connection:
        connection.execute(text("DROP TABLE bench_floor"))
    return seconds


def bench_scores(name: str, url: str, path: Path, rows: int, entries: int) -> None:
    database = Database(url)
    upgrade(database)
    _setup_scores(database, entries)
    started = time.perf_counter()
    pd.read_csv(path, dtype=str)
    pandas_seconds = time.perf_counter() - started
    floor = _bare_executemany(database, path)
    held = _Held(database)
    first_plan, first_write, first_held, first_cpu, counts = _import_scores(database, path, held)
    again_plan, again_write, again_held, again_cpu, _ = _import_scores(database, path, held)
    with database.read() as session:
        sheets = session.exec(select(ScoreSheet.id)).all()
    database.seal_audit()
    with database.read() as session:
        chain = check_chain(session, CLI)
    first = first_plan + first_write
    again = again_plan + again_write
    print(f"\nimport-scores, {name}: {rows:,} scores, {counts['sheets']:,} sheets")
    print(f"  floor: pandas read_csv        {pandas_seconds:7.2f} s")
    print(f"  floor: bare executemany       {floor:7.2f} s")
    print(
        f"  first import   {first:7.2f} s  (plan {first_plan:.2f} s + write {first_write:.2f} s)"
        f"  = {first / floor:.1f}x executemany, {first / pandas_seconds:.1f}x read_csv"
        f"  target <= 20 s: {'met' if first <= 20 else 'MISSED'}"
    )
    print(
        f"  re-import      {again:7.2f} s  (plan {again_plan:.2f} s + write {again_write:.2f} s)"
        f"  = {again / floor:.1f}x executemany"
        f"  target <= 20 s: {'met' if again <= 20 else 'MISSED'}"
    )
    print(f"  lock held by the write transaction: {first_held:.2f} s, re-import {again_held:.2f} s")
    print(f"  CPU of this process: first import {first_cpu:.2f} s, re-import {again_cpu:.2f} s")
    print(
        f"  {len(sheets):,} sheets stored, {counts['submitted']:,} submitted;"
        f" audit chain {'intact' if chain.ok else 'BROKEN'} ({chain.checked:,} events)"
    )
    database.dispose()


# --- entries ---------------------------------------------------------------------------------


def _picture(number: int) -> bytes:
    """A distinct 1200x900 JPEG: a gradient and shapes placed by the number."""
    rng = random.Random(number)
    image = Image.linear_gradient("L").resize(IMAGE_SIZE).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(IMAGE_SIZE[0]), rng.randrange(IMAGE_SIZE[1])
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.rectangle((x, y, x + rng.randrange(50, 400), y + rng.randrange(50, 300)), colour)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _write_entries(folder: Path, entries: int) -> tuple[Path, Path, list[Path]]:
    images = folder / "files"
    images.mkdir()
    files: list[Path] = []
    lines = io.StringIO()
    writer = csv.writer(lines)
    writer.writerow(["code", "title", "applicant", "category", "domain", "images"])
    for i in range(entries):
        names = []
        for k in range(IMAGES_PER_ENTRY):
            name = f"{_code(i)}-{k}.jpg"
            (images / name).write_bytes(_picture(i * IMAGES_PER_ENTRY + k))
            files.append(images / name)
            names.append(name)
        writer.writerow([_code(i), f"案例 {i}", "某单位", "数字政府", "政务服务", ";".join(names)])
    sheet = folder / "entries.csv"
    sheet.write_text(lines.getvalue(), encoding="utf-8")
    return sheet, images, files


def _pillow_alone(files: list[Path]) -> float:
    """Read, decode and thumbnail each file, then encode the thumbnail: the floor."""
    started = time.perf_counter()
    for path in files:
        with Image.open(io.BytesIO(path.read_bytes())) as im:
            im.thumbnail(THUMBNAIL, Image.Resampling.LANCZOS, reducing_gap=2.0)
            im.convert("RGB").save(io.BytesIO(), "JPEG", quality=85, optimize=True)
    return time.perf_counter() - started


def bench_entries(folder: Path, entries: int) -> None:
    database = Database(f"sqlite:///{folder / 'entries.db'}")
    upgrade(database)
    database.write(lambda session: create_campaign(session, CLI, _campaign("bench-entries")))
    sheet, images, files = _write_entries(folder, entries)
    floor = _pillow_alone(files)
    store = AssetStore(folder / "store")
    calls: list[tuple[str, int, int]] = []

    def heard(step: str, done: int, total: int) -> None:  # what the intake page's bar is fed
        calls.append((step, done, total))

    started = time.perf_counter()
    with database.read() as session:
        campaign = session.exec(select(Campaign).where(Campaign.slug == "bench-entries")).one()
        plan = plan_entries_import(
            session, CLI, campaign, sheet, images, store=store, progress=heard
        )
    plan.report.raise_if_invalid(sheet.name)
    written = database.write(
        lambda session: apply_entries_import(session, CLI, plan, progress=heard)
    )
    seconds = time.perf_counter() - started
    scale = N_ENTRIES / entries
    print(f"\nimport-entries, SQLite: {entries:,} entries, {len(files):,} images")
    if scale != 1:
        print(f"  (a 1/{scale:g} sample of the SPEC's 5,000 / 20,000; the ratio is compared)")
    print(f"  floor: Pillow decode + thumbnail  {floor:7.2f} s")
    print(
        f"  import-entries                    {seconds:7.2f} s  = {seconds / floor:.2f}x Pillow"
        f"  target <= 3x: {'met' if seconds <= 3 * floor else 'MISSED'}  ({written:,} entries,"
        f" {len(calls)} progress calls)"
    )
    database.dispose()


def _fresh_postgres(base: str) -> tuple[str, Callable[[], None]]:
    """A new database on the server of ``base`` for this run, and how to drop it after."""
    url = make_url(base)
    name = f"reviewdesk_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000, help="entries for import-entries")
    parser.add_argument(
        "--score-entries",
        type=int,
        default=N_ENTRIES,
        help="entries in the scores file (80 scores each); fewer for a quick run",
    )
    parser.add_argument("--skip-scores", action="store_true")
    parser.add_argument("--skip-entries", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if not args.skip_scores:
            path = folder / "scores.csv"
            rows = write_scores_file(path, args.score_entries)
            sqlite = f"sqlite:///{folder / 'scores.db'}"
            bench_scores("SQLite", sqlite, path, rows, args.score_entries)
            pg = os.environ.get("REVIEWDESK_BENCH_PG_URL")
            if pg:
                url, drop = _fresh_postgres(pg)
                try:
                    bench_scores("PostgreSQL", url, path, rows, args.score_entries)
                finally:
                    drop()
            else:
                print("\nimport-scores, PostgreSQL: skipped (set REVIEWDESK_BENCH_PG_URL)")
        if not args.skip_entries:
            bench_entries(folder, args.entries)


if __name__ == "__main__":
    main()
