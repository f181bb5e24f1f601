"""The export workbook, exactly the sheets of SPEC §5.5, styled to be printed and read.

`Final list` is the whole ranking; one sheet per ranking group with a winner lists the
winners in rank order, laid out for A4 landscape with the campaign's name and the date in
the page header; `Scores`, `Votes` and `Method` carry everything `reviewdesk verify` needs
to recompute `Final list`; `Organisations` feeds the 优秀组织奖.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from scoring.engine import Method

from .cells import AWARD_FILL, HEADER_FILL, HEADER_FONT, finish_table, fit_columns, put, write_table

FINAL_SHEET = "Final list"
SCORES_SHEET = "Scores"
VOTES_SHEET = "Votes"
METHOD_SHEET = "Method"
ORGANISATIONS_SHEET = "Organisations"
FIXED_SHEETS = (FINAL_SHEET, SCORES_SHEET, VOTES_SHEET, METHOD_SHEET, ORGANISATIONS_SHEET)

FINAL_LEADING = ["group", "rank", "code", "title", "applicant", "recommender", "category", "domain"]
FINAL_TRAILING = ["composite", "award", "tie", "provisional", "override_reason"]
SCORES_COLUMNS = ["panel", "reviewer", "code", "criterion", "score", "total"]
WINNER_COLUMNS = [
    "rank",
    "code",
    "title",
    "applicant",
    "recommender",
    "composite",
    "override_reason",
]
ORGANISATION_COLUMNS = ["recommender", "recommended", "shortlisted", "awarded", "mean_composite"]

# Section markers of the Method sheet, read back by verify.
COMPONENTS_SECTION = "[components]"
CRITERIA_SECTION = "[criteria]"
QUOTAS_SECTION = "[group_quotas]"
TIES_SECTION = "[tie_decisions]"
OVERRIDES_SECTION = "[overrides]"


@dataclass(frozen=True)
class ExportData:
    """Everything the workbook shows, already read and computed.

    `final` has the Final list columns (component keys between `domain` and `composite`),
    in group then rank order; `scores` the counted rubric scores; `criteria` panel,
    criterion, name, max_points, step.
    """

    campaign_name: str
    campaign_slug: str
    year: int
    method: Method
    final: pd.DataFrame
    scores: pd.DataFrame
    votes: pd.DataFrame
    criteria: pd.DataFrame
    organisations: pd.DataFrame
    exported_at: datetime
    exported_by: str
    snapshot_sha256: str | None


def final_columns(method: Method) -> list[str]:
    return [*FINAL_LEADING, *(c.key for c in method.components), *FINAL_TRAILING]


def _final_sheet(sheet: Worksheet, data: ExportData) -> None:
    columns = final_columns(data.method)
    rows = data.final[columns].astype(object).where(data.final[columns].notna(), None)
    write_table(sheet, columns, rows.values.tolist())
    for offset, award in enumerate(data.final["award"], start=2):
        if bool(award):
            for cell in sheet[offset]:
                cell.fill = AWARD_FILL
    finish_table(sheet, len(columns), len(rows))


_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(label: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (31 characters, no []:*?/\\) for a group label."""
    base = _SHEET_NAME_BAD.sub("-", label).strip("'") or "group"
    base = base[:31]
    name, number = base, 2
    while name.casefold() in {t.casefold() for t in taken}:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name)
    return name


def _winner_sheet(sheet: Worksheet, data: ExportData, group: str, winners: pd.DataFrame) -> None:
    rows = winners[WINNER_COLUMNS].astype(object).where(winners[WINNER_COLUMNS].notna(), None)
    write_table(sheet, WINNER_COLUMNS, rows.values.tolist())
    finish_table(sheet, len(WINNER_COLUMNS), len(rows))
    sheet.auto_filter.ref = None
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.horizontalCentered = True
    sheet.oddHeader.left.text = data.campaign_name
    sheet.oddHeader.center.text = group
    sheet.oddHeader.right.text = data.exported_at.strftime("%Y-%m-%d")
    sheet.oddFooter.center.text = "&P / &N"


def _scores_sheet(sheet: Worksheet, data: ExportData) -> None:
    rows = data.scores[SCORES_COLUMNS].values.tolist()
    write_table(sheet, SCORES_COLUMNS, rows)
    finish_table(sheet, len(SCORES_COLUMNS), len(rows))


def _votes_sheet(sheet: Worksheet, data: ExportData) -> None:
    rows = [
        [str(c), None if pd.isna(v) else int(v)]  # an empty cell: no tally was imported
        for c, v in zip(data.votes["code"], data.votes["votes"], strict=True)
    ]
    write_table(sheet, ["code", "votes"], rows)
    finish_table(sheet, 2, len(rows))


def _section(sheet: Worksheet, row: int, marker: str, headers: list[str], rows: list) -> int:
    cell = put(sheet, row, 1, marker)
    cell.font = HEADER_FONT
    return write_table(sheet, headers, rows, start_row=row + 1) + 1


def _method_sheet(sheet: Worksheet, data: ExportData) -> None:
    method = data.method
    facts = [
        ("campaign", data.campaign_name),
        ("slug", data.campaign_slug),
        ("year", data.year),
        ("exported_at", data.exported_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("exported_by", data.exported_by),
        ("snapshot_sha256", data.snapshot_sha256 or "not finalised"),
        ("vote_group", method.vote_group),
        ("rank_group", method.rank_group),
        ("tie_break", ", ".join(method.tie_break)),
        ("award_quota", method.award_quota),
    ]
    for row, (key, value) in enumerate(facts, start=1):
        put(sheet, row, 1, key).font = HEADER_FONT
        put(sheet, row, 2, value)
    row = len(facts) + 2
    row = _section(
        sheet,
        row,
        COMPONENTS_SECTION,
        ["key", "kind", "weight", "aggregate", "trim", "normalise", "min_reviews"],
        [
            [c.key, c.kind, c.weight, c.aggregate, c.trim, c.normalise, c.min_reviews]
            for c in method.components
        ],
    )
    row = _section(
        sheet,
        row,
        CRITERIA_SECTION,
        ["panel", "criterion", "name", "max_points", "step"],
        data.criteria[["panel", "criterion", "name", "max_points", "step"]].values.tolist(),
    )
    row = _section(
        sheet,
        row,
        QUOTAS_SECTION,
        ["group", "quota"],
        [[g, q] for g, q in sorted(method.group_quotas.items())],
    )
    row = _section(
        sheet,
        row,
        TIES_SECTION,
        ["code", "award"],
        [[c, bool(a)] for c, a in sorted(method.tie_decisions.items())],
    )
    _section(
        sheet,
        row,
        OVERRIDES_SECTION,
        ["code", "action", "reason"],
        [[o.code, o.action, o.reason] for o in sorted(method.overrides, key=lambda o: o.code)],
    )
    fit_columns(sheet, maximum=70)


def _organisations_sheet(sheet: Worksheet, data: ExportData) -> None:
    frame = data.organisations[ORGANISATION_COLUMNS]
    rows = frame.astype(object).where(frame.notna(), None).values.tolist()
    write_table(sheet, ORGANISATION_COLUMNS, rows)
    finish_table(sheet, len(ORGANISATION_COLUMNS), len(rows))


def build_workbook(data: ExportData) -> bytes:
    """The .xlsx bytes of the export."""
    book = Workbook()
    final = book.active
    final.title = FINAL_SHEET
    _final_sheet(final, data)
    taken = set(FIXED_SHEETS)
    winners = data.final[data.final["award"].astype(bool)]
    for group, rows in winners.groupby("group", sort=False):
        _winner_sheet(book.create_sheet(sheet_name(str(group), taken)), data, str(group), rows)
    _scores_sheet(book.create_sheet(SCORES_SHEET), data)
    _votes_sheet(book.create_sheet(VOTES_SHEET), data)
    _method_sheet(book.create_sheet(METHOD_SHEET), data)
    _organisations_sheet(book.create_sheet(ORGANISATIONS_SHEET), data)
    for sheet in book.worksheets:
        for cell in sheet[1]:
            if cell.value is not None and sheet.title != METHOD_SHEET:
                cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    book.properties.title = data.campaign_name
    book.properties.creator = "ReviewDesk"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
