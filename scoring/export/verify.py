"""`reviewdesk verify`: recompute an export's Final list from its own Scores, Votes and Method.

A workbook travels by e-mail and USB stick before the press event. Verification takes only
the file: it rebuilds the engine's inputs from the raw sheets, runs the same engine, and
names every cell of `Final list` that differs (or every row added or missing), so a changed
score, vote, weight or result is caught.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import load_workbook

from scoring.engine import Component, Method, Override, compute_standings

from .cells import DECIMALS
from .workbook import (
    COMPONENTS_SECTION,
    CRITERIA_SECTION,
    FINAL_SHEET,
    FINAL_TRAILING,
    METHOD_SHEET,
    OVERRIDES_SECTION,
    QUOTAS_SECTION,
    SCORES_SHEET,
    TIES_SECTION,
    VOTES_SHEET,
)


@dataclass(frozen=True)
class Difference:
    """One disagreement between the file and the recomputation."""

    sheet: str
    row: int | None
    code: str
    column: str
    in_file: Any
    recomputed: Any

    def __str__(self) -> str:
        where = f"{self.sheet} row {self.row}" if self.row else self.sheet
        return (
            f"{where} ({self.code}) {self.column}: file {self.in_file!r}, "
            f"recomputed {self.recomputed!r}"
        )


class UnreadableExport(ValueError):
    """The file is not a ReviewDesk export (a sheet or section is missing or malformed)."""


def _rows(sheet) -> list[list[Any]]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _table(rows: list[list[Any]]) -> pd.DataFrame:
    headers = [str(h) for h in rows[0] if h is not None]
    body = [r[: len(headers)] for r in rows[1:] if any(v is not None for v in r)]
    return pd.DataFrame(body, columns=headers)


def _sections(rows: list[list[Any]]) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    facts: dict[str, Any] = {}
    sections: dict[str, pd.DataFrame] = {}
    index = 0
    while index < len(rows) and not str(rows[index][0] or "").startswith("["):
        if rows[index][0] is not None:
            facts[str(rows[index][0])] = rows[index][1]
        index += 1
    while index < len(rows):
        marker = str(rows[index][0] or "")
        if not marker.startswith("["):
            index += 1
            continue
        block = []
        index += 1
        while index < len(rows) and any(v is not None for v in rows[index]):
            block.append(rows[index])
            index += 1
        sections[marker] = _table(block) if block else pd.DataFrame()
    return facts, sections


def _yes(value: Any) -> bool:
    return str(value).strip().lower() in ("yes", "true", "1")


def read_method(rows: list[list[Any]]) -> tuple[Method, pd.DataFrame]:
    """The Method and the criteria frame written by the workbook's Method sheet."""
    facts, sections = _sections(rows)
    for marker in (COMPONENTS_SECTION, CRITERIA_SECTION):
        if marker not in sections:
            raise UnreadableExport(f"{METHOD_SHEET} sheet has no {marker} section")
    components = tuple(
        Component(
            key=str(r["key"]),
            kind=str(r["kind"]),
            weight=float(r["weight"]),
            aggregate=str(r["aggregate"]),
            trim=int(r["trim"]),
            normalise=str(r["normalise"]),
            min_reviews=int(r["min_reviews"]),
        )
        for r in sections[COMPONENTS_SECTION].to_dict("records")
    )
    quotas = sections.get(QUOTAS_SECTION, pd.DataFrame())
    ties = sections.get(TIES_SECTION, pd.DataFrame())
    overrides = sections.get(OVERRIDES_SECTION, pd.DataFrame())
    tie_break = str(facts.get("tie_break") or "")
    method = Method(
        components=components,
        vote_group=str(facts["vote_group"]),
        rank_group=str(facts["rank_group"]),
        tie_break=tuple(k.strip() for k in tie_break.split(",") if k.strip()),
        award_quota=int(facts["award_quota"]),
        group_quotas={str(r["group"]): int(r["quota"]) for r in quotas.to_dict("records")},
        tie_decisions={str(r["code"]): _yes(r["award"]) for r in ties.to_dict("records")},
        overrides=tuple(
            Override(code=str(r["code"]), action=str(r["action"]), reason=str(r["reason"]))
            for r in overrides.to_dict("records")
        ),
    )
    criteria = sections[CRITERIA_SECTION].rename(columns={"criterion": "criterion"})
    criteria = pd.DataFrame(
        {
            "panel": criteria["panel"].astype(str),
            "criterion": criteria["criterion"].astype(str),
            "max_points": criteria["max_points"].astype("float64"),
        }
    )
    return method, criteria


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, float) or isinstance(a, float):
        if a is None or b is None:
            return a is None and (b is None or (isinstance(b, float) and math.isnan(b)))
        if isinstance(b, float) and math.isnan(b):
            return False
        try:
            return abs(float(a) - round(float(b), DECIMALS)) < 10 ** -(DECIMALS + 1)
        except (TypeError, ValueError):
            return False
    return a == b


def _text(value: Any) -> str | None:
    """A text cell as text, an empty cell (None, NaN or "") as None."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value) or None


def _shown(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, DECIMALS)
    return value


def verify_workbook(source: Path | bytes) -> list[Difference]:
    """Every difference between the file's Final list and its recomputation (empty: valid)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a non-workbook
        raise UnreadableExport(f"not an .xlsx workbook: {exc}") from exc
    for name in (FINAL_SHEET, SCORES_SHEET, VOTES_SHEET, METHOD_SHEET):
        if name not in book.sheetnames:
            raise UnreadableExport(f"the workbook has no {name!r} sheet")
    method, criteria = read_method(_rows(book[METHOD_SHEET]))
    final = _table(_rows(book[FINAL_SHEET]))
    votes = _table(_rows(book[VOTES_SHEET]))
    scores = _table(_rows(book[SCORES_SHEET]))
    tally = dict(zip(votes["code"].astype(str), votes["votes"], strict=True)) if len(votes) else {}
    entries = pd.DataFrame(
        {
            "code": final["code"].astype(str),
            "title": final["title"].astype(str),
            "category": final["category"].astype(str),
            "domain": final["domain"].astype(str),
            "votes": [
                float("nan") if tally.get(str(c)) is None else float(tally[str(c)])
                for c in final["code"]
            ],
        }
    )
    score_frame = pd.DataFrame(
        {
            "panel": scores["panel"].astype(str) if len(scores) else pd.Series(dtype=str),
            "reviewer": scores["reviewer"].astype(str) if len(scores) else pd.Series(dtype=str),
            "code": scores["code"].astype(str) if len(scores) else pd.Series(dtype=str),
            "criterion": scores["criterion"].astype(str) if len(scores) else pd.Series(dtype=str),
            "score": scores["score"].astype("float64") if len(scores) else pd.Series(dtype=float),
            "status": "submitted",
        }
    )
    recomputed = compute_standings(entries, score_frame, criteria, method).set_index("code")
    differences: list[Difference] = []
    keys = [c.key for c in method.components]
    compared = ["group", "rank", *keys, *[c for c in FINAL_TRAILING if c != "override_reason"]]
    seen: set[str] = set()
    for offset, row in enumerate(final.to_dict("records"), start=2):
        code = str(row["code"])
        seen.add(code)
        if code not in recomputed.index:
            differences.append(Difference(FINAL_SHEET, offset, code, "code", code, None))
            continue
        expected = recomputed.loc[code]
        for column in compared:
            want = expected[column]
            if column in ("award", "tie", "provisional"):
                want = "yes" if bool(want) else "no"
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
        reason = expected["override"]
        if _text(row.get("override_reason")) != _text(reason):
            differences.append(
                Difference(
                    FINAL_SHEET, offset, code, "override_reason", row.get("override_reason"), reason
                )
            )
    for code in sorted(set(tally) - seen):
        differences.append(Difference(FINAL_SHEET, None, code, "code", None, code))
    return differences
