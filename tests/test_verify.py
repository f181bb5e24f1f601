"""`reviewdesk verify`: a finalised export is bound to its result; every tampering is caught.

One finalised campaign is exported once for the module: two categories with one award each,
a provisional winner acknowledged with a reason, a committee override, two experts and a
media evaluator. Each test edits a copy of that file with openpyxl, the way someone with
the file and a spreadsheet program would, and runs the checks a third party runs.
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import select

from scoring import context
from scoring.cli import main
from scoring.export import verify_workbook
from scoring.export.verify import check_export, read_export
from scoring.export.workbook import winner_header_keys
from scoring.services.campaigns import get_campaign
from scoring.services.export import export_workbook
from scoring.services.finalise import (
    active_snapshot,
    finalise,
    set_override,
    set_panel_lock,
    unfinalise,
)
from scoring.services.sheets import save_own_sheet
from scoring.settings import get_settings
from scoring.storage.models import Account, Category, VoteTally
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry

SLUG = "test-2020"
# code, category index, recommender, votes, expert sheets (innovation, impact), media story
ENTRIES = [
    ("A-1", 0, "青岛市大数据局", 900, [(50, 30), (40, 20)], 80),  # expert mean 70
    ("A-2", 0, "青岛市大数据局", 700, [(45, 30), (35, 25)], 70),
    ("A-3", 0, "", 100, [(30, 20), (20, 20)], 50),  # no recommending unit
    ("B-1", 1, "市南区政府", 800, [(55, 35)], 90),  # one expert of two: provisional winner
    ("B-2", 1, "市北区政府", 600, [(40, 30), (30, 30)], 60),
    ("B-3", 1, "市南区政府", 500, [(20, 10), (30, 20)], 40),  # granted by the committee
]
PROVISIONAL_REASON = "第二位专家回避，评委会确认"


def _build(session) -> None:
    campaign = make_campaign(session)
    categories = session.exec(
        select(Category).where(Category.campaign_id == campaign.id).order_by(Category.id)
    ).all()
    experts = [actor_of(make_account(session, f"expert{i}", "expert")) for i in (1, 2)]
    media = actor_of(make_account(session, "media1", "media"))
    for code, category, recommender, votes, sheets, story in ENTRIES:
        entry = make_entry(session, campaign, code, title=f"案例 {code}", applicant=f"{code} 单位")
        entry.category_id = categories[category].id
        entry.recommender = recommender
        session.add(entry)
        session.add(VoteTally.of_import(entry.id, votes))
        session.flush()
        for expert, (innovation, impact) in zip(experts, sheets, strict=False):
            _score(session, entry, expert, {"innovation": innovation, "impact": impact})
        _score(session, entry, media, {"story": story})


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


def _decide_and_finalise(session) -> str:
    campaign = get_campaign(session, SLUG)
    set_override(session, ORGANISER, campaign, "B-3", True, "特别贡献")
    for panel in ("expert", "media"):
        set_panel_lock(session, ORGANISER, get_campaign(session, SLUG), panel, True, "评审结束")
    snapshot = finalise(
        session, ORGANISER, get_campaign(session, SLUG), {"B-1": PROVISIONAL_REASON}
    )
    return snapshot.sha256


def _cli(folder: Path, *args: str) -> tuple[int, str, str]:
    """The CLI in-process on this module's data folder, in English; (exit, out, err)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REVIEWDESK_DATA_DIR", str(folder / "data"))
        patch.setenv("REVIEWDESK_LANGUAGE", "en")
        patch.delenv("REVIEWDESK_DATABASE_URL", raising=False)
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", err)
        get_settings.cache_clear()
        try:
            code = main(list(args))
        finally:
            get_settings.cache_clear()
    return code, out.getvalue(), err.getvalue()


def _in_module_db(folder: Path, work: Callable):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REVIEWDESK_DATA_DIR", str(folder / "data"))
        patch.delenv("REVIEWDESK_DATABASE_URL", raising=False)
        get_settings.cache_clear()
        try:
            return context.database().write(work)
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Iterator[dict]:
    """The campaign exported live (not finalised), then finalised and exported again."""
    folder = tmp_path_factory.mktemp("verify")
    _in_module_db(folder, _build)
    live = folder / "live.xlsx"
    live.write_bytes(
        _in_module_db(folder, lambda s: export_workbook(s, ORGANISER, get_campaign(s, SLUG)))
    )
    sha = _in_module_db(folder, _decide_and_finalise)
    final = folder / "final.xlsx"
    final.write_bytes(
        _in_module_db(folder, lambda s: export_workbook(s, ORGANISER, get_campaign(s, SLUG)))
    )
    yield {"folder": folder, "live": live, "final": final, "sha": sha}


def _copy(exported: dict, tmp_path: Path, name: str = "final") -> Path:
    path = tmp_path / f"{name}.xlsx"
    shutil.copy(exported[name], path)
    return path


def _rows(sheet) -> list[list]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _header_row(sheet) -> int:
    """1, or 2 under a title row (one text across the sheet's width, B1 empty)."""
    return 1 if sheet.cell(1, 2).value is not None else 2


def _column(sheet, name: str) -> int:
    """The column of a key, whatever language the sheet's headers are printed in."""
    keys = winner_header_keys()
    headers = [keys.get(c.value, c.value) for c in sheet[_header_row(sheet)]]
    return headers.index(name) + 1


def _row_of(sheet, code: str) -> int:
    at = _column(sheet, "code")
    first = _header_row(sheet) + 1
    return next(r for r in range(first, sheet.max_row + 1) if sheet.cell(r, at).value == code)


def _winner_sheet(book):
    fixed = {"Final list", "Scores", "Votes", "Method", "Organisations"}
    return book[next(n for n in book.sheetnames if n not in fixed)]


def _ghost(book, code: str, ghosts: list[tuple[str, int, int]]) -> None:
    """Add expert sheets for reviewers nobody appointed, each with its (right) total."""
    scores = book["Scores"]
    for reviewer, innovation, impact in ghosts:
        total = innovation + impact  # the rubric is out of 100 points
        scores.append(["expert", reviewer, code, "impact", impact, total])
        scores.append(["expert", reviewer, code, "innovation", innovation, total])


def _method_cell(book, key: str):
    method = book["Method"]
    row = next(r for r in range(1, method.max_row + 1) if method.cell(r, 1).value == key)
    return method.cell(row, 2)


# --- the untouched file -----------------------------------------------------------------


def test_the_finalised_export_verifies_and_reproduces_the_snapshot_hash(exported):
    export = read_export(exported["final"])
    assert verify_workbook(exported["final"]) == []
    assert export.snapshot_sha256 == exported["sha"]
    assert export.sha256 == exported["sha"]
    # What a reader sees is what was frozen: the acknowledgement and the override are shown.
    method = _rows(openpyxl.load_workbook(exported["final"])["Method"])
    assert ["B-1", PROVISIONAL_REASON] in [r[:2] for r in method]
    assert ["B-3", "grant", "特别贡献"] in [r[:3] for r in method]


def test_the_cli_prints_the_recomputed_hash_and_says_what_it_does_not_prove(exported):
    code, out, err = _cli(exported["folder"], "verify", str(exported["final"]))
    assert (code, err) == (0, "")
    assert exported["sha"] in out
    assert "--sha" in out and "--db" in out  # a self-consistent file is not yet the result


def test_an_export_taken_a_week_later_is_the_same_result(exported, tmp_path):
    again = _in_module_db(
        exported["folder"], lambda s: export_workbook(s, ORGANISER, get_campaign(s, SLUG))
    )
    assert read_export(again).sha256 == exported["sha"]


def test_a_not_finalised_export_says_it_is_not_bound_to_a_frozen_result(exported, tmp_path):
    path = _copy(exported, tmp_path, "live")
    book = openpyxl.load_workbook(path)
    _ghost(book, "A-1", [("ghost", 45, 25)])  # scores the panel mean: no figure moves
    book.save(path)
    code, out, _ = _cli(exported["folder"], "verify", str(path))
    assert code == 0
    assert "not bound to a frozen result" in out


# --- tampering ----------------------------------------------------------------------------


def _ghost_at_the_mean(book) -> None:
    _ghost(book, "A-1", [("ghost", 45, 25)])  # A-1's experts: 80 and 60, mean 70


def _two_symmetric_ghosts(book) -> None:
    _ghost(book, "A-1", [("ghost1", 50, 30), ("ghost2", 40, 20)])  # 80 and 60: mean stays 70


def _zero_hash(book) -> None:
    _method_cell(book, "snapshot_sha256").value = "0" * 64


def _winner_title_everywhere(book) -> None:
    for sheet in (book["Final list"], _winner_sheet(book)):
        sheet.cell(_row_of(sheet, "A-1"), _column(sheet, "title")).value = "另一个案例"


def _winner_applicant_everywhere(book) -> None:
    for sheet in (book["Final list"], _winner_sheet(book)):
        sheet.cell(_row_of(sheet, "A-1"), _column(sheet, "applicant")).value = "另一家单位"


def _winner_title_on_the_final_list(book) -> None:
    final = book["Final list"]
    final.cell(_row_of(final, "A-1"), _column(final, "title")).value = "另一个案例"


def _winner_on_the_group_sheet(book) -> None:
    sheet, final = _winner_sheet(book), book["Final list"]
    row, other = _row_of(sheet, "A-1"), _row_of(final, "A-2")
    for name in ("code", "title", "applicant", "recommender", "composite"):
        sheet.cell(row, _column(sheet, name)).value = final.cell(other, _column(final, name)).value


def _organisations(book) -> None:
    sheet = book["Organisations"]
    cell = sheet.cell(2, _column(sheet, "awarded"))
    cell.value += 1


def _score_with_the_list_recomputed(book) -> None:
    """Lower a score, then write every figure the recomputation asks for into the file."""
    scores = book["Scores"]
    row = next(
        r
        for r in range(2, scores.max_row + 1)
        if scores.cell(r, 2).value == "expert1" and scores.cell(r, 3).value == "A-2"
    )
    scores.cell(row, 5).value -= 10
    buffer = io.BytesIO()
    book.save(buffer)
    for difference in check_export(read_export(buffer.getvalue())).differences:
        if difference.sheet in ("Final list", "Scores") and difference.row:
            sheet = book[difference.sheet]
            sheet.cell(
                difference.row, _column(sheet, difference.column)
            ).value = difference.recomputed


def _ghost_with_its_own_hash(book) -> None:
    """The careful forger: a ghost, and the hash the forged file gives written in."""
    _ghost_at_the_mean(book)
    buffer = io.BytesIO()
    book.save(buffer)
    _method_cell(book, "snapshot_sha256").value = read_export(buffer.getvalue()).sha256


TAMPERING = [
    pytest.param(_ghost_at_the_mean, {"snapshot_sha256"}, id="ghost-reviewer-at-the-mean"),
    pytest.param(_two_symmetric_ghosts, {"snapshot_sha256"}, id="two-symmetric-ghosts"),
    pytest.param(_zero_hash, {"snapshot_sha256"}, id="hash-set-to-zeros"),
    pytest.param(_winner_title_everywhere, {"snapshot_sha256"}, id="winner-title-everywhere"),
    pytest.param(
        _winner_applicant_everywhere, {"snapshot_sha256"}, id="winner-applicant-everywhere"
    ),
    pytest.param(
        _winner_title_on_the_final_list, {"title", "snapshot_sha256"}, id="title-on-one-sheet"
    ),
    pytest.param(
        _winner_on_the_group_sheet,
        {"code", "title", "applicant", "composite", "snapshot_sha256"},
        id="winner-replaced-on-group-sheet",
    ),
    pytest.param(_organisations, {"awarded", "snapshot_sha256"}, id="organisations-changed"),
    pytest.param(
        _score_with_the_list_recomputed, {"snapshot_sha256"}, id="score-and-list-recomputed"
    ),
]


@pytest.mark.parametrize(("tamper", "caught_by"), TAMPERING)
def test_every_tampering_fails_verify(exported, tmp_path, tamper, caught_by):
    path = _copy(exported, tmp_path)
    book = openpyxl.load_workbook(path)
    tamper(book)
    book.save(path)
    differences = verify_workbook(path)
    assert caught_by <= {d.column for d in differences}
    code, out, err = _cli(exported["folder"], "verify", str(path))
    assert code == 1
    reason, *details = err.splitlines()
    assert reason.startswith("reviewdesk: Verification failed") and details
    assert f"SHA-256 recomputed from the file's own sheets: {read_export(path).sha256}" in out


def test_a_consistent_forgery_passes_alone_but_not_against_the_published_hash(exported, tmp_path):
    path = _copy(exported, tmp_path)
    book = openpyxl.load_workbook(path)
    _ghost_with_its_own_hash(book)
    book.save(path)
    assert verify_workbook(path) == []  # the file alone cannot tell: that is what --sha is for
    code, _, err = _cli(exported["folder"], "verify", str(path), "--sha", exported["sha"])
    assert code == 1 and "published" in err
    code, _, err = _cli(exported["folder"], "verify", str(path), "--db")
    assert code == 1
    assert "ghost" in err  # the ghost's rows are named against the stored snapshot


# --- against the published hash and the database ------------------------------------------


def test_the_published_hash_confirms_the_file(exported):
    code, out, err = _cli(
        exported["folder"], "verify", str(exported["final"]), "--sha", exported["sha"].upper()
    )
    assert (code, err) == (0, "")
    assert "equals the published value" in out


@pytest.mark.parametrize("wrong", ["f" * 64, "not-a-hash"])
def test_a_wrong_published_hash_fails(exported, wrong):
    code, _, err = _cli(exported["folder"], "verify", str(exported["final"]), "--sha", wrong)
    assert code == 1 and err.startswith("reviewdesk: ")


def test_the_database_confirms_the_file_cell_by_cell(exported):
    code, out, err = _cli(exported["folder"], "verify", str(exported["final"]), "--db")
    assert (code, err) == (0, "")
    assert f"snapshot stored for campaign {SLUG}" in out


def test_the_database_names_the_changed_cell(exported, tmp_path):
    path = _copy(exported, tmp_path)
    book = openpyxl.load_workbook(path)
    _winner_applicant_everywhere(book)
    book.save(path)
    code, _, err = _cli(exported["folder"], "verify", str(path), "--db")
    assert code == 1
    assert (
        "Final list row" in err and "(A-1) applicant: file '另一家单位', database 'A-1 单位'" in err
    )


def test_a_withdrawn_finalisation_no_longer_confirms_the_file(exported, tmp_path_factory):
    folder = tmp_path_factory.mktemp("withdrawn")
    _in_module_db(folder, _build)
    _in_module_db(folder, _decide_and_finalise)
    path = folder / "final.xlsx"
    path.write_bytes(
        _in_module_db(folder, lambda s: export_workbook(s, ORGANISER, get_campaign(s, SLUG)))
    )
    _in_module_db(folder, lambda s: unfinalise(s, ORGANISER, get_campaign(s, SLUG), "复议"))
    with_snapshot = _in_module_db(folder, lambda s: active_snapshot(s, get_campaign(s, SLUG)))
    assert with_snapshot is None
    code, _, err = _cli(folder, "verify", str(path), "--db")
    assert code == 1 and "no finalised snapshot" in err
