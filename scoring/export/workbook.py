"""The export workbook, exactly the sheets of SPEC §5.5, styled to be printed and read.

`Final list` is the whole ranking; one sheet per ranking group with a winner lists the
winners in rank order, laid out for A4 landscape with the campaign's name and the date in
the page header; `Scores`, `Votes` and `Method` carry everything `reviewdesk verify` needs
to recompute `Final list`; `Organisations` feeds the 优秀组织奖.

Every sheet is written from the canonical content (`canonical.export_content`), the same
dict the finalised snapshot's SHA-256 is taken over, so what the file shows is what is hashed.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

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
from .cells import AWARD_FILL, HEADER_FILL, HEADER_FONT, finish_table, fit_columns, put, write_table

__all__ = [
    "CRITERIA_COLUMNS",
    "FINAL_LEADING",
    "FINAL_SHEET",
    "FINAL_TRAILING",
    "FIXED_SHEETS",
    "METHOD_SHEET",
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


def _final_sheet(sheet: Worksheet, final: Mapping[str, Any]) -> None:
    columns, rows = final["columns"], final["rows"]
    write_table(sheet, columns, rows)
    award = columns.index("award")
    for offset, row in enumerate(rows, start=2):
        if row[award] == YES:
            for cell in sheet[offset]:
                cell.fill = AWARD_FILL
    finish_table(sheet, len(columns), len(rows))


def _winner_sheet(
    sheet: Worksheet, winners: Mapping[str, Any], campaign: str, group: str, day: str
) -> None:
    write_table(sheet, winners["columns"], winners["rows"])
    finish_table(sheet, len(winners["columns"]), len(winners["rows"]))
    sheet.auto_filter.ref = None
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.horizontalCentered = True
    sheet.oddHeader.left.text = campaign
    sheet.oddHeader.center.text = group
    sheet.oddHeader.right.text = day
    sheet.oddFooter.center.text = "&P / &N"


def _table_sheet(sheet: Worksheet, part: Mapping[str, Any]) -> None:
    write_table(sheet, part["columns"], part["rows"])
    finish_table(sheet, len(part["columns"]), len(part["rows"]))


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
) -> None:
    method = content["method"]
    facts = method_facts(content)
    facts[3:3] = [
        ("exported_at", exported_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("exported_by", exported_by),
        ("snapshot_sha256", snapshot_sha256 or NOT_FINALISED),
    ]
    for row, (key, value) in enumerate(facts, start=1):
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
    row = len(facts) + 2
    for marker, headers, rows in sections:
        row = _section(sheet, row, marker, headers, rows)
    fit_columns(sheet, maximum=70)


def write_workbook(
    content: Mapping[str, Any],
    *,
    exported_at: datetime,
    exported_by: str,
    snapshot_sha256: str | None,
) -> bytes:
    """The .xlsx bytes of a canonical export content, with this export's own facts."""
    book = Workbook()
    final = book.active
    final.title = FINAL_SHEET
    _final_sheet(final, content["final"])
    campaign = str(content["campaign"]["name"])
    day = exported_at.strftime("%Y-%m-%d")
    groups = {w["sheet"]: w["group"] for w in winner_tables(content["final"])}
    for winners in content["winners"]:
        sheet = book.create_sheet(winners["sheet"])
        _winner_sheet(sheet, winners, campaign, groups.get(winners["sheet"], ""), day)
    _table_sheet(book.create_sheet(SCORES_SHEET), content["scores"])
    _table_sheet(book.create_sheet(VOTES_SHEET), content["votes"])
    _method_sheet(
        book.create_sheet(METHOD_SHEET), content, exported_at, exported_by, snapshot_sha256
    )
    _table_sheet(book.create_sheet(ORGANISATIONS_SHEET), content["organisations"])
    for sheet in book.worksheets:
        for cell in sheet[1]:
            if cell.value is not None and sheet.title != METHOD_SHEET:
                cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    book.properties.title = campaign
    book.properties.creator = "ReviewDesk"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def build_workbook(data: ExportData) -> bytes:
    """The .xlsx bytes of the export."""
    return write_workbook(
        export_content(data),
        exported_at=data.exported_at,
        exported_by=data.exported_by,
        snapshot_sha256=data.snapshot_sha256,
    )
