"""Hostile and broken input: refused in one line naming row, column and reason, on both databases.

Each case is one data row that once crashed PostgreSQL mid-transaction or was stored silently by
SQLite. Now every importer refuses it before the write, with exactly one problem, and writes
nothing at all.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from sqlmodel import select

from scoring.errors import ValidationFailed
from scoring.services.accounts import hash_password
from scoring.storage.models import Account, Component, Entry, VoteTally
from tests.factories import assigned, make_campaign, make_entry
from tests.importers.import_helpers import row_counts, run_import, write_csv

BASE = {
    "entries": {
        "code": "N-1",
        "title": "智慧政务",
        "applicant": "某单位",
        "category": "数字政府",
        "domain": "政务服务",
    },
    "votes": {"code": "A-1", "votes": "5"},
    "scores": {"reviewer": "expert1", "code": "A-1", "criterion": "innovation", "score": "30"},
    "users": {"username": "newbie", "name": "新人", "role": "expert"},
}

MB_CODE = "X" * (1024 * 1024)


def png_header(width: int, height: int) -> bytes:
    """A PNG that only claims its size: refusing it must not need a single decoded pixel."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


CASES = [
    # (case, importer, cells changed, column named, reason key)
    ("superscript two votes", "entries", {"votes": "²"}, "votes", "import.bad_count"),
    ("arabic-indic digits", "votes", {"votes": "٣"}, "votes", "import.bad_count"),
    ("twenty-digit votes", "votes", {"votes": "9" * 20}, "votes", "imports.count_too_large"),
    ("3e9 votes", "votes", {"votes": "3000000000"}, "votes", "imports.count_too_large"),
    (
        "3e9 votes on entries",
        "entries",
        {"votes": "3000000000"},
        "votes",
        "imports.count_too_large",
    ),
    ("negative votes", "votes", {"votes": "-1"}, "votes", "import.bad_count"),
    ("41-character code", "entries", {"code": "C" * 41}, "code", "imports.code_too_long"),
    ("1 MB code", "entries", {"code": MB_CODE}, "code", "imports.code_too_long"),
    ("1 MB code in votes", "votes", {"code": MB_CODE}, "code", "imports.code_too_long"),
    ("NUL in code", "entries", {"code": "A\x00B"}, "code", "imports.control_character"),
    ("NUL in votes code", "votes", {"code": "A-1\x00"}, "code", "imports.control_character"),
    ("formula code =", "entries", {"code": "=HYPERLINK(1)"}, "code", "imports.code_formula"),
    ("formula code +", "entries", {"code": "+1"}, "code", "imports.code_formula"),
    ("formula code -", "entries", {"code": "-2+3"}, "code", "imports.code_formula"),
    ("formula code @", "entries", {"code": "@SUM"}, "code", "imports.code_formula"),
    ("NUL in title", "entries", {"title": "作\x00品"}, "title", "imports.control_character"),
    ("301-character title", "entries", {"title": "题" * 301}, "title", "import.too_long"),
    (
        "201-character applicant",
        "entries",
        {"applicant": "单" * 201},
        "applicant",
        "import.too_long",
    ),
    ("NUL in summary", "entries", {"summary": "简介\x00"}, "summary", "imports.control_character"),
    ("1 MB summary", "entries", {"summary": "字" * 1_000_000}, "summary", "import.too_long"),
    ("nan score", "scores", {"score": "nan"}, "score", "sheet.not_a_number"),
    ("infinite score", "scores", {"score": "inf"}, "score", "sheet.not_a_number"),
    ("superscript score", "scores", {"score": "²"}, "score", "sheet.not_a_number"),
    ("NUL in comment", "scores", {"comment": "好\x00"}, "comment", "imports.control_character"),
    ("NUL in scores code", "scores", {"code": "A\x00"}, "code", "imports.control_character"),
    ("NUL in user name", "users", {"name": "张\x00三"}, "name", "imports.control_character"),
    ("101-character user name", "users", {"name": "名" * 101}, "name", "import.too_long"),
    ("201-character email", "users", {"email": "e" * 195 + "@x.com"}, "email", "import.too_long"),
    ("10000x10000 PNG", "entries", {"images": "huge.png"}, "images", "asset.too_many_pixels"),
]


@pytest.fixture(scope="module")
def password_hash() -> str:
    """bcrypt is slow on purpose; one hash serves every scene of this table."""
    return hash_password("secret-pass")


@pytest.fixture
def scene(database, tmp_path, password_hash):
    def setup(session):
        campaign = make_campaign(session)
        entry = make_entry(session, campaign, "A-1")
        expert = Account(
            username="expert1", display_name="专家", role="expert", password_hash=password_hash
        )
        session.add(expert)
        session.flush()
        assigned(session, entry, expert)

    database.write(setup)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "huge.png").write_bytes(png_header(10_000, 10_000))
    return database


@pytest.mark.parametrize(
    ("kind", "changes", "column", "key"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_cell_is_refused_in_one_line_and_nothing_is_written(
    scene, store, tmp_path, kind, changes, column, key
):
    values = {**BASE[kind], **changes}
    path = write_csv(tmp_path / f"{kind}.csv", list(values), [list(values.values())])
    before = row_counts(scene)
    options = {"store": store, "assets": tmp_path / "assets"} if kind == "entries" else {}
    with pytest.raises(ValidationFailed) as refused:
        run_import(scene, kind, path, **options)
    [problem] = refused.value.problems
    assert (problem.row, problem.column, problem.key) == (2, column, key)
    line = problem.message("en")
    assert line.startswith(f'row 2, column "{column}": ') and len(line) < 300
    assert row_counts(scene) == before


def test_full_width_digits_are_read_as_the_number_they_show(scene, tmp_path):
    path = write_csv(tmp_path / "votes.csv", ["编号", "票数"], [["A-1", "１２，３４５"]])
    assert run_import(scene, "votes", path) == 1
    with scene.read() as session:
        assert [t.votes for t in session.exec(select(VoteTally))] == [12345]


def test_the_largest_postgres_integer_is_stored_as_given(scene, tmp_path):
    path = write_csv(tmp_path / "votes.csv", ["code", "votes"], [["A-1", "2,147,483,647"]])
    run_import(scene, "votes", path)
    with scene.read() as session:
        assert [t.votes for t in session.exec(select(VoteTally))] == [2_147_483_647]


def test_a_40_character_code_fills_the_column_exactly(scene, store, tmp_path):
    values = {**BASE["entries"], "code": "C" * 40}
    path = write_csv(tmp_path / "entries.csv", list(values), [list(values.values())])
    assert run_import(scene, "entries", path, store=store) == 1
    with scene.read() as session:
        assert "C" * 40 in set(session.exec(select(Entry.code)))


def test_scores_for_a_locked_panel_are_refused_row_by_row(scene, tmp_path):
    def lock(session):
        expert = session.exec(select(Component).where(Component.key == "expert")).one()
        expert.locked = True

    scene.write(lock)
    values = BASE["scores"]
    path = write_csv(tmp_path / "scores.csv", list(values), [list(values.values())])
    before = row_counts(scene)
    with pytest.raises(ValidationFailed) as refused:
        run_import(scene, "scores", path)
    [problem] = refused.value.problems
    assert (problem.row, problem.column, problem.key) == (2, "reviewer", "sheet.panel_locked")
    assert row_counts(scene) == before


def test_the_cli_prints_the_reason_and_the_bad_row(cli, tmp_path):
    campaign = Path(__file__).parents[2] / "scoring" / "demo" / "qd-2020.toml"
    assert cli("campaign", "create", str(campaign))[0] == 0
    values = {"code": "=1+1", "title": "t", "applicant": "a", "category": "x", "domain": "y"}
    path = write_csv(tmp_path / "entries.csv", list(values), [list(values.values())])
    code, _, err = cli("import-entries", "qd-2020", str(path))
    lines = err.strip().splitlines()
    assert code == 1
    assert lines[0] == 'reviewdesk: File "entries.csv" has 3 problem(s); nothing was imported:'
    assert lines[1].startswith('  row 2, column "code": code "=1+1" starts with "="')
