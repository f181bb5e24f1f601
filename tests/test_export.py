"""The export workbook of SPEC §5.5, `reviewdesk verify`, and `reviewdesk backup`."""

from __future__ import annotations

import io
import sqlite3
import sys
import threading
import zipfile

import openpyxl
import pytest
from sqlmodel import select

from scoring import context
from scoring.cli import main
from scoring.errors import PermissionDenied
from scoring.export import verify_workbook
from scoring.permissions import Actor
from scoring.services.campaigns import get_campaign
from scoring.services.export import export_workbook
from scoring.services.sheets import save_own_sheet
from scoring.settings import get_settings
from scoring.storage.models import Account, Entry
from tests.factories import actor_of, make_account, make_campaign, make_entry

EXPECTED_SHEETS = {"Final list", "Scores", "Votes", "Method", "Organisations"}
FINAL_COLUMNS = [
    "group", "rank", "code", "title", "applicant", "recommender", "category", "domain",
    "votes", "media", "expert", "composite", "award", "tie", "provisional", "override_reason",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo_export(tmp_path_factory):
    """The demo campaign exported once through the CLI (the module's tests only read it)."""
    folder = tmp_path_factory.mktemp("demo")
    out = folder / "qd.xlsx"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REVIEWDESK_DATA_DIR", str(folder / "data"))
        patch.delenv("REVIEWDESK_DATABASE_URL", raising=False)
        patch.setattr(sys, "stdout", io.StringIO())
        get_settings.cache_clear()
        try:
            assert main(["init-demo"]) == 0
            assert main(["export", "qd-2020", "--out", str(out)]) == 0
        finally:
            get_settings.cache_clear()
    return out


def _header(sheet) -> list:
    """The table's header: row 2, under the title row of a file that is not final."""
    return [c.value for c in sheet[2]]


def test_the_demo_export_has_every_sheet_and_column_of_the_spec(demo_export):
    book = openpyxl.load_workbook(demo_export)
    assert set(book.sheetnames) >= EXPECTED_SHEETS
    final = book["Final list"]
    assert _header(final) == FINAL_COLUMNS
    assert _header(book["Scores"]) == ["panel", "reviewer", "code", "criterion", "score", "total"]
    assert _header(book["Votes"]) == [
        "code", "votes", "source", "imported", "public_counted", "public_voided", "void_reasons",
    ]  # fmt: skip
    assert _header(book["Organisations"]) == [
        "recommender", "recommended", "shortlisted", "awarded", "mean_composite",
    ]  # fmt: skip
    rows = list(final.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 36
    composites = [r[FINAL_COLUMNS.index("composite")] for r in rows]
    assert all(isinstance(v, int | float) for v in composites)  # numbers, not text
    assert all(round(v, 4) == v for v in composites)
    assert final.freeze_panes == "A3" and final["A2"].font.bold
    # One winners' sheet per ranking group with a winner, named after the group, ready for A4.
    groups_with_winners = {r[0] for r in rows if r[FINAL_COLUMNS.index("award")] == "yes"}
    winner_sheets = [n for n in book.sheetnames if n not in EXPECTED_SHEETS]
    assert set(winner_sheets) == groups_with_winners
    sheet = book[winner_sheets[0]]
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert sheet.oddHeader.left.text == "2020青岛信息化典型案例评选"
    method = {r[0]: r[1] for r in book["Method"].iter_rows(values_only=True) if r[0]}
    assert method["snapshot_sha256"] == "not finalised"
    assert method["exported_by"] == "cli"


def test_verify_passes_on_the_export_and_names_a_changed_score(demo_export, tmp_path, cli):
    assert verify_workbook(demo_export) == []
    book = openpyxl.load_workbook(demo_export)
    scores = book["Scores"]
    code = scores["C3"].value
    scores["E3"] = scores["E3"].value - 3
    changed = tmp_path / "changed.xlsx"
    book.save(changed)
    differences = verify_workbook(changed)
    assert differences and {d.code for d in differences} == {code}
    assert "composite" in {d.column for d in differences}
    exit_code, _, err = cli("verify", str(changed))
    assert exit_code == 1 and code in err and "composite" in err


@pytest.mark.parametrize(
    ("sheet", "cell", "value"),
    [("Final list", "L3", 99.0), ("Votes", "B3", 123456), ("Final list", "M3", "no")],
)
def test_verify_catches_a_changed_result_vote_or_award(demo_export, tmp_path, sheet, cell, value):
    book = openpyxl.load_workbook(demo_export)
    book[sheet][cell] = value
    path = tmp_path / "edited.xlsx"
    book.save(path)
    assert verify_workbook(path)


def test_verify_catches_a_changed_weight(demo_export, tmp_path):
    book = openpyxl.load_workbook(demo_export)
    method = book["Method"]
    rows = list(method.iter_rows())
    marker = next(i for i, r in enumerate(rows) if r[0].value == "[components]")
    votes_row = rows[marker + 2]  # header, then the first component: votes 55
    expert_row = rows[marker + 4]
    votes_row[2].value, expert_row[2].value = 50, 35
    path = tmp_path / "weights.xlsx"
    book.save(path)
    assert verify_workbook(path)


def test_formula_like_titles_stay_text(database):
    def setup(session):
        campaign = make_campaign(session)
        make_entry(session, campaign, "F-1", title='=HYPERLINK("http://x","y")')
        make_entry(session, campaign, "F-2", title="+1+1")
        entry = session.exec(select(Entry).where(Entry.code == "F-2")).one()
        entry.applicant = "@SUM(A1)"
        return campaign.slug

    slug = database.write(setup)
    data = database.write(lambda s: export_workbook(s, Actor.command_line(), get_campaign(s, slug)))
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = {c.value: c for row in book["Final list"].iter_rows(min_row=2) for c in row}
    for text in ('=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)"):
        assert cells[text].data_type == "s", text
    assert verify_workbook(data) == []


def test_only_organisers_export(database):
    def setup(session):
        campaign = make_campaign(session)
        return actor_of(make_account(session, "expert1", "expert")), campaign.slug

    expert, slug = database.write(setup)
    with pytest.raises(PermissionDenied):
        database.write(lambda s: export_workbook(s, expert, get_campaign(s, slug)))


def test_backup_is_a_consistent_copy_while_reviewers_keep_saving(cli, tmp_path):
    assert cli("init-demo")[0] == 0
    database = context.database()
    stop = threading.Event()

    def keep_saving():
        with database.read() as session:
            account = session.exec(select(Account).where(Account.username == "expert5")).one()
            actor = actor_of(account)
            campaign = get_campaign(session, "qd-2020")
            entries = session.exec(select(Entry).where(Entry.campaign_id == campaign.id)).all()
        points = 1
        while not stop.is_set():
            for entry in entries[-5:]:
                database.write(
                    lambda s, e=entry, p=points: save_own_sheet(
                        s,
                        actor,
                        entry_id=e.id,
                        points={"innovation": p % 30},
                        comment="",
                        submit=False,
                        expected_version=None,
                    )
                )
            points += 1

    writer = threading.Thread(target=keep_saving)
    writer.start()
    try:
        code, out, _ = cli("backup", "--out", str(tmp_path / "backup.zip"))
    finally:
        stop.set()
        writer.join()
    assert code == 0 and "backup.zip" in out
    with zipfile.ZipFile(tmp_path / "backup.zip") as archive:
        names = archive.namelist()
        archive.extract("reviewdesk.db", tmp_path / "restored")
    assert sum(n.startswith("files/") for n in names) >= 36 * 5  # 4 images + 1 PDF each
    copy = sqlite3.connect(tmp_path / "restored" / "reviewdesk.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT count(*) FROM account").fetchone()[0] == 9
    copy.close()
