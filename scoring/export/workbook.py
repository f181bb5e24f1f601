"""The export workbook, exactly the sheets of SPEC §5.5, styled to be printed and read.

`Final list` is the whole ranking; one sheet per ranking group with a winner lists the
winners in rank order under a title row (campaign, group, 获奖名单) with headers in the
interface language, laid out for A4 landscape with the campaign's name and the date in the
page header; `Scores`, `Votes` and `Method` carry everything `reviewdesk verify` needs
to recompute `Final list`; `Organisations` feeds the 优秀组织奖.

Every sheet is written from the canonical content (`canonical.export_content`), the same
dict the finalised snapshot's SHA-256 is taken over, so what the file shows is what is hashed.
Titles and translated headers are presentation only: `verify` skips the title rows and maps
the headers back to their keys, so the hash is the same in every language.

A file exported before finalisation must not pass for the result: every sheet then carries
"未定稿 / NOT FINAL" in a title row above its table and in its print header.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scoring.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate

from .canonical import (
    CRITERIA_COLUMNS,
    FINAL_LEADING,
    FINAL_SHEET,
    FINAL_TRAILING,
    FIXED_SHEETS,
    METHOD_SHEET,
    ORGANISATION_COLUMNS,
    ORGANISATIONS_SHEET,
    SCORES_COLUMNS,
    SCORES_SHEET,
    VOTES_SHEET,
    WINNER_COLUMNS,
    YES,
    ExportData,
    export_content,
    final_columns,
    sheet_name,
    winner_tables,
)
from .cells import AWARD_FILL, HEADER_FONT, finish_table, fit_columns, put, write_table

__all__ = [
    "CRITERIA_COLUMNS",
    "FINAL_LEADING",
    "FINAL_SHEET",
    "FINAL_TRAILING",
    "FIXED_SHEETS",
    "METHOD_SHEET",
    "NOT_FINAL_MARK",
    "ORGANISATIONS_SHEET",
    "ORGANISATION_COLUMNS",
    "SCORES_COLUMNS",
    "SCORES_SHEET",
    "VOTES_SHEET",
    "WINNER_COLUMNS",
    "ExportData",
    "build_workbook",
    "final_columns",
    "sheet_name",
    "write_workbook",
]

# Section markers of the Method sheet, read back by verify.
COMPONENTS_SECTION = "[components]"
CRITERIA_SECTION = "[criteria]"
QUOTAS_SECTION = "[group_quotas]"
TIES_SECTION = "[tie_decisions]"
OVERRIDES_SECTION = "[overrides]"
ACKNOWLEDGEMENTS_SECTION = "[acknowledgements]"
COMPONENT_COLUMNS = ["key", "kind", "weight", "aggregate", "trim", "normalise", "min_reviews"]
QUOTA_COLUMNS = ["group", "quota"]
TIE_COLUMNS = ["code", "award"]
OVERRIDE_COLUMNS = ["code", "action", "reason"]
ACKNOWLEDGEMENT_COLUMNS = ["code", "reason"]
NOT_FINALISED = "not finalised"

#: Facts of the Method sheet that belong to one export, not to the result: not hashed.
EXPORT_FACTS = ("exported_at", "exported_by", "snapshot_sha256")

#: The mark of an export taken before finalisation. Bilingual on purpose and the same in
#: every interface language: whoever holds the printout reads it, and verify recognises it.
NOT_FINAL_MARK = "未定稿 / NOT FINAL"
MARK_COLOR = "FFC00000"
TITLE_FONT = Font(bold=True, size=14)
MARK_FONT = Font(bold=True, size=14, color=MARK_COLOR)


def winner_headers(lang: str) -> list[str]:
    """The winners' sheets' headers as printed for readers of `lang`."""
    return [translate(f"stage.col_{column}", lang) for column in WINNER_COLUMNS]


def winner_header_keys() -> dict[str, str]:
    """Every printed winners' header, in any language (or the bare key), to its column key."""
    keys = {column: column for column in WINNER_COLUMNS}
    for lang in LANGUAGES:
        keys.update(zip(winner_headers(lang), WINNER_COLUMNS, strict=True))
    return keys


def _title(sheet: Worksheet, text: str, width: int, mark: bool) -> None:
    """Row 1 above the table, across its width (written after the widths are fitted)."""
    cell = put(sheet, 1, 1, text)
    cell.font = MARK_FONT if mark else TITLE_FONT
    if width > 1:
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.row_dimensions[1].height = 24


def print_text(value: str) -> str:
    """Data as text of a printed page's header: ``&`` starts a code there (``&D`` prints the
    date, ``&P`` the page number, ``&"font"`` changes the font), so each is doubled."""
    return value.replace("&", "&&")


def _mark_print_header(sheet: Worksheet, before: str = "") -> None:
    """The not-final mark in the centre of every printed page's header."""
    before = print_text(before)
    sheet.oddHeader.center.text = f"{before} · {NOT_FINAL_MARK}" if before else NOT_FINAL_MARK
    sheet.oddHeader.center.color = MARK_COLOR[2:]
    sheet.oddHeader.center.font = "-,Bold"


def _finish(sheet: Worksheet, columns: int, rows: int, header: int) -> None:
    """`finish_table` for a header on row `header` (below a title row)."""
    finish_table(sheet, columns, rows)
    if header > 1:
        sheet.freeze_panes = f"A{header + 1}"
        sheet.auto_filter.ref = (
            f"A{header}:{get_column_letter(columns)}{header + rows}" if rows else None
        )


def _final_sheet(sheet: Worksheet, final: Mapping[str, Any], header: int) -> None:
    columns, rows = final["columns"], final["rows"]
    write_table(sheet, columns, rows, start_row=header)
    award = columns.index("award")
    for offset, row in enumerate(rows, start=header + 1):
        if row[award] == YES:
            for cell in sheet[offset]:
                cell.fill = AWARD_FILL
    _finish(sheet, len(columns), len(rows), header)


def _winner_sheet(
    sheet: Worksheet,
    winners: Mapping[str, Any],
    campaign: str,
    group: str,
    day: str,
    lang: str,
    final: bool,
) -> None:
    """Title row (campaign, group, 获奖名单), then the winners under translated headers."""
    headers = [translate(f"stage.col_{c}", lang) for c in winners["columns"]]
    write_table(sheet, headers, winners["rows"], start_row=2)
    _finish(sheet, len(headers), len(winners["rows"]), 2)
    sheet.auto_filter.ref = None
    title = [campaign, group, translate("stage.winners", lang)]
    _title(
        sheet, " · ".join([*title, *([] if final else [NOT_FINAL_MARK])]), len(headers), not final
    )
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:2"
    sheet.print_options.horizontalCentered = True
    sheet.oddHeader.left.text = print_text(campaign)
    sheet.oddHeader.center.text = print_text(group)
    sheet.oddHeader.right.text = day
    sheet.oddFooter.center.text = "&P / &N"
    if not final:
        _mark_print_header(sheet, group)


def _table_sheet(sheet: Worksheet, part: Mapping[str, Any], header: int) -> None:
    write_table(sheet, part["columns"], part["rows"], start_row=header)
    _finish(sheet, len(part["columns"]), len(part["rows"]), header)


def _section(sheet: Worksheet, row: int, marker: str, headers: list[str], rows: list) -> int:
    cell = put(sheet, row, 1, marker)
    cell.font = HEADER_FONT
    return write_table(sheet, headers, rows, start_row=row + 1) + 1


def method_facts(content: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The key-value rows at the top of the Method sheet that the hash covers."""
    campaign, method = content["campaign"], content["method"]
    return [
        ("campaign", campaign["name"]),
        ("slug", campaign["slug"]),
        ("year", campaign["year"]),
        ("vote_group", method["vote_group"]),
        ("rank_group", method["rank_group"]),
        ("tie_break", ", ".join(method["tie_break"])),
        ("award_quota", method["award_quota"]),
    ]


def _method_sheet(
    sheet: Worksheet,
    content: Mapping[str, Any],
    exported_at: datetime,
    exported_by: str,
    snapshot_sha256: str | None,
    first: int,
) -> None:
    method = content["method"]
    facts = method_facts(content)
    facts[3:3] = [
        ("exported_at", exported_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("exported_by", exported_by),
        ("snapshot_sha256", snapshot_sha256 or NOT_FINALISED),
    ]
    for row, (key, value) in enumerate(facts, start=first):
        put(sheet, row, 1, key).font = HEADER_FONT
        put(sheet, row, 2, value)
    sections = [
        (
            COMPONENTS_SECTION,
            COMPONENT_COLUMNS,
            [[c[k] for k in COMPONENT_COLUMNS] for c in method["components"]],
        ),
        (CRITERIA_SECTION, content["criteria"]["columns"], content["criteria"]["rows"]),
        (QUOTAS_SECTION, QUOTA_COLUMNS, [[g, q] for g, q in method["group_quotas"].items()]),
        (TIES_SECTION, TIE_COLUMNS, [[c, bool(a)] for c, a in method["tie_decisions"].items()]),
        (
            OVERRIDES_SECTION,
            OVERRIDE_COLUMNS,
            [[o[k] for k in OVERRIDE_COLUMNS] for o in method["overrides"]],
        ),
        (
            ACKNOWLEDGEMENTS_SECTION,
            ACKNOWLEDGEMENT_COLUMNS,
            [[c, r] for c, r in content["acknowledgements"].items()],
        ),
    ]
    row = first + len(facts) + 1
    for marker, headers, rows in sections:
        row = _section(sheet, row, marker, headers, rows)
    fit_columns(sheet, maximum=70)


def write_workbook(
    content: Mapping[str, Any],
    *,
    exported_at: datetime,
    exported_by: str,
    snapshot_sha256: str | None,
    lang: str = DEFAULT_LANGUAGE,
) -> bytes:
    """The .xlsx bytes of a canonical export content, with this export's own facts.

    `lang` is the language of what is only read by people (the winners' sheets' titles and
    headers); everything `verify` recomputes keeps its keys.
    """
    final = snapshot_sha256 is not None
    header = 1 if final else 2  # below the not-final title row
    book = Workbook()
    final_list = book.active
    final_list.title = FINAL_SHEET
    _final_sheet(final_list, content["final"], header)
    campaign = str(content["campaign"]["name"])
    day = exported_at.strftime("%Y-%m-%d")
    groups = {w["sheet"]: w["group"] for w in winner_tables(content["final"])}
    for winners in content["winners"]:
        sheet = book.create_sheet(winners["sheet"])
        group = groups.get(winners["sheet"], "")
        _winner_sheet(sheet, winners, campaign, group, day, lang, final)
    _table_sheet(book.create_sheet(SCORES_SHEET), content["scores"], header)
    _table_sheet(book.create_sheet(VOTES_SHEET), content["votes"], header)
    _method_sheet(
        book.create_sheet(METHOD_SHEET), content, exported_at, exported_by, snapshot_sha256, header
    )
    _table_sheet(book.create_sheet(ORGANISATIONS_SHEET), content["organisations"], header)
    if not final:
        for sheet in book.worksheets:
            if sheet.title in FIXED_SHEETS:
                width = 2 if sheet.title == METHOD_SHEET else sheet.max_column
                _title(sheet, NOT_FINAL_MARK, width, mark=True)
                _mark_print_header(sheet)
    book.properties.title = campaign
    book.properties.creator = "ReviewDesk"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def build_workbook(data: ExportData, lang: str = DEFAULT_LANGUAGE) -> bytes:
    """The .xlsx bytes of the export, its winners' sheets for readers of `lang`."""
    return write_workbook(
        export_content(data),
        exported_at=data.exported_at,
        exported_by=data.exported_by,
        snapshot_sha256=data.snapshot_sha256,
        lang=lang,
    )
