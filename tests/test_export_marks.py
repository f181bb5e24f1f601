"""An export says on every sheet whether it is final; the winners' sheets read as a list.

The demo is exported before finalising (in Chinese, the configured default, and in English),
then finalised and exported again; each file is read back with openpyxl the way a reader's
spreadsheet program shows it, and checked with `reviewdesk verify`.
"""

from __future__ import annotations

import io
import re
import sys

import openpyxl
import pytest

from scoring.cli import main
from scoring.export import verify_workbook
from scoring.export.verify import read_export
from scoring.settings import get_settings

MARK = "未定稿 / NOT FINAL"
CAMPAIGN = "2020青岛信息化典型案例评选"
FIXED = ("Final list", "Scores", "Votes", "Method", "Organisations")
ZH_HEADERS = ["名次", "编号", "名称", "申报主体", "推荐单位", "综合得分", "评委会决定理由"]
EN_HEADERS = [
    "Rank", "Code", "Title", "Applicant", "Recommended by", "Composite", "Committee reason",
]  # fmt: skip


def _run(folder, *args: str, lang: str = "zh") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REVIEWDESK_DATA_DIR", str(folder / "data"))
        patch.setenv("REVIEWDESK_LANGUAGE", lang)
        patch.delenv("REVIEWDESK_DATABASE_URL", raising=False)
        patch.setattr(sys, "stdout", out)
        patch.setattr(sys, "stderr", err)
        get_settings.cache_clear()
        try:
            code = main(list(args))
        finally:
            get_settings.cache_clear()
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("marks")
    paths = {name: folder / f"{name}.xlsx" for name in ("zh", "en", "en_default", "final")}
    assert _run(folder, "init-demo")[0] == 0
    assert _run(folder, "export", "qd-2020", "--out", str(paths["zh"]))[0] == 0
    assert _run(folder, "export", "qd-2020", "--out", str(paths["en"]), "--lang", "en")[0] == 0
    assert _run(folder, "export", "qd-2020", "--out", str(paths["en_default"]), lang="en")[0] == 0
    for panel in ("expert", "media"):
        assert _run(folder, "lock", "qd-2020", panel, "--reason", "评审结束")[0] == 0
    provisional = sorted(set(re.findall(r"QD2020-\d+", _run(folder, "finalise", "qd-2020")[2])))
    acknowledged = [a for code in provisional for a in ("--acknowledge", f"{code}=委员会确认")]
    code, out, err = _run(folder, "finalise", "qd-2020", *acknowledged)
    assert code == 0, err
    assert _run(folder, "export", "qd-2020", "--out", str(paths["final"]))[0] == 0
    return {**paths, "sha": re.search(r"[0-9a-f]{64}", out).group(0), "folder": folder}


def _book(path):
    return openpyxl.load_workbook(path)


def _winner_sheets(book) -> list:
    return [book[name] for name in book.sheetnames if name not in FIXED]


def _row(sheet, number: int) -> list:
    values = [c.value for c in sheet[number]]
    while values and values[-1] is None:
        values.pop()
    return values


def test_every_sheet_of_a_not_final_export_says_so_on_screen_and_on_paper(files):
    book = _book(files["zh"])
    assert len(book.sheetnames) > len(FIXED)
    for sheet in book.worksheets:
        assert MARK in str(sheet["A1"].value), sheet.title
        assert sheet["A1"].font.color.rgb.endswith("C00000"), sheet.title  # red, bold
        assert MARK in sheet.oddHeader.center.text, sheet.title
    # The tables start below the mark; the figures are where the reader expects them.
    assert _row(book["Final list"], 2)[:3] == ["group", "rank", "code"]
    assert book["Final list"].freeze_panes == "A3"
    assert _row(book["Votes"], 2)[:3] == ["code", "votes", "source"]
    method = {r[0]: r[1] for r in book["Method"].iter_rows(values_only=True) if r[0]}
    assert method["snapshot_sha256"] == "not finalised"


def test_the_winners_sheets_have_a_title_and_headers_in_the_readers_language(files):
    zh, en = _winner_sheets(_book(files["zh"])), _winner_sheets(_book(files["en"]))
    sheet = zh[0]
    assert _row(sheet, 1) == [f"{CAMPAIGN} · {sheet.title} · 获奖名单 · {MARK}"]
    assert _row(sheet, 2) == ZH_HEADERS
    assert sheet.print_title_rows == "$1:$2"  # title and headers on every printed page
    assert sheet.oddHeader.left.text == CAMPAIGN
    assert sheet.oddHeader.center.text == f"{sheet.title} · {MARK}"
    assert _row(en[0], 1) == [f"{CAMPAIGN} · {en[0].title} · Winners · {MARK}"]
    assert _row(en[0], 2) == EN_HEADERS
    # Without --lang the configured language is used.
    assert _row(_winner_sheets(_book(files["en_default"]))[0], 2) == EN_HEADERS
    assert [_row(s, 3) for s in zh] == [_row(s, 3) for s in en]  # the same winners


def test_a_finalised_export_carries_no_mark_and_its_winners_a_plain_title(files):
    book = _book(files["final"])
    for sheet in book.worksheets:
        cells = [c.value for row in sheet.iter_rows(max_row=2) for c in row]
        assert MARK not in " ".join(str(v) for v in cells if v), sheet.title
        assert MARK not in (sheet.oddHeader.center.text or ""), sheet.title
    assert _row(book["Final list"], 1)[:3] == ["group", "rank", "code"]
    sheet = _winner_sheets(book)[0]
    assert _row(sheet, 1) == [f"{CAMPAIGN} · {sheet.title} · 获奖名单"]
    assert _row(sheet, 2) == ZH_HEADERS


def test_titles_and_languages_change_neither_verify_nor_the_hash(files):
    for name in ("zh", "en", "final"):
        assert verify_workbook(files[name]) == [], name
    assert read_export(files["zh"]).sha256 == read_export(files["en"]).sha256
    assert read_export(files["final"]).sha256 == files["sha"]
    code, out, _ = _run(files["folder"], "verify", str(files["final"]), "--sha", files["sha"])
    assert code == 0 and files["sha"] in out


def test_a_not_final_export_stripped_of_its_mark_fails_verify(files, tmp_path):
    book = _book(files["en"])
    book["Final list"]["A1"].value = CAMPAIGN
    path = tmp_path / "unmarked.xlsx"
    book.save(path)
    differences = verify_workbook(path)
    assert [(d.sheet, d.column) for d in differences] == [("Final list", "title")]
    code, _, err = _run(files["folder"], "verify", str(path), lang="en")
    assert code == 1 and "Final list" in err


def test_a_changed_winner_is_named_at_its_row_under_the_title(files, tmp_path):
    book = _book(files["en"])
    sheet = _winner_sheets(book)[0]
    sheet.cell(3, EN_HEADERS.index("Title") + 1).value = "另一个案例"
    path = tmp_path / "changed.xlsx"
    book.save(path)
    found = {(d.sheet, d.row, d.column) for d in verify_workbook(path)}
    assert (sheet.title, 3, "title") in found
