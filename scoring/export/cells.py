"""Writing cells safely and readably: numbers as numbers, text never run as a formula.

One home for both kinds of file a spreadsheet opens: `put` for the .xlsx export, `csv_text`
and `csv_frame` for every CSV the product writes (the audit log, `reviewdesk standings`).
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

import pandas as pd
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

#: Text starting with one of these is a formula (or a DDE trigger) to a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: What a CSV text cell that would start a formula (or with this quote) is prefixed with.
CSV_QUOTE = "'"
DECIMALS = 4
NUMBER_FORMAT = "0.0000"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="FFE8EAED")
AWARD_FILL = PatternFill("solid", fgColor="FFE6F4EA")


def put(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write one value: floats rounded to 4 decimals, text kept as text whatever it starts with.

    A title like ``=HYPERLINK(...)`` or ``+1+1`` from an applicant's workbook is stored as a
    string cell with the quote prefix set, so Excel, WPS and LibreOffice show it and never
    evaluate it.
    """
    cell = sheet.cell(row=row, column=column)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        cell.value = None
    elif isinstance(value, bool):
        cell.value = "yes" if value else "no"
    elif isinstance(value, int):
        cell.value = value
    elif isinstance(value, float):
        cell.value = round(value, DECIMALS)
        cell.number_format = NUMBER_FORMAT
    else:
        text = str(value)
        cell.value = text
        cell.data_type = "s"
        if text.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True
    return cell


def csv_text(text: str) -> str:
    """A text cell of a CSV file, shown by a spreadsheet as text and never run as a formula.

    A CSV cell has no type, so a title like ``=HYPERLINK(...)`` would be a live link in Excel
    or WPS: it is prefixed with a single quote, the usual defence. A text that starts with a
    quote is prefixed too, so the rule can be undone: drop one leading quote from any text
    cell that has one. Only text goes through here; a number (-3) is written as it is.
    """
    if text.startswith((*FORMULA_TRIGGERS, CSV_QUOTE)):
        return CSV_QUOTE + text
    return text


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with `csv_text` applied to each text value, for ``to_csv``."""
    out = frame.copy()
    for column in frame.select_dtypes(include=["object", "string"]).columns:
        out[column] = frame[column].map(lambda v: csv_text(v) if isinstance(v, str) else v)
    return out


def display_width(value: Any) -> int:
    """Columns needed to show a value: CJK characters take two."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_table(
    sheet: Worksheet, headers: list[str], rows: list[list[Any]], start_row: int = 1
) -> int:
    """A header row and the rows below it; returns the next free row."""
    for column, header in enumerate(headers, start=1):
        cell = put(sheet, start_row, column, header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    for offset, values in enumerate(rows, start=1):
        for column, value in enumerate(values, start=1):
            put(sheet, start_row + offset, column, value)
    return start_row + len(rows) + 1


def fit_columns(sheet: Worksheet, minimum: int = 6, maximum: int = 60) -> None:
    """Widths that fit the longest value of each column, Chinese text included."""
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            shown = f"{cell.value:.4f}" if isinstance(cell.value, float) else cell.value
            widths[cell.column] = max(widths.get(cell.column, 0), display_width(shown))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(
            max(width + 2, minimum), maximum
        )


def finish_table(sheet: Worksheet, columns: int, rows: int) -> None:
    """Frozen header, a filter on it, and fitted widths."""
    sheet.freeze_panes = "A2"
    if rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{rows + 1}"
    fit_columns(sheet)
