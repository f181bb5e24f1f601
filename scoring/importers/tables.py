"""Reading a workbook or CSV the way Chinese office software writes them.

CSV may be UTF-8 with or without BOM, or GB18030/GBK; headers are matched case-insensitively
in English or Chinese. Every cell is read as text so that codes like ``007`` keep their zeros.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scoring.errors import ValidationFailed
from scoring.importers.report import Report

ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Column:
    """A column an importer understands, with its Chinese and English aliases."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False


def _read_csv(data: bytes) -> pd.DataFrame:
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    raise ValidationFailed("import.bad_encoding")


def read_table(path: Path, data: bytes | None = None, sheet: str | int = 0) -> pd.DataFrame:
    """All cells as stripped strings ('' for empty), header row as given."""
    suffix = path.suffix.lower()
    if data is None:
        if not path.exists():
            raise ValidationFailed("import.no_file", path=str(path))
        data = path.read_bytes()
    try:
        if suffix == ".csv":
            frame = _read_csv(data)
        elif suffix in {".xlsx", ".xlsm"}:
            frame = pd.read_excel(io.BytesIO(data), sheet_name=sheet, dtype=str, engine="openpyxl")
            frame = frame.fillna("")
        else:
            raise ValidationFailed("import.bad_format", name=path.name)
    except ValidationFailed:
        raise
    except Exception as error:  # a corrupt workbook: say so, in one line
        raise ValidationFailed("import.unreadable", name=path.name, detail=str(error)) from error
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda column: column.map(lambda v: str(v).strip()))


def map_columns(frame: pd.DataFrame, columns: list[Column], report: Report) -> pd.DataFrame:
    """Rename recognised headers to their canonical names; report missing required ones."""
    lookup: dict[str, str] = {}
    for column in columns:
        for alias in (column.name, *column.aliases):
            lookup[alias.casefold()] = column.name
    renamed: dict[str, str] = {}
    for header in frame.columns:
        canonical = lookup.get(header.casefold())
        if canonical is None:
            report.warn("import.unknown_column", column=header)
        elif canonical in renamed.values():
            report.add("import.duplicate_column", column=header)
        else:
            renamed[header] = canonical
    mapped = frame[list(renamed)].rename(columns=renamed)
    for column in columns:
        if column.name not in mapped.columns:
            if column.required:
                report.add(
                    "import.missing_column", column=column.name, aliases=" / ".join(column.aliases)
                )
            mapped[column.name] = ""
    return mapped


def rows(frame: pd.DataFrame):
    """Rows with their spreadsheet row numbers (the header is row 1)."""
    yield from enumerate(frame.to_dict("records"), start=2)


def split_names(cell: str) -> list[str]:
    """File names separated by ``;`` or the full-width ``；``."""
    return [part.strip() for part in cell.replace("；", ";").split(";") if part.strip()]
