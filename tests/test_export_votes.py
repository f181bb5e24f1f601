"""The Votes sheet says where each tally came from (SPEC §5.5, §8), and verify still holds.

A votes-only campaign whose tallies are made every way there is: imported, imported with
public votes counted on top, public only with a burst voided, public only and all voided,
and none. The sheet shows each tally's source, parts and voids with their reasons; the
standings and `verify` rank on the `votes` column alone; a finalised file binds the
provenance too; a snapshot frozen before these columns existed still exports and verifies.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from scoring.export import verify_workbook
from scoring.export.canonical import canonical_json, content_sha256
from scoring.export.verify import check_export, read_export
from scoring.services.campaigns import get_campaign
from scoring.services.export import export_workbook
from scoring.services.finalise import active_snapshot, finalise
from scoring.storage.models import VoteTally
from tests.factories import ORGANISER, cast_votes, make_campaign, make_entry, void_public_votes

SLUG = "test-2020"
NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)  # 12:00 in Beijing
HOSTILE = '=HYPERLINK("http://evil.test/v","刷票")'
HEADER = [
    "code", "votes", "source", "imported", "public_counted", "public_voided", "void_reasons",
]  # fmt: skip
ROWS = [
    ("V-1", 900, "import", 900, 0, 0, None),
    ("V-2", 503, "import+public", 500, 3, 0, None),
    ("V-3", 4, "public", None, 4, 2, f"2026-11-30 12:00–12:02 2 votes: {HOSTILE}"),
    ("V-4", None, None, None, 0, 0, None),
    ("V-5", 0, "public", None, 0, 1, "2026-11-30 14:00–14:00 1 vote: 同一设备"),
]


def _build(session) -> None:
    campaign = make_campaign(
        session,
        components=[{"key": "votes", "kind": "votes", "weight": 100}],
        criteria=[],
        tie_break=["votes"],
    )
    one, two, three, _, five = (make_entry(session, campaign, f"V-{n}") for n in range(1, 6))
    session.add_all([VoteTally.of_import(one.id, 900), VoteTally.of_import(two.id, 500)])
    session.flush()
    cast_votes(session, two, 3, network_key="net-a", start=NOON)
    cast_votes(session, three, 4, network_key="net-a", start=NOON + timedelta(hours=1))
    cast_votes(session, three, 2, network_key="net-b", start=NOON, spacing=timedelta(minutes=2))
    void_public_votes(session, three, "net-b", HOSTILE)
    cast_votes(session, five, 1, network_key="net-c", start=NOON + timedelta(hours=2))
    void_public_votes(session, five, "net-c", "同一设备")


def _export(database) -> bytes:
    return database.write(lambda s: export_workbook(s, ORGANISER, get_campaign(s, SLUG)))


def _votes_sheet(workbook: bytes) -> tuple[list, list[tuple]]:
    sheet = openpyxl.load_workbook(io.BytesIO(workbook))["Votes"]
    rows = list(sheet.iter_rows(values_only=True))
    header = 1 if rows[0][1] is not None else 2  # below the not-final title row
    return list(rows[header - 1]), rows[header:]


def _tampered(workbook: bytes, code: str, changes: dict) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    sheet = book["Votes"]
    header, _ = _votes_sheet(workbook)
    row = next(r for r in sheet.iter_rows() if r[0].value == code)
    for column, value in changes.items():
        row[header.index(column)].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_votes_sheet_says_where_each_tally_came_from(database):
    database.write(_build)
    workbook = _export(database)
    header, rows = _votes_sheet(workbook)
    assert header == HEADER
    assert rows == ROWS
    # The hostile reason is text inside the cell, never a formula.
    cells = openpyxl.load_workbook(io.BytesIO(workbook))["Votes"]
    reason = next(c for row in cells.iter_rows() for c in row if HOSTILE in str(c.value or ""))
    assert reason.data_type == "s"
    assert verify_workbook(workbook) == []


def test_once_the_public_vote_opened_an_entry_without_votes_has_0_and_verifies(database):
    """V-4 has no tally: missing before voting opens, 0 votes (and no longer provisional for
    it) once the hall's vote has opened; the sheet, the standings and verify agree."""
    database.write(_build)

    def open_voting(session) -> None:
        campaign = get_campaign(session, SLUG)
        campaign.public_gallery = True
        campaign.vote_opens_at = NOON
        campaign.vote_closes_at = NOON + timedelta(days=30)
        session.add(campaign)

    database.write(open_voting)
    workbook = _export(database)
    _, rows = _votes_sheet(workbook)
    assert next(r for r in rows if r[0] == "V-4") == ("V-4", 0, "public", None, 0, 0, None)
    assert verify_workbook(workbook) == []


def test_verify_ranks_on_the_votes_column_and_checks_each_tally_against_its_parts(database):
    database.write(_build)
    workbook = _export(database)
    # Parts moved but the same sum and source: the ranking, read from votes, is unchanged.
    moved = _tampered(workbook, "V-2", {"imported": 400, "public_counted": 103})
    assert verify_workbook(moved) == []
    # Parts that do not make the tally, or a source they do not give, are named.
    wrong_sum = _tampered(workbook, "V-2", {"imported": 400})
    assert [(d.sheet, d.code, d.column) for d in verify_workbook(wrong_sum)] == [
        ("Votes", "V-2", "votes")
    ]
    wrong_source = _tampered(workbook, "V-1", {"source": "public"})
    assert [(d.code, d.column, d.recomputed) for d in verify_workbook(wrong_source)] == [
        ("V-1", "source", "import")
    ]
    # The votes cell itself moves the Final list, which verify recomputes from it.
    more = _tampered(workbook, "V-3", {"votes": 5000, "public_counted": 5000})
    assert {(d.sheet, d.code) for d in verify_workbook(more)} >= {("Final list", "V-3")}


def test_a_finalised_export_binds_where_the_votes_came_from(database):
    database.write(_build)
    sha = database.write(lambda s: finalise(s, ORGANISER, get_campaign(s, SLUG)).sha256)
    workbook = _export(database)
    assert _votes_sheet(workbook) == (HEADER, ROWS)
    export = read_export(workbook)
    assert export.sha256 == sha and verify_workbook(workbook) == []
    with database.read() as session:
        stored = json.loads(active_snapshot(session, get_campaign(session, SLUG)).content)
    assert check_export(export, stored=stored, stored_sha256=sha).passed
    # A void's reason rewritten, or a source changed with its parts: the hash says so.
    for code, changes in [
        ("V-3", {"void_reasons": "2026-11-30 12:00–12:02 2 votes: 误判"}),
        ("V-2", {"imported": 400, "public_counted": 103}),
    ]:
        tampered = _tampered(workbook, code, changes)
        assert "snapshot_sha256" in {d.column for d in verify_workbook(tampered)}
        stored_check = check_export(read_export(tampered), stored=stored, stored_sha256=sha)
        assert {d.column for d in stored_check.differences} >= set(changes)


def test_a_snapshot_frozen_before_the_provenance_columns_still_exports_and_verifies(database):
    database.write(_build)
    database.write(lambda s: finalise(s, ORGANISER, get_campaign(s, SLUG)))

    def as_frozen_before(session) -> tuple[dict, str]:
        snapshot = active_snapshot(session, get_campaign(session, SLUG))
        content = json.loads(snapshot.content)
        votes = content["votes"]
        content["votes"] = {"columns": ["code", "votes"], "rows": [r[:2] for r in votes["rows"]]}
        snapshot.content = canonical_json(content)
        snapshot.sha256 = content_sha256(content)
        session.add(snapshot)
        return content, snapshot.sha256

    stored, sha = database.write(as_frozen_before)
    workbook = _export(database)
    header, rows = _votes_sheet(workbook)
    assert header == ["code", "votes"]
    assert rows == [r[:2] for r in ROWS]
    export = read_export(workbook)
    assert export.sha256 == sha and export.snapshot_sha256 == sha
    assert verify_workbook(workbook) == []
    assert check_export(export, stored=stored, stored_sha256=sha).passed


@pytest.mark.parametrize("column", ["imported", "public_counted"])
def test_a_count_that_is_not_a_count_is_named(database, column):
    database.write(_build)
    tampered = _tampered(_export(database), "V-2", {column: "lots"})
    assert [(d.code, d.column) for d in verify_workbook(tampered)] == [("V-2", column)]
