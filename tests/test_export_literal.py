"""What applicants typed stays data in every file the product writes: never a live formula.

One finalised campaign whose names, titles, units, criteria and reasons look like formulas is
exported once for the module. The workbook is read back the way a spreadsheet program reads
it (openpyxl, and the raw XML), the CSV files the way Excel splits them (csv.reader); and the
workbook must still verify against the hash the snapshot published.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import select

from scoring import context
from scoring.cli import main
from scoring.export import verify_workbook
from scoring.export.canonical import FIXED_SHEETS
from scoring.export.cells import FORMULA_TRIGGERS, csv_text
from scoring.export.verify import read_export
from scoring.permissions import Actor
from scoring.services import audit
from scoring.services.campaigns import get_campaign
from scoring.services.export import export_workbook
from scoring.services.finalise import finalise, set_override, set_panel_lock
from scoring.services.sheets import save_own_sheet
from scoring.settings import get_settings
from scoring.storage.models import Account, Category, VoteTally
from tests.factories import (
    ORGANISER,
    actor_of,
    assigned,
    campaign_data,
    make_account,
    make_campaign,
    make_entry,
)

SLUG = "test-2020"
LINK = '=HYPERLINK("http://evil.test/p","Sign in again")'
CAMPAIGN = "R&D " + LINK
GROUP = "=1+1 数字政府"
CRITERION = "+创新性"
REASON = '=HYPERLINK("http://evil.test/r","理由")'
# code, category, title, applicant, recommender, votes
ENTRIES = [
    ("F-1", 0, LINK, "@SUM(A1)", "=1+1", 900),
    ("F-2", 0, "-5", "+86 532 8888", "-市南区", 500),
    ("F-3", 1, "'已引用", "\t制表符单位", "市北区政府", 800),
    ("F-4", 1, "智慧社区“邻里通”平台", "青岛市大数据局", "\r回车单位", 600),
]
#: The texts above that a spreadsheet would run, and the campaign name (in title rows).
TYPED = [LINK, CAMPAIGN, GROUP, CRITERION, REASON] + [
    text for row in ENTRIES for text in row[2:5] if text.startswith(("=", "+", "-", "@", "\t"))
]


def _build(session) -> None:
    criteria = campaign_data()["criteria"]
    criteria[0]["name"] = CRITERION
    campaign = make_campaign(
        session, name=CAMPAIGN, categories=[GROUP, "数字经济"], criteria=criteria
    )
    categories = session.exec(
        select(Category).where(Category.campaign_id == campaign.id).order_by(Category.id)
    ).all()
    experts = [actor_of(make_account(session, f"expert{i}", "expert")) for i in (1, 2)]
    media = actor_of(make_account(session, "media1", "media"))
    for number, (code, category, title, applicant, recommender, votes) in enumerate(ENTRIES):
        entry = make_entry(session, campaign, code, title=title, applicant=applicant)
        entry.category_id = categories[category].id
        entry.recommender = recommender
        session.add(entry)
        session.add(VoteTally.of_import(entry.id, votes))
        session.flush()
        for expert in experts:
            _score(session, entry, expert, {"innovation": 30 + number * 7, "impact": 20})
        _score(session, entry, media, {"story": 50 + number * 9})
        audit.record(session, ORGANISER, "entry.edit", target=title, old=-5, new={"t": title})


def _score(session, entry, reviewer, points) -> None:
    assigned(session, entry, session.get(Account, reviewer.account_id))
    save_own_sheet(
        session,
        reviewer,
        entry_id=entry.id,
        points=points,
        comment="",
        submit=True,
        expected_version=None,
    )


def _finalise(session) -> str:
    set_override(session, ORGANISER, get_campaign(session, SLUG), "F-2", True, REASON)
    for panel in ("expert", "media"):
        set_panel_lock(session, ORGANISER, get_campaign(session, SLUG), panel, True, "评审结束")
    return finalise(session, ORGANISER, get_campaign(session, SLUG)).sha256


def _in_folder(folder: Path, work: Callable):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REVIEWDESK_DATA_DIR", str(folder / "data"))
        patch.setenv("REVIEWDESK_LANGUAGE", "en")
        patch.delenv("REVIEWDESK_DATABASE_URL", raising=False)
        get_settings.cache_clear()
        try:
            return work()
        finally:
            get_settings.cache_clear()


def _cli(*args: str) -> str:
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", out)
        assert main(list(args)) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Iterator[dict]:
    folder = tmp_path_factory.mktemp("literal")

    def run() -> dict:
        database = context.database()
        database.write(_build)
        sha = database.write(_finalise)
        workbook = database.write(lambda s: export_workbook(s, ORGANISER, get_campaign(s, SLUG)))
        with database.read() as session:
            log = audit.events_csv(session, Actor.command_line(), "en", action="entry.edit")
        return {
            "sha": sha,
            "workbook": workbook,
            "audit": log,
            "standings": _cli("standings", SLUG, "--format", "csv"),
            "standings_json": _cli("standings", SLUG, "--format", "json"),
        }

    yield _in_folder(folder, run)


def _cells(workbook: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(workbook))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_no_cell_of_the_workbook_is_a_formula(files):
    cells = _cells(files["workbook"])
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    with zipfile.ZipFile(io.BytesIO(files["workbook"])) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        for name in sheets:
            assert not re.search(rb"<f[ >]", archive.read(name)), name


def test_formula_like_text_is_a_string_cell_holding_exactly_what_was_typed(files):
    cells = _cells(files["workbook"])
    by_value: dict[str, list] = {}
    for cell in cells:
        if isinstance(cell.value, str):
            by_value.setdefault(cell.value, []).append(cell)
    for text in TYPED:
        found = by_value.get(text.replace("\r", "\n"))  # an .xlsx holds line ends as \n
        assert found, text
        for cell in found:
            assert cell.data_type == "s", (text, cell.coordinate)
            if text.startswith(FORMULA_TRIGGERS):
                assert cell.quotePrefix, (text, cell.coordinate)  # editing it keeps it text
    # "-5" typed as a title stays that text; the figures next to it stay numbers.
    final = openpyxl.load_workbook(io.BytesIO(files["workbook"]))["Final list"]
    header = [c.value for c in final[1]]
    row = next(r for r in final.iter_rows(min_row=2) if r[header.index("code")].value == "F-2")
    assert row[header.index("title")].value == "-5"
    assert isinstance(row[header.index("composite")].value, int | float)
    assert row[header.index("override_reason")].value == REASON
    assert "智慧社区“邻里通”平台" in by_value  # ordinary text untouched


def test_the_printed_header_prints_the_campaign_name_as_typed(files):
    book = openpyxl.load_workbook(io.BytesIO(files["workbook"]))
    winners = [s for s in book.worksheets if s.title not in FIXED_SHEETS]
    assert winners
    for sheet in winners:
        # "&D" would print the date and "&" alone start a code: each & is doubled.
        assert sheet.oddHeader.left.text == CAMPAIGN.replace("&", "&&")
        assert sheet["A1"].value.startswith(CAMPAIGN)


def test_the_file_still_verifies_and_reproduces_the_published_hash(files):
    assert verify_workbook(files["workbook"]) == []
    exported = read_export(files["workbook"])
    assert exported.snapshot_sha256 == files["sha"]
    assert exported.sha256 == files["sha"]
    assert exported.content["campaign"]["name"] == CAMPAIGN  # the hash covers what was typed


def test_the_audit_csv_quotes_formula_like_text_and_leaves_numbers(files):
    rows = list(csv.reader(io.StringIO(files["audit"].decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    target, old, new = (header.index(n) for n in ("Target", "Old value", "New value"))
    targets = {row[target] for row in body}
    assert targets == {csv_text(row[2]) for row in ENTRIES}
    assert "'" + LINK in targets and "''已引用" in targets and "'-5" in targets
    assert "智慧社区“邻里通”平台" in targets
    assert {row[old] for row in body} == {"-5"}  # a number, as JSON: left as it is
    assert all(row[new].startswith("{") for row in body)
    # The rule can be undone: drop one leading quote and the typed text is back.
    assert {t[1:] if t.startswith("'") else t for t in targets} == {r[2] for r in ENTRIES}


def test_the_standings_csv_quotes_formula_like_text_and_the_json_keeps_it(files):
    rows = list(csv.DictReader(io.StringIO(files["standings"])))
    titles = {row["code"]: row["title"] for row in rows}
    assert titles["F-1"] == "'" + LINK
    assert titles["F-2"] == "'-5"
    assert titles["F-4"] == "智慧社区“邻里通”平台"
    assert {row["group"] for row in rows} == {"'" + GROUP, "数字经济"}
    assert all(not row["composite"].startswith("'") for row in rows)
    assert any(row["title"] == LINK for row in json.loads(files["standings_json"]))
