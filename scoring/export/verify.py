"""`reviewdesk verify`: check an export file against itself, its hash, and the stored result.

A workbook travels by e-mail and USB stick before the press event. Verification takes only
the file and checks, in this order of trust:

1. every sheet agrees with `Scores`, `Votes` and `Method`: `Final list` is recomputed by the
   same engine (from the `votes` column of `Votes`, the tally the standings rank on), each
   reviewer's total from the rubric, each tally from its parts (imported figure plus public
   votes counted, and the source they make), the winners' sheets are the Final list's
   winners in announcement order, `Organisations` is recounted from the Final list, and no
   cell holds a formula;
2. the SHA-256 of the canonical content rebuilt from the file's own sheets (see
   `canonical.py`) equals the Method sheet's `snapshot_sha256`. A consistent forgery can
   recompute that too (a ghost reviewer scoring the panel mean changes no figure), so:
3. with a published hash (`--sha`, from the announcement or a certificate) or the
   stored snapshot (`--db`, on the server), the file is bound to the frozen result itself.

A file exported before finalising has no snapshot: it is consistent or not, but nothing binds
its scores and reviewers to a frozen result, and the report says so; each of its sheets must
still carry the not-final mark in its title row, or it could pass for the result on paper.

Title rows and the winners' translated headers are presentation: a title row is skipped and
a header in either interface language is read back as its column key before hashing.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from scoring.engine import compute_standings, counted_totals, method_from_dict, method_to_dict
from scoring.i18n import translate

from .canonical import (
    FINAL_FLAGS,
    FINAL_SHEET,
    FINAL_TRAILING,
    FIXED_SHEETS,
    METHOD_SHEET,
    ORGANISATIONS_SHEET,
    SCORES_SHEET,
    VOTES_COLUMNS,
    VOTES_RANKED,
    VOTES_SHEET,
    YES,
    cell,
    content_sha256,
    plain,
    vote_source,
    winner_tables,
)
from .cells import DECIMALS
from .organisations import NO_RECOMMENDER, organisations
from .workbook import (
    ACKNOWLEDGEMENTS_SECTION,
    COMPONENTS_SECTION,
    CRITERIA_SECTION,
    EXPORT_FACTS,
    NOT_FINAL_MARK,
    NOT_FINALISED,
    OVERRIDES_SECTION,
    QUOTAS_SECTION,
    TIES_SECTION,
    winner_header_keys,
)

SHA256 = re.compile(r"^[0-9a-f]{64}$")
METHOD_FACTS = ("campaign", "slug", "year", "vote_group", "rank_group", "tie_break", "award_quota")
SECTIONS = (
    COMPONENTS_SECTION,
    CRITERIA_SECTION,
    QUOTAS_SECTION,
    TIES_SECTION,
    OVERRIDES_SECTION,
    ACKNOWLEDGEMENTS_SECTION,
)
#: How far a mean of 4-decimal composites may be from the 4-decimal mean of exact ones.
MEAN_TOLERANCE = 1.5 * 10**-DECIMALS
#: Where the expected value of a difference comes from (a catalogue key each).
AGAINST = ("recomputed", "final_list", "published", "database")


@dataclass(frozen=True)
class Difference:
    """One disagreement between the file and what it is checked against."""

    sheet: str
    row: int | None
    code: str
    column: str
    in_file: Any
    recomputed: Any
    against: str = "recomputed"

    def message(self, lang: str = "en") -> str:
        """The difference as one line in the reader's language."""
        where = (
            translate("verify.where_row", lang, sheet=self.sheet, row=self.row)
            if self.row
            else self.sheet
        )
        return translate(
            "verify.difference" if self.code else "verify.difference_no_code",
            lang,
            where=where,
            code=self.code,
            column=self.column,
            in_file=repr(self.in_file),
            against=translate(f"verify.against_{self.against}", lang),
            expected=repr(self.recomputed),
        )

    def __str__(self) -> str:
        return self.message("en")


class UnreadableExport(ValueError):
    """The file is not a ReviewDesk export (a sheet or section is missing or malformed)."""


@dataclass(frozen=True)
class ExportFile:
    """An export as read back: its canonical content and what it says about itself."""

    content: dict[str, Any]
    snapshot_sha256: str | None
    """The Method sheet's hash; None when the file says it was exported before finalising."""
    problems: list[Difference]
    """What is wrong with the file as written (formula cells, stray cells or rows)."""
    titles: dict[str, str | None] = field(default_factory=dict)
    """Each sheet's title row (None: the sheet has none)."""
    header_rows: dict[str, int] = field(default_factory=dict)
    """The row number of each table's header (2 under a title row)."""

    @property
    def sha256(self) -> str:
        """The SHA-256 recomputed from the file's own sheets."""
        return content_sha256(self.content)

    @property
    def slug(self) -> str:
        return str(self.content["campaign"]["slug"])


@dataclass(frozen=True)
class Verification:
    """The outcome: every difference found, and what the file is bound to."""

    recomputed_sha256: str
    file_sha256: str | None
    differences: list[Difference] = field(default_factory=list)

    @property
    def bound(self) -> bool:
        """Whether the file claims a frozen result (it has a snapshot hash)."""
        return self.file_sha256 is not None

    @property
    def passed(self) -> bool:
        return not self.differences


# --- reading the file -------------------------------------------------------------------


def _value(raw: Any) -> Any:
    """A cell as the canonical content takes it (a typed-in date stays visible as text)."""
    if isinstance(raw, datetime | date | time):
        return raw.isoformat()
    return cell(raw)


def _grid(sheet, problems: list[Difference]) -> list[list[Any]]:
    """Every row of a sheet as canonical values; a formula cell is a problem, not a value."""
    rows: list[list[Any]] = []
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        values = []
        for item in cells:
            if getattr(item, "data_type", None) == "f":
                problems.append(
                    Difference(sheet.title, number, "", "formula", item.value, None, "recomputed")
                )
            values.append(_value(item.value))
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    return rows


def _table(title: str, rows: list[list[Any]], first: int, problems: list[Difference]) -> dict:
    """A header row and the non-empty rows below it; `first` is the header's row number."""
    if not rows or not rows[0]:
        return {"columns": [], "rows": []}
    columns = ["" if h is None else str(h) for h in rows[0]]
    body = []
    for offset, row in enumerate(rows[1:], start=first + 1):
        if not row:
            continue
        if len(row) > len(columns):
            problems.append(Difference(title, offset, "", "column", row[len(columns)], None))
        body.append(row[: len(columns)] + [None] * (len(columns) - len(row)))
    return {"columns": columns, "rows": body}


def _title_of(rows: list[list[Any]], keys: tuple[str, ...] = ()) -> str | None:
    """The text of a title row above a table: one text cell alone in row 1.

    No table's header is a single cell, and no Method fact or section marker is a title.
    """
    if not rows or len(rows[0]) != 1 or not isinstance(rows[0][0], str):
        return None
    text = rows[0][0]
    return None if text in keys or text.startswith("[") else text


def _sheet_table(
    book, name: str, problems: list[Difference], titles: dict, header_rows: dict
) -> dict:
    """A table sheet below its title row, if it has one."""
    rows = _grid(book[name], problems)
    titles[name] = _title_of(rows)
    first = 1 if titles[name] is None else 2
    header_rows[name] = first
    return _table(name, rows[first - 1 :], first, problems)


def _winner_table(
    book, name: str, problems: list[Difference], titles: dict, header_rows: dict
) -> dict:
    """A winners' sheet, its headers (in whichever language they were printed) as keys."""
    part = _sheet_table(book, name, problems, titles, header_rows)
    keys = winner_header_keys()
    return {**part, "columns": [keys.get(c, c) for c in part["columns"]]}


def _records(part: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(part["columns"], row, strict=True)) for row in part["rows"]]


def _flag(value: Any, where: str) -> bool:
    if value not in ("yes", "no"):
        raise UnreadableExport(f"{where}: expected yes or no, found {value!r}")
    return value == YES


def _method_sheet(rows: list[list[Any]], problems: list[Difference]) -> tuple[dict, dict, str]:
    """(facts, sections, the hash cell) of the Method sheet, unknown rows reported."""
    facts: dict[str, Any] = {}
    sections: dict[str, dict] = {}
    index = 0
    while index < len(rows) and not str((rows[index] or [None])[0] or "").startswith("["):
        row = rows[index] + [None, None]
        if row[0] is not None:
            key = str(row[0])
            if key not in (*METHOD_FACTS, *EXPORT_FACTS) or key in facts or len(rows[index]) > 2:
                problems.append(Difference(METHOD_SHEET, index + 1, "", key, row[1], None))
            facts[key] = row[1]
        index += 1
    while index < len(rows):
        marker = str((rows[index] or [None])[0] or "")
        if not marker:
            index += 1
            continue
        start = index + 1
        index = start
        while index < len(rows) and rows[index]:
            index += 1
        if marker not in SECTIONS or marker in sections:
            problems.append(Difference(METHOD_SHEET, start, "", "section", marker, None))
            continue
        sections[marker] = _table(METHOD_SHEET, rows[start:index], start + 1, problems)
    missing = [k for k in METHOD_FACTS if k not in facts] + [
        m for m in (COMPONENTS_SECTION, CRITERIA_SECTION) if m not in sections
    ]
    if missing:
        raise UnreadableExport(f"{METHOD_SHEET} sheet has no {', '.join(missing)}")
    return facts, sections, str(facts.get("snapshot_sha256") or "")


def _method(facts: dict[str, Any], sections: dict[str, dict]) -> dict[str, Any]:
    """The method dict in the shape `method_to_dict` gives, checked by the Method itself."""
    empty = {"columns": [], "rows": []}
    tie_break = str(facts["tie_break"] or "")
    data = {
        "components": _records(sections[COMPONENTS_SECTION]),
        "vote_group": facts["vote_group"],
        "rank_group": facts["rank_group"],
        "tie_break": [k.strip() for k in tie_break.split(",") if k.strip()],
        "award_quota": facts["award_quota"],
        "group_quotas": {
            str(r["group"]): r["quota"] for r in _records(sections.get(QUOTAS_SECTION, empty))
        },
        "tie_decisions": {
            str(r["code"]): _flag(r["award"], TIES_SECTION)
            for r in _records(sections.get(TIES_SECTION, empty))
        },
        "overrides": _records(sections.get(OVERRIDES_SECTION, empty)),
    }
    try:
        return plain(method_to_dict(method_from_dict(data)))
    except (KeyError, TypeError, ValueError) as exc:
        raise UnreadableExport(f"{METHOD_SHEET} sheet: {exc}") from exc


def read_export(source: Path | bytes) -> ExportFile:
    """The canonical content rebuilt from the file's own sheets, and the file's problems."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a non-workbook
        raise UnreadableExport(f"not an .xlsx workbook: {exc}") from exc
    for name in FIXED_SHEETS:
        if name not in book.sheetnames:
            raise UnreadableExport(f"the workbook has no {name!r} sheet")
    problems: list[Difference] = []
    titles: dict[str, str | None] = {}
    header_rows: dict[str, int] = {}
    method_rows = _grid(book[METHOD_SHEET], problems)
    titles[METHOD_SHEET] = _title_of(method_rows, (*METHOD_FACTS, *EXPORT_FACTS))
    if titles[METHOD_SHEET] is not None:
        method_rows[0] = []  # read as a blank row, so every row keeps its number
    facts, sections, sha = _method_sheet(method_rows, problems)
    tables = (problems, titles, header_rows)
    empty = {"columns": [], "rows": []}
    acknowledgements = sections.get(ACKNOWLEDGEMENTS_SECTION, empty)
    content = {
        "campaign": plain(
            {"slug": facts["slug"], "name": facts["campaign"], "year": facts["year"]}
        ),
        "method": _method(facts, sections),
        "criteria": sections[CRITERIA_SECTION],
        "acknowledgements": {str(r["code"]): r["reason"] for r in _records(acknowledgements)},
        "final": _sheet_table(book, FINAL_SHEET, *tables),
        "winners": [
            {"sheet": name, **_winner_table(book, name, *tables)}
            for name in book.sheetnames
            if name not in FIXED_SHEETS
        ],
        "scores": _sheet_table(book, SCORES_SHEET, *tables),
        "votes": _sheet_table(book, VOTES_SHEET, *tables),
        "organisations": _sheet_table(book, ORGANISATIONS_SHEET, *tables),
    }
    book.close()
    return ExportFile(
        content=content,
        snapshot_sha256=None if sha == NOT_FINALISED else sha,
        problems=problems,
        titles=titles,
        header_rows=header_rows,
    )


# --- consistency of the sheets ----------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Equal as the workbook shows them: numbers to 4 decimals, text exactly."""
    if isinstance(b, float) and math.isnan(b):
        b = None
    if a is None or b is None:
        return a is None and b is None
    if isinstance(b, float) or isinstance(a, float):
        try:
            return abs(float(a) - round(float(b), DECIMALS)) < 10 ** -(DECIMALS + 1)
        except (TypeError, ValueError):
            return False
    return a == b


def _shown(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, DECIMALS)
    return value


def _need(part: dict, columns: list[str], sheet: str) -> None:
    absent = [c for c in columns if c not in part["columns"]]
    if absent:
        raise UnreadableExport(f"the {sheet!r} sheet has no column {', '.join(absent)}")


def _engine_inputs(content: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(entries, scores, criteria) for the engine, from the file's sheets."""
    final, votes, scores = content["final"], content["votes"], content["scores"]
    _need(final, ["code", "title", "category", "domain"], FINAL_SHEET)
    _need(votes, ["code", "votes"], VOTES_SHEET)
    _need(scores, ["panel", "reviewer", "code", "criterion", "score"], SCORES_SHEET)
    tally = {str(r["code"]): r["votes"] for r in _records(votes)}
    rows = _records(final)
    entries = pd.DataFrame(
        {
            "code": [str(r["code"]) for r in rows],
            "title": [str(r["title"]) for r in rows],
            "category": [str(r["category"]) for r in rows],
            "domain": [str(r["domain"]) for r in rows],
            "votes": [
                float("nan") if tally.get(str(r["code"])) is None else float(tally[str(r["code"])])
                for r in rows
            ],
        }
    )
    score_rows = _records(scores)
    score_frame = pd.DataFrame(
        {
            "panel": pd.Series([str(r["panel"]) for r in score_rows], dtype=object),
            "reviewer": pd.Series([str(r["reviewer"]) for r in score_rows], dtype=object),
            "code": pd.Series([str(r["code"]) for r in score_rows], dtype=object),
            "criterion": pd.Series([str(r["criterion"]) for r in score_rows], dtype=object),
            "score": pd.Series([r["score"] for r in score_rows], dtype="float64"),
            "status": "submitted",
        }
    )
    criteria = _records(content["criteria"])
    criteria_frame = pd.DataFrame(
        {
            "panel": pd.Series([str(r["panel"]) for r in criteria], dtype=object),
            "criterion": pd.Series([str(r["criterion"]) for r in criteria], dtype=object),
            "max_points": pd.Series([r["max_points"] for r in criteria], dtype="float64"),
        }
    )
    return entries, score_frame, criteria_frame


def _final_differences(content: dict) -> list[Difference]:
    """Every cell of Final list that its recomputation from Scores, Votes and Method changes."""
    method = method_from_dict(content["method"])
    entries, scores, criteria = _engine_inputs(content)
    try:
        recomputed = compute_standings(entries, scores, criteria, method).set_index("code")
        totals = counted_totals(entries, scores, criteria, method)
    except ValueError as exc:
        raise UnreadableExport(f"cannot recompute: {exc}") from exc
    differences: list[Difference] = []
    keys = [c.key for c in method.components]
    compared = ["group", "rank", *keys, *[c for c in FINAL_TRAILING if c != "override_reason"]]
    seen: set[str] = set()
    for offset, row in enumerate(_records(content["final"]), start=2):
        code = str(row["code"])
        if code in seen:
            differences.append(Difference(FINAL_SHEET, offset, code, "code", code, None))
            continue
        seen.add(code)
        expected = recomputed.loc[code]
        for column in compared:
            want = expected[column]
            if column in FINAL_FLAGS:
                want = YES if bool(want) else "no"
            elif column == "rank":
                want = int(want)
            elif column == "group":
                want = str(want)
            else:
                want = float(want)
            if not _same(row.get(column), want):
                differences.append(
                    Difference(FINAL_SHEET, offset, code, column, row.get(column), _shown(want))
                )
        reason = plain(expected["override"])
        if row.get("override_reason") != reason:
            differences.append(
                Difference(
                    FINAL_SHEET, offset, code, "override_reason", row.get("override_reason"), reason
                )
            )
    votes = [str(r["code"]) for r in _records(content["votes"])]
    listed: set[str] = set()
    for offset, code in enumerate(votes, start=2):
        if code not in seen or code in listed:  # a tally for no entry, or a second one
            differences.append(Difference(VOTES_SHEET, offset, code, "code", code, None))
        listed.add(code)
    for code in sorted(seen - set(votes)):
        differences.append(Difference(VOTES_SHEET, None, code, "code", None, code))
    counted = {
        (str(p), str(r), str(c)): t
        for p, r, c, t in totals[["panel", "reviewer", "code", "total"]].itertuples(index=False)
    }
    panels = {c.key for c in method.panels}
    for offset, row in enumerate(_records(content["scores"]), start=2):
        key = (str(row["panel"]), str(row["reviewer"]), str(row["code"]))
        if key[2] not in seen or key[0] not in panels:
            # A score for an entry or panel the list does not have counts for nothing.
            differences.append(Difference(SCORES_SHEET, offset, key[2], "code", key[2], None))
        elif key not in counted:
            differences.append(
                Difference(SCORES_SHEET, offset, key[2], "total", row.get("total"), None)
            )
        elif not _same(row.get("total"), float(counted[key])):
            differences.append(
                Difference(
                    SCORES_SHEET, offset, key[2], "total", row.get("total"), _shown(counted[key])
                )
            )
    return differences


def _votes_differences(content: dict) -> list[Difference]:
    """Each tally of `Votes` against its parts: votes = imported + public_counted, and the
    source those make. A file exported before the sheet had them has code and votes only."""
    votes = content["votes"]
    if votes["columns"] == VOTES_RANKED:
        return []
    if votes["columns"] != VOTES_COLUMNS:
        return [Difference(VOTES_SHEET, 1, "", "columns", votes["columns"], VOTES_COLUMNS)]
    differences = []
    for offset, row in enumerate(_records(votes), start=2):
        code = str(row["code"])
        counts = {c: row[c] for c in ("votes", "imported", "public_counted", "public_voided")}
        bad = [
            c
            for c, v in counts.items()
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0)
        ]
        for column in bad:
            differences.append(Difference(VOTES_SHEET, offset, code, column, counts[column], None))
        if bad:
            continue
        total, imported, counted = row["votes"], row["imported"], row["public_counted"] or 0
        if total is not None and total != (imported or 0) + counted:
            differences.append(
                Difference(VOTES_SHEET, offset, code, "votes", total, (imported or 0) + counted)
            )
        source = vote_source(total, imported, counted)
        if row["source"] != source:
            differences.append(
                Difference(VOTES_SHEET, offset, code, "source", row["source"], source)
            )
    return differences


def _winner_differences(content: dict) -> list[Difference]:
    """The winners' sheets must be the Final list's winners, group by group, cell by cell."""
    expected = winner_tables(content["final"])
    found = content["winners"]
    differences: list[Difference] = []
    for index in range(max(len(expected), len(found))):
        want = expected[index] if index < len(expected) else None
        have = found[index] if index < len(found) else None
        if want is None or have is None or want["sheet"] != have["sheet"]:
            differences.append(
                Difference(
                    have["sheet"] if have else (want or {}).get("sheet", ""),
                    None,
                    "",
                    "sheet",
                    have["sheet"] if have else None,
                    want["sheet"] if want else None,
                    "final_list",
                )
            )
            continue
        differences += _table_differences(have["sheet"], have, want, "final_list")
    return differences


def _table_differences(
    sheet: str, have: Mapping[str, Any], want: Mapping[str, Any], against: str
) -> list[Difference]:
    """Every cell, column or row of one table that differs from the expected table."""
    if have["columns"] != want["columns"]:
        return [Difference(sheet, 1, "", "columns", have["columns"], want["columns"], against)]
    columns = have["columns"]
    code_at = columns.index("code") if "code" in columns else 0
    differences = []
    for index in range(max(len(have["rows"]), len(want["rows"]))):
        mine = have["rows"][index] if index < len(have["rows"]) else None
        theirs = want["rows"][index] if index < len(want["rows"]) else None
        if mine is None or theirs is None:
            code = (mine or theirs)[code_at]
            differences.append(
                Difference(sheet, index + 2, str(code), "row", mine, theirs, against)
            )
            continue
        for column, a, b in zip(columns, mine, theirs, strict=True):
            if a != b:
                differences.append(
                    Difference(sheet, index + 2, str(mine[code_at]), column, a, b, against)
                )
    return differences


def _organisation_differences(content: dict) -> list[Difference]:
    """Organisations recounted from the Final list (shortlisted, awarded, mean composite).

    The file lists only shortlisted entries, so a unit's `recommended` count can only be
    checked to be at least its shortlisted count.
    """
    final = pd.DataFrame(_records(content["final"]))
    if final.empty:
        final = pd.DataFrame(columns=["code", "recommender", "award", "composite"])
    entries = pd.DataFrame(
        {"code": final["code"], "recommender": final["recommender"], "status": "shortlisted"}
    )
    scored = pd.DataFrame(
        {
            "code": final["code"],
            "award": final["award"] == YES,
            "composite": pd.to_numeric(final["composite"]).astype("float64"),
        }
    )
    expected = organisations(entries, scored).set_index("recommender")
    differences = []
    seen = set()
    for offset, row in enumerate(_records(content["organisations"]), start=2):
        unit = row.get("recommender") or NO_RECOMMENDER
        seen.add(unit)
        if unit in expected.index:
            want = expected.loc[unit]
            counts = {"shortlisted": int(want["shortlisted"]), "awarded": int(want["awarded"])}
            mean = None if pd.isna(want["mean_composite"]) else float(want["mean_composite"])
        else:
            counts, mean = {"shortlisted": 0, "awarded": 0}, None
        for column, value in counts.items():
            if row.get(column) != value:
                differences.append(
                    Difference(ORGANISATIONS_SHEET, offset, unit, column, row.get(column), value)
                )
        shown = row.get("mean_composite")
        if (shown is None) != (mean is None) or (
            mean is not None and abs(float(shown) - mean) > MEAN_TOLERANCE
        ):
            differences.append(
                Difference(ORGANISATIONS_SHEET, offset, unit, "mean_composite", shown, _shown(mean))
            )
        recommended = row.get("recommended")
        if not isinstance(recommended, int) or recommended < counts["shortlisted"]:
            differences.append(
                Difference(
                    ORGANISATIONS_SHEET,
                    offset,
                    unit,
                    "recommended",
                    recommended,
                    counts["shortlisted"],
                )
            )
    for unit in sorted(set(expected.index) - seen):
        differences.append(Difference(ORGANISATIONS_SHEET, None, unit, "recommender", None, unit))
    return differences


def _stored_differences(content: dict, stored: Mapping[str, Any]) -> list[Difference]:
    """Every part of the file's content that differs from the stored snapshot's."""
    differences: list[Difference] = []
    tables = {
        "final": FINAL_SHEET,
        "scores": SCORES_SHEET,
        "votes": VOTES_SHEET,
        "organisations": ORGANISATIONS_SHEET,
        "criteria": METHOD_SHEET,
    }
    for part, sheet in tables.items():
        if part in stored:
            differences += _table_differences(sheet, content[part], stored[part], "database")
        else:
            differences.append(Difference(sheet, None, "", part, "…", None, "database"))
    theirs = {w["sheet"]: w for w in stored.get("winners", [])}
    for winners in content["winners"]:
        if winners["sheet"] in theirs:
            differences += _table_differences(
                winners["sheet"], winners, theirs.pop(winners["sheet"]), "database"
            )
        else:
            differences.append(
                Difference(winners["sheet"], None, "", "sheet", winners["sheet"], None, "database")
            )
    for name in theirs:
        differences.append(Difference(name, None, "", "sheet", None, name, "database"))
    for part in ("campaign", "method", "acknowledgements"):
        mine, theirs_part = content[part], stored.get(part)
        if mine != theirs_part:
            keys = sorted(set(mine or {}) | set(theirs_part or {}))
            for key in keys:
                a, b = (mine or {}).get(key), (theirs_part or {}).get(key)
                if a != b:
                    differences.append(Difference(METHOD_SHEET, None, "", key, a, b, "database"))
    return differences


# --- the verdict ------------------------------------------------------------------------


def check_export(
    export: ExportFile,
    *,
    published_sha256: str | None = None,
    stored: Mapping[str, Any] | None = None,
    stored_sha256: str | None = None,
) -> Verification:
    """Every check of the module docstring that the given evidence allows."""
    content = export.content
    recomputed = export.sha256
    differences = [
        *export.problems,
        *_in_the_file(
            [
                *_final_differences(content),
                *_votes_differences(content),
                *_winner_differences(content),
                *_organisation_differences(content),
            ],
            export.header_rows,
        ),
    ]
    claimed = export.snapshot_sha256
    if claimed is None:
        differences += _unmarked(export.titles)
    if claimed is not None and claimed != recomputed:
        differences.append(
            Difference(METHOD_SHEET, None, "", "snapshot_sha256", claimed, recomputed)
        )
    if published_sha256 is not None:
        published = published_sha256.strip().lower()
        if published != recomputed:
            differences.append(
                Difference(METHOD_SHEET, None, "", "sha256", recomputed, published, "published")
            )
    if stored is not None:
        if stored_sha256 != recomputed:
            differences.append(
                Difference(METHOD_SHEET, None, "", "sha256", recomputed, stored_sha256, "database")
            )
        differences += _in_the_file(_stored_differences(content, stored), export.header_rows)
    return Verification(recomputed, claimed, differences)


def _in_the_file(differences: list[Difference], header_rows: Mapping[str, int]) -> list[Difference]:
    """Row numbers counted from a header on row 1, moved to where the header really is."""
    return [
        replace(d, row=d.row + header_rows[d.sheet] - 1)
        if d.row and header_rows.get(d.sheet, 1) > 1
        else d
        for d in differences
    ]


def _unmarked(titles: Mapping[str, str | None]) -> list[Difference]:
    """Sheets of a not-finalised file that have lost the mark saying so."""
    return [
        Difference(sheet, 1, "", "title", title, NOT_FINAL_MARK)
        for sheet, title in titles.items()
        if NOT_FINAL_MARK not in (title or "")
    ]


def verify_workbook(source: Path | bytes) -> list[Difference]:
    """Every difference the file shows on its own (empty: consistent, and its hash holds)."""
    return check_export(read_export(source)).differences


def is_sha256(text: str) -> bool:
    """Whether a text is a SHA-256 in hex, as published."""
    return bool(SHA256.match(text.strip().lower()))
