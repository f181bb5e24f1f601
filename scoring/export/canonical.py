"""The canonical content of an export: what the finalised snapshot's SHA-256 covers.

One function, `export_content`, turns the export's data into a plain JSON-ready dict holding
everything the workbook shows that the result depends on: the campaign, the method (weights,
aggregates, groups, tie-break, quotas, tie decisions, overrides with their reasons), the
criteria, the acknowledged provisional awards, every column of `Final list`, every winners'
sheet, every counted score with its reviewer, the votes and the organisations. Only the
export-time facts (when, by whom, and the hash itself) are left out.

Every cell is taken the way the workbook holds it (floats to the 4 decimals written, yes/no
for flags, an empty text as empty, integral numbers without a fraction, line ends as ``\\n``),
so that `reviewdesk verify` can rebuild the same dict from the file's own sheets and get the
same SHA-256: the file proves what it says, and the published hash proves it is the file.
The workbook is written from this dict, and finalising stores it as the snapshot.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from scoring.engine import Method, method_from_dict, method_to_dict

from .cells import DECIMALS

FINAL_SHEET = "Final list"
SCORES_SHEET = "Scores"
VOTES_SHEET = "Votes"
METHOD_SHEET = "Method"
ORGANISATIONS_SHEET = "Organisations"
FIXED_SHEETS = (FINAL_SHEET, SCORES_SHEET, VOTES_SHEET, METHOD_SHEET, ORGANISATIONS_SHEET)

FINAL_LEADING = ["group", "rank", "code", "title", "applicant", "recommender", "category", "domain"]
FINAL_TRAILING = ["composite", "award", "tie", "provisional", "override_reason"]
FINAL_FLAGS = ("award", "tie", "provisional")
SCORES_COLUMNS = ["panel", "reviewer", "code", "criterion", "score", "total"]
VOTES_COLUMNS = [
    "code",
    "votes",
    "source",
    "imported",
    "public_counted",
    "public_voided",
    "void_reasons",
]
"""The Votes sheet: the tally the engine ranks on (``votes``), then where it came from."""
VOTES_RANKED = ["code", "votes"]
"""The columns `verify` recomputes from; an export made before provenance has only these."""
SOURCE_IMPORT, SOURCE_PUBLIC, SOURCE_BOTH = "import", "public", "import+public"
CRITERIA_COLUMNS = ["panel", "criterion", "name", "max_points", "step"]
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

YES, NO = "yes", "no"


def final_columns(method: Method) -> list[str]:
    """Columns of `Final list`: the fixed ones around one column per component."""
    return [*FINAL_LEADING, *(c.key for c in method.components), *FINAL_TRAILING]


@dataclass(frozen=True)
class ExportData:
    """Everything the workbook shows, already read and computed.

    `final` has the Final list columns (component keys between `domain` and `composite`),
    in group then rank order; `scores` the counted rubric scores; `criteria` panel,
    criterion, name, max_points, step; `acknowledgements` the reason given for each
    provisional award when finalising (code -> reason); `votes` the `VOTES_COLUMNS` per
    shortlisted entry (a snapshot taken before the provenance columns: code and votes).
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
    acknowledgements: Mapping[str, str] = field(default_factory=dict)


def plain(value: Any) -> Any:
    """A value in its canonical JSON form, the same whether it came from frames or the file.

    Floats are rounded to the decimals the workbook writes and an integral number loses its
    fraction (a spreadsheet gives back 55 for 55.0); NaN and empty text are empty; a carriage
    return becomes ``\\n`` (an .xlsx reader does the same); mappings and lists recurse.
    """
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Number):
        return _float_cell(float(value))  # type: ignore[arg-type]
    if isinstance(value, str):
        return _text_cell(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        raise ValueError("export-time facts are not part of the canonical content")
    return plain(str(value))


def cell(value: Any) -> Any:
    """What one table cell holds, as `cells.put` writes it: flags are yes/no text."""
    if isinstance(value, bool | np.bool_):
        return YES if value else NO
    return plain(value)


def table(columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    """One sheet's table: its header and its rows of canonical cells."""
    return {"columns": list(columns), "rows": [[cell(v) for v in row] for row in rows]}


def _float_cell(number: float) -> float | int | None:
    if number != number:  # NaN
        return None
    if math.isinf(number):
        raise ValueError(f"an export holds no infinite number: {number!r}")
    number = round(number, DECIMALS)  # the rounding `cells.put` writes, not numpy's
    return int(number) if number.is_integer() else number


def _column_cells(series: pd.Series) -> list[Any]:
    """`cell` of every value of one column, with a fast path for numeric columns.

    Finalising runs this over every counted score while holding the campaign row, so the
    400,000 scores of SPEC §9 must not go through the general `cell` one by one.
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        return [YES if v else NO for v in series.tolist()]
    if pd.api.types.is_integer_dtype(series.dtype):
        return [int(v) for v in series.tolist()]
    if pd.api.types.is_float_dtype(series.dtype):
        return [_float_cell(v) for v in series.astype("float64").tolist()]
    return [_text_cell(v) if type(v) is str else cell(v) for v in series.astype(object).tolist()]


def _text_cell(text: str) -> str | None:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text or None


def frame_table(columns: list[str], frame: pd.DataFrame) -> dict[str, Any]:
    """The table of `columns` of a frame (a missing value is an empty cell)."""
    if frame.empty:
        return table(columns, [])
    cells = [_column_cells(frame[c]) for c in columns]
    return {"columns": list(columns), "rows": [list(row) for row in zip(*cells, strict=True)]}


def winner_tables(final: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The winners' sheets derived from a Final list table: one per group, in list order.

    A group's sheet lists its awarded rows in Final list order (rank order), with the
    winner columns; its name is the group label made a valid, unique sheet name.
    """
    columns = final["columns"]
    at = {name: index for index, name in enumerate(columns)}
    groups: dict[str, list[list[Any]]] = {}
    for row in final["rows"]:
        if row[at["award"]] == YES:
            groups.setdefault(str(row[at["group"]]), []).append(
                [row[at[c]] for c in WINNER_COLUMNS]
            )
    taken = set(FIXED_SHEETS)
    return [
        {"sheet": sheet_name(group, taken), "group": group, **table(WINNER_COLUMNS, rows)}
        for group, rows in groups.items()
    ]


_SHEET_NAME_BAD = str.maketrans({c: "-" for c in "[]:*?/\\"})


def sheet_name(label: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (31 characters, no []:*?/\\) for a group label."""
    base = label.translate(_SHEET_NAME_BAD).strip("'") or "group"
    base = base[:31]
    name, number = base, 2
    while name.casefold() in {t.casefold() for t in taken}:
        suffix = f" ({number})"
        name, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(name)
    return name


def vote_source(votes: Any, imported: Any, public_counted: Any) -> str | None:
    """Where a tally came from: an import, public-gallery votes, or both; None: no tally.

    A tally without an imported figure exists only because public votes were cast (even if
    all of them were voided since); one with a figure and votes counted after it is both.
    """
    if votes is None:
        return None
    if imported is None:
        return SOURCE_PUBLIC
    return SOURCE_BOTH if public_counted else SOURCE_IMPORT


def _votes_table(votes: pd.DataFrame) -> dict[str, Any]:
    """The Votes sheet. A frozen snapshot taken before the sheet said where each tally came
    from holds code and votes only, and is written back exactly so: its hash must hold."""
    columns = [c for c in VOTES_COLUMNS if c in votes.columns]
    rows = [
        [str(row["code"]), *(None if pd.isna(row[c]) else row[c] for c in columns[1:])]
        for row in votes.to_dict("records")  # an empty votes cell: the entry has no tally
    ]
    return table(columns, rows)


def export_content(data: ExportData) -> dict[str, Any]:
    """The canonical content of an export (the snapshot is this, the hash is over this)."""
    final = frame_table(final_columns(data.method), data.final)
    return {
        "campaign": plain(
            {"slug": data.campaign_slug, "name": data.campaign_name, "year": data.year}
        ),
        "method": plain(method_to_dict(data.method)),
        "criteria": frame_table(CRITERIA_COLUMNS, data.criteria),
        "acknowledgements": plain(dict(sorted(data.acknowledgements.items()))),
        "final": final,
        # The winner sheets are derived from the Final list here, but verify reads them from
        # the file's own sheets: a winners' sheet edited on its own changes the hash too.
        "winners": [{k: w[k] for k in ("sheet", "columns", "rows")} for w in winner_tables(final)],
        "scores": frame_table(SCORES_COLUMNS, data.scores),
        "votes": _votes_table(data.votes),
        "organisations": frame_table(ORGANISATION_COLUMNS, data.organisations),
    }


def canonical_json(content: Any) -> str:
    """One text per content: sorted keys, no spaces, UTF-8 kept, NaN refused."""
    return json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )


def content_sha256(content: Any) -> str:
    """The SHA-256 (hex) of the content's canonical JSON, UTF-8 encoded."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _records(part: Mapping[str, Any]) -> list[dict[str, Any]]:
    columns = part["columns"]
    return [dict(zip(columns, row, strict=True)) for row in part["rows"]]


def frozen_method(content: Mapping[str, Any]) -> Method:
    """The method a snapshot froze."""
    return method_from_dict(content["method"])


def frozen_records(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The final list of a snapshot as standings records (SPEC §5.6 keys, plus applicant,
    recommender and override), to the 4 decimals the export shows.

    A snapshot taken before the snapshot held the whole export kept the records themselves.
    """
    if "standings" in content:
        return list(content["standings"])
    keys = [c["key"] for c in content["method"]["components"]]
    return [
        {
            "code": str(row["code"]),
            "title": row["title"] or "",
            "applicant": row["applicant"] or "",
            "recommender": row["recommender"],
            "category": str(row["category"]),
            "domain": str(row["domain"]),
            "group": str(row["group"]),
            "components": {k: _float(row[k]) for k in keys},
            "composite": _float(row["composite"]),
            "rank": int(row["rank"]),
            "tie": row["tie"] == YES,
            "provisional": row["provisional"] == YES,
            "award": row["award"] == YES,
            "override": row["override_reason"],
        }
        for row in _records(content["final"])
    ]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _frame(part: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(part["rows"], columns=part["columns"], dtype=object)


def export_data_from_content(
    content: Mapping[str, Any],
    *,
    exported_at: datetime,
    exported_by: str,
    snapshot_sha256: str | None,
) -> ExportData:
    """The export of a frozen content: the same workbook whenever it is exported again."""
    method = frozen_method(content)
    final = _frame(content["final"])
    for flag in FINAL_FLAGS:
        final[flag] = final[flag] == YES
    for key in (c.key for c in method.components):
        final[key] = pd.to_numeric(final[key]).astype("float64")
    final["composite"] = pd.to_numeric(final["composite"]).astype("float64")
    votes = _frame(content["votes"])
    campaign = content["campaign"]
    return ExportData(
        campaign_name=str(campaign["name"]),
        campaign_slug=str(campaign["slug"]),
        year=int(campaign["year"]),
        method=method,
        final=final,
        scores=_frame(content["scores"]),
        votes=votes.assign(votes=votes["votes"].map(lambda v: np.nan if v is None else v)),
        criteria=_frame(content["criteria"]),
        organisations=_frame(content["organisations"]),
        exported_at=exported_at,
        exported_by=exported_by,
        snapshot_sha256=snapshot_sha256,
        acknowledgements=dict(content.get("acknowledgements") or {}),
    )
