"""The entries import's progress callback, and the one-decode image check it relies on.

The intake page draws its progress bar from these calls, so they must rise to the total and
reach it, on both steps, whatever became of each file; and listening must not change what is
imported. ``AssetStore.put_image`` checks an image and makes its thumbnail from one decode,
so it must refuse exactly what ``validate_image`` refuses.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import func, select

from scoring.assets import AssetStore, validate_image
from scoring.errors import AssetError
from scoring.importers.entries import (
    FILES_EVERY,
    WRITE_EVERY,
    apply_entries_import,
    plan_entries_import,
)
from scoring.storage.models import Campaign, Entry, EntryAsset
from tests.factories import make_campaign
from tests.importers.import_helpers import CLI, write_csv

HEADER = ["code", "title", "applicant", "category", "domain", "images", "materials"]
ENTRIES = WRITE_EVERY + 7  # past one write step, not on a boundary
FILES = 23  # entries with files, two images each: 46 files, not a multiple of FILES_EVERY


def jpeg(number: int, size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (number * 37 % 256, 90, 200 - number % 200)).save(out, "JPEG")
    return out.getvalue()


def write_entries(folder: Path, *, bad_file: bool = False) -> tuple[Path, Path]:
    """ENTRIES rows; the first FILES have two images; optionally one of them is not one."""
    files = folder / "files"
    files.mkdir()
    rows = []
    for i in range(ENTRIES):
        names = ""
        if i < FILES:
            names = f"e{i}a.jpg;e{i}b.jpg"
            (files / f"e{i}a.jpg").write_bytes(jpeg(2 * i))
            (files / f"e{i}b.jpg").write_bytes(jpeg(2 * i + 1))
        rows.append([f"P-{i:04d}", f"作品 {i}", "某单位", "数字政府", "政务服务", names, ""])
    if bad_file:
        (files / "e3b.jpg").write_text("not a picture\n", encoding="utf-8")
    return write_csv(folder / "entries.csv", HEADER, rows), files


def _plan(database, store: AssetStore, sheet: Path, files: Path, calls: list | None):
    listen = None if calls is None else lambda *call: calls.append(call)
    with database.read() as session:
        campaign = session.exec(select(Campaign)).one()
        return plan_entries_import(
            session, CLI, campaign, sheet, files, store=store, progress=listen
        )


def assert_rises_to(calls: list[tuple[str, int, int]], step: str, total: int) -> None:
    """One step's calls: the same total, done never falling, starting at 0, ending at total."""
    mine = [c for c in calls if c[0] == step]
    assert mine, f"no {step} calls"
    assert {c[2] for c in mine} == {total}
    done = [c[1] for c in mine]
    assert done == sorted(done) and done[0] == 0 and done[-1] == total
    assert all(0 <= d <= total for d in done)


def test_the_callback_rises_to_every_file_and_entry_and_changes_nothing(database, tmp_path):
    database.write(make_campaign)
    sheet, files = write_entries(tmp_path)
    store = AssetStore(tmp_path / "store")
    quiet = _plan(database, store, sheet, files, None)
    calls: list[tuple[str, int, int]] = []
    heard = _plan(database, store, sheet, files, calls)

    assert heard.report.ok and heard.entries == quiet.entries
    assert heard.file_count == 2 * FILES
    assert_rises_to(calls, "files", 2 * FILES)
    assert len(calls) <= 2 + 2 * FILES // FILES_EVERY  # a bar is not redrawn per file
    assert {c[0] for c in calls} == {"files"}  # planning writes nothing

    calls.clear()
    written = database.write(
        lambda session: apply_entries_import(
            session, CLI, heard, progress=lambda *c: calls.append(c)
        )
    )
    assert written == ENTRIES
    assert_rises_to(calls, "write", ENTRIES)
    assert (calls[-1][1], calls[-1][2]) == (ENTRIES, ENTRIES)
    with database.read() as session:
        assert session.exec(select(func.count()).select_from(Entry)).one() == ENTRIES
        assets = session.exec(select(EntryAsset)).all()
    assert len(assets) == 2 * FILES
    # Every image's gallery thumbnail was made while planning, from the same decode.
    for asset in assets:
        thumb = store.root / "thumbs" / asset.sha256[:2] / f"{asset.sha256}-480x320.jpg"
        assert thumb.is_file() and store.thumbnail(asset.sha256) == thumb


def test_a_refused_file_is_counted_too(sqlite_database, tmp_path):
    sqlite_database.write(make_campaign)
    sheet, files = write_entries(tmp_path, bad_file=True)
    calls: list[tuple[str, int, int]] = []
    plan = _plan(sqlite_database, AssetStore(tmp_path / "store"), sheet, files, calls)
    assert [p.key for p in plan.report.problems] == ["asset.not_an_image_text"]
    assert_rises_to(calls, "files", 2 * FILES)


# --- one decode for the check and the thumbnail ----------------------------------------------


def _png_with_bad_crc() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "PNG")
    data = bytearray(out.getvalue())
    data[data.index(b"IDAT") + 6] ^= 0xFF
    return bytes(data)


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


BROKEN = {
    "cut JPEG": jpeg(1, (1200, 900))[:3000],
    "cut small JPEG": jpeg(1, (60, 40))[:-200],  # fits the box: never shrunk, still decoded
    "text named .jpg": b"a text file\n",
    "PNG with a bad CRC": _png_with_bad_crc(),
    "50000x50000 PNG header": _png_claiming(50_000, 50_000),
    "empty": b"",
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_put_image_refuses_what_validate_image_refuses(case, tmp_path):
    data = BROKEN[case]
    with pytest.raises(AssetError) as expected:
        validate_image("photo.jpg", data)
    store = AssetStore(tmp_path / "store")
    with pytest.raises(AssetError) as got:
        store.put_image("photo.jpg", data)
    assert (got.value.key, got.value.params) == (expected.value.key, expected.value.params)
    assert not (store.root / "files").exists()  # nothing stored for a refused file


def test_put_image_makes_the_thumbnail_the_gallery_would(tmp_path):
    data = jpeg(7, (1200, 900))
    mine, theirs = AssetStore(tmp_path / "a"), AssetStore(tmp_path / "b")
    sha, mime = mine.put_image("photo.jpg", data)
    assert (sha, mime) == (theirs.put(data), validate_image("photo.jpg", data))
    made = mine.thumbnail(sha)
    assert made.read_bytes() == theirs.thumbnail(sha).read_bytes()
    made.write_bytes(b"")  # what a power cut can leave of a file written without fsync
    assert mine.thumbnail(sha).read_bytes() == theirs.thumbnail(sha).read_bytes()
