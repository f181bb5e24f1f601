"""``import-scores`` (SPEC §5.4): marks collected on paper, one row per reviewer/entry/criterion.

``plan_scores_import`` reads the file and checks every row outside any write transaction;
``apply_scores_import`` authorises, checks the rows again against the database as it is now
(a reviewer deactivated, a panel locked, a conflict declared since the plan: all refuse) and
writes the sheets in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from scoring.errors import Names
from scoring.importers.cells import (
    code_problem,
    column_length,
    parse_points,
    shown,
    text_problem,
)
from scoring.importers.report import Report
from scoring.importers.tables import Column, read_mapped, rows
from scoring.permissions import Actor, can_import_scores
from scoring.services.assignments import assign
from scoring.services.campaigns import panel_component, rubric
from scoring.services.guard import authorise
from scoring.services.sheets import point_problem, write_sheet
from scoring.storage.models import Account, Campaign, ConflictDeclaration, Entry

COLUMNS = [
    Column("reviewer", ("评审人", "评委"), required=True),
    Column("code", ("编号", "案例编号"), required=True),
    Column("criterion", ("指标",), required=True),
    Column("score", ("分数", "得分"), required=True),
    Column("comment", ("意见", "评语")),
]


@dataclass(frozen=True)
class ScoreRow:
    """One row as read, its cells already checked on their own."""

    row: int
    reviewer: str
    code: str
    criterion: str
    points: float
    comment: str


@dataclass
class ScoresPlan:
    campaign_id: int
    rows: list[ScoreRow]
    report: Report
    submit: bool = False
    source: str = "scores"
    sheets: int = 0


@dataclass
class _Sheet:
    reviewer: Account
    entry: Entry
    points: dict[str, float] = field(default_factory=dict)
    comment: str | None = None


def _read_rows(path: Path, data: bytes | None, report: Report) -> list[ScoreRow]:
    frame = read_mapped(path, data, COLUMNS, report)
    read: list[ScoreRow] = []
    code_length = column_length(Entry, "code") or 40
    for row, values in rows(frame):
        problems = 0
        if problem := code_problem(values["code"], code_length):
            report.add(problem[0], row, "code", **problem[1])
            problems += 1
        for column in ("reviewer", "criterion"):
            if problem := text_problem(values[column], 100):
                report.add(problem[0], row, column, **problem[1])
                problems += 1
        if problem := text_problem(values["comment"], None, multiline=True):
            report.add(problem[0], row, "comment", **problem[1])
            problems += 1
        points = parse_points(values["score"])
        if points is None:
            report.add("sheet.not_a_number", row, "score", criterion=shown(values["criterion"]))
            problems += 1
        if not problems:
            read.append(
                ScoreRow(
                    row,
                    values["reviewer"].lower(),
                    values["code"],
                    values["criterion"],
                    points,  # type: ignore[arg-type]
                    values["comment"],
                )
            )
    return read


def _resolve(
    session: Session, campaign_id: int, score_rows: list[ScoreRow], report: Report
) -> dict[tuple[str, str], _Sheet]:
    """Check the rows against the database as this session sees it; the sheets to write."""
    entries = {
        e.code: e for e in session.exec(select(Entry).where(Entry.campaign_id == campaign_id))
    }
    accounts = {a.username: a for a in session.exec(select(Account))}
    conflicts = set(
        session.exec(
            select(ConflictDeclaration.reviewer_id, ConflictDeclaration.entry_id)
            .join(Entry, Entry.id == ConflictDeclaration.entry_id)
            .where(Entry.campaign_id == campaign_id)
        ).all()
    )
    rubrics = {}
    for panel in ("expert", "media"):
        component = panel_component(session, campaign_id, panel)
        if component is not None:
            rubrics[panel] = (component, rubric(session, component.id))
    sheets: dict[tuple[str, str], _Sheet] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for item in score_rows:
        row = item.row
        reviewer = accounts.get(item.reviewer)
        entry = entries.get(item.code)
        if reviewer is None or not reviewer.active:
            report.add("scores.unknown_reviewer", row, "reviewer", username=shown(item.reviewer))
            continue
        if reviewer.role not in rubrics:
            report.add(
                "scores.not_a_reviewer",
                row,
                "reviewer",
                username=reviewer.username,
                role=reviewer.role,
            )
            continue
        if entry is None:
            report.add("scores.unknown_code", row, "code", code=item.code)
            continue
        if entry.status != "shortlisted":
            report.add("scores.not_shortlisted", row, "code", code=entry.code)
        if (reviewer.id, entry.id) in conflicts:
            report.add("scores.conflict", row, "code", code=entry.code, username=reviewer.username)
        component, criteria = rubrics[reviewer.role]
        if component.locked:
            report.add(
                "sheet.panel_locked", row, "reviewer", panel=Names("panel", (component.key,))
            )
        criterion = next((c for c in criteria if item.criterion in (c.key, c.name)), None)
        if criterion is None:
            report.add(
                "scores.unknown_criterion",
                row,
                "criterion",
                value=shown(item.criterion),
                panel=component.key,
            )
            continue
        marker = (reviewer.username, entry.code, criterion.key)
        if marker in seen:
            report.add("scores.duplicate", row, "criterion", first=seen[marker])
        seen.setdefault(marker, row)
        if problem := point_problem(criterion, item.points):
            report.add(problem[0], row, "score", **problem[1])
        sheet = sheets.setdefault(
            (reviewer.username, entry.code), _Sheet(reviewer=reviewer, entry=entry)
        )
        sheet.points[criterion.key] = item.points
        if item.comment:
            sheet.comment = item.comment
    return sheets


def plan_scores_import(
    session: Session,
    campaign: Campaign,
    path: Path,
    *,
    submit: bool = False,
    data: bytes | None = None,
) -> ScoresPlan:
    """Read and check every row; ``session`` only reads, nothing is written."""
    report = Report()
    score_rows = _read_rows(path, data, report)
    sheets = _resolve(session, campaign.id, score_rows, report)
    if not score_rows and report.ok:
        report.add("import.empty")
    return ScoresPlan(campaign.id, score_rows, report, submit, path.name, len(sheets))


def apply_scores_import(session: Session, actor: Actor, plan: ScoresPlan) -> dict[str, int]:
    """Write every row's score or none; returns counts of rows, sheets and submitted sheets."""
    done = authorise(session, actor, can_import_scores, "scores.import", campaign=plan.campaign_id)
    actor, campaign = done.actor, done.campaign
    assert campaign is not None
    plan.report.raise_if_invalid(plan.source)
    report = Report()
    sheets = _resolve(session, campaign.id, plan.rows, report)
    report.raise_if_invalid(plan.source)
    submitted = 0
    rubrics: dict[int, list] = defaultdict(list)
    for sheet in sheets.values():
        assign(session, actor, entry=sheet.entry, reviewer=sheet.reviewer)
        component = panel_component(session, campaign.id, sheet.reviewer.role)
        assert component is not None
        if component.id not in rubrics:
            rubrics[component.id] = rubric(session, component.id)
        complete = all(c.key in sheet.points for c in rubrics[component.id])
        saved = write_sheet(
            session,
            actor,
            reviewer=sheet.reviewer,
            entry=sheet.entry,
            points=sheet.points,
            comment=sheet.comment,
            submit=plan.submit and complete,
        )
        submitted += saved.status == "submitted"
    return {"rows": len(plan.rows), "sheets": len(sheets), "submitted": submitted}
