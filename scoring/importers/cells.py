"""What a cell may hold: the one home of the code, count, number and text rules.

Every importer (and any page that takes the same values) calls these, so a value refused by
one is refused by all, on SQLite and PostgreSQL alike. The limits come from the database
columns themselves (``Entry.code`` is ``VARCHAR(40)``), so a value that passes is one the
database stores as given: SQLite would keep an over-long or NUL-bearing value silently and
PostgreSQL would raise mid-transaction with a traceback instead of a reason.

Each check returns ``None`` or ``(catalogue key, params)`` for ``Report.add``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlmodel import SQLModel

Problem = tuple[str, dict[str, Any]]

MAX_COUNT = 2_147_483_647
"""The largest PostgreSQL INTEGER: a tally above it cannot be stored there."""
MAX_TEXT = 10_000
"""Free text (summary, comment) is stored as TEXT; 10,000 characters is several pages."""
FORMULA_PREFIXES = ("=", "+", "-", "@")
"""What makes a spreadsheet run a cell as a formula (SPEC §5.5 escapes them on export; a
code is also typed into search boxes and file names, so it must never start with one)."""
SHOWN = 40
"""How much of a bad value a message repeats: a 1 MB cell must not become a 1 MB message."""

_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９，．", "0123456789,.")
_ASCII_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
_LINE_BREAKS = "\t\n\r"


def column_length(model: type[SQLModel], name: str) -> int | None:
    """The VARCHAR length of a table column (None for TEXT): the limit lives in the model."""
    return getattr(model.__table__.c[name].type, "length", None)  # type: ignore[attr-defined]


def shown(value: str) -> str:
    """A value safe to repeat in a message: short, control characters as '?'."""
    clean = "".join("?" if unicodedata.category(c) == "Cc" else c for c in value)
    return clean if len(clean) <= SHOWN else clean[:SHOWN] + "…"


def _control_character(value: str, allowed: str = "") -> str | None:
    for character in value:
        if unicodedata.category(character) == "Cc" and character not in allowed:
            return f"U+{ord(character):04X}"
    return None


def code_problem(code: str, maximum: int = 40) -> Problem | None:
    """An entry code: at most ``maximum`` characters, no control character, no formula prefix."""
    if len(code) > maximum:
        return "imports.code_too_long", {"length": len(code), "maximum": maximum}
    if found := _control_character(code):
        return "imports.control_character", {"found": found}
    if code.startswith(FORMULA_PREFIXES):
        return "imports.code_formula", {"value": shown(code), "first": code[0]}
    return None


def text_problem(value: str, maximum: int | None, *, multiline: bool = False) -> Problem | None:
    """Free text: within its column's length, no NUL or other control characters.

    Tabs and line breaks are kept only in multi-line fields (summary, comment). Other control
    characters cannot be stored by PostgreSQL (NUL) or written to an xlsx export (the rest).
    """
    limit = maximum if maximum is not None else MAX_TEXT
    if len(value) > limit:
        return "import.too_long", {"maximum": limit}
    if found := _control_character(value, _LINE_BREAKS if multiline else ""):
        return "imports.control_character", {"found": found}
    return None


def parse_count(cell: str) -> int | Problem:
    """A whole number 0..MAX_COUNT, or the problem with it.

    Only ASCII digits count, with ``,`` thousands separators allowed. Full-width digits
    (``１２３``, typed with a Chinese input method left in full-width mode) are normalised on
    purpose; every other character that ``str.isdigit`` accepts (``²``, Arabic-Indic digits)
    is refused, since no tally is written that way.
    """
    text = cell.translate(_FULL_WIDTH_DIGITS).replace(",", "").strip()
    if not _ASCII_DIGITS.fullmatch(text):
        return "import.bad_count", {"value": shown(cell)}
    if len(text.lstrip("0")) > len(str(MAX_COUNT)) or int(text) > MAX_COUNT:
        return "imports.count_too_large", {"value": shown(cell), "maximum": f"{MAX_COUNT:,}"}
    return int(text)


def parse_points(cell: str) -> float | None:
    """A plain decimal (``8``, ``8.5``, full-width digits normalised), else None.

    ``float()`` would also take ``nan``, ``inf``, ``1e3`` and non-ASCII digits; a range check
    cannot catch ``nan`` (every comparison with it is false), so those are refused here.
    """
    text = cell.translate(_FULL_WIDTH_DIGITS).strip()
    if len(text) > 20 or not _DECIMAL.fullmatch(text):
        return None
    return float(text)
