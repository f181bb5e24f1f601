"""An entries import must never make reviewers wait: their saves stay fast while it runs."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PIL import Image, ImageDraw
from sqlmodel import func, select

from scoring.services.sheets import save_own_sheet
from scoring.storage.models import Entry, EntryAsset
from tests.factories import actor_of, assigned, make_account, make_campaign, make_entry
from tests.importers.import_helpers import run_import, write_csv

IMAGES = 200
REVIEWERS = 4
WAITED_SHARE = 1 / 3
"""A save that waited for the import's planning (checks, hashes, thumbnails) would take about
as long as the import itself; an unblocked save takes milliseconds. The bound is a share of
the import's own duration measured in the same run, so a loaded machine slows both alike."""


def _photos(folder: Path) -> list[str]:
    """Distinct camera-sized JPEGs, so each one is checked, hashed and thumbnailed for real."""
    folder.mkdir()
    names = []
    for n in range(IMAGES):
        picture = Image.new("RGB", (2000, 1500), (n % 256, 90, 160))
        ImageDraw.Draw(picture).rectangle((n * 10, 100, n * 10 + 300, 900), fill="white")
        name = f"photo-{n:03}.jpg"
        picture.save(folder / name, quality=85)
        names.append(name)
    return names


def test_reviewers_keep_saving_while_200_images_import(sqlite_database, store, tmp_path):
    database = sqlite_database

    def setup(session):
        campaign = make_campaign(session)
        entry = make_entry(session, campaign, "A-1")
        reviewers = [make_account(session, f"expert{n}", "expert") for n in range(REVIEWERS)]
        for reviewer in reviewers:
            assigned(session, entry, reviewer)
        return entry.id, [actor_of(r) for r in reviewers]

    entry_id, actors = database.write(setup)
    names = _photos(tmp_path / "assets")
    rows = [
        [
            f"N-{n:03}",
            f"作品{n}",
            "某单位",
            "数字政府",
            "政务服务",
            ";".join(names[n * 4 : n * 4 + 4]),
        ]
        for n in range(IMAGES // 4)
    ]
    sheet = write_csv(
        tmp_path / "entries.csv",
        ["code", "title", "applicant", "category", "domain", "images"],
        rows,
    )

    def saves_during(work):
        """Every reviewer saves in a loop while ``work`` runs; each save's duration."""
        finished = threading.Event()
        timings: list[float] = []
        failures: list[BaseException] = []

        def review(actor, offset: int) -> None:
            points = offset
            while not finished.is_set():
                points = (points + 1) % 60
                started = time.perf_counter()
                try:
                    database.write(
                        lambda s, p=points: save_own_sheet(
                            s,
                            actor,
                            entry_id=entry_id,
                            points={"innovation": p},
                            comment="",
                            submit=False,
                            expected_version=None,
                        )
                    )
                except BaseException as error:  # reported by the assertion below
                    failures.append(error)
                    return
                timings.append(time.perf_counter() - started)
                time.sleep(0.02)

        threads = [threading.Thread(target=review, args=(a, n)) for n, a in enumerate(actors)]
        for thread in threads:
            thread.start()
        try:
            result = work()
        finally:
            finished.set()
            for thread in threads:
                thread.join()
        assert failures == []
        return result, timings

    started = time.perf_counter()
    imported, timings = saves_during(
        lambda: run_import(database, "entries", sheet, store=store, assets=tmp_path / "assets")
    )
    import_seconds = time.perf_counter() - started

    assert imported == IMAGES // 4
    with database.read() as session:
        assert session.exec(select(func.count()).select_from(EntryAsset)).one() == IMAGES
        assert session.exec(select(func.count()).select_from(Entry)).one() == IMAGES // 4 + 1
    # Reviewers kept saving all through the import, and none waited for its planning.
    assert len(timings) >= REVIEWERS * 10
    print(f"import {import_seconds:.1f} s; {len(timings)} saves, slowest {max(timings):.3f} s")
    assert max(timings) < import_seconds * WAITED_SHARE
