"""``import-scores`` (SPEC §5.4): marks collected on paper, one row per reviewer/entry/criterion.

``plan_scores_import`` reads the file and checks every row outside any write transaction;
``apply_scores_import`` authorises, checks the rows again against the database as it is now
(a reviewer deactivated, a panel locked, a conflict declared since the plan: all refuse) and
writes the sheets in one transaction.

A file of 400,000 scores is 50,000 sheets: through the single-save path that is half a
million ORM round trips. So everything the checks and the rules need is read once (one
query per table), every row is checked against dicts, the sheet rules are applied in Python
(``sheet_rules``, the functions the single save follows too). The rows to write are tuples,
and each table gets them through the driver in the same transaction (``storage.bulk``: COPY
on PostgreSQL, the ``sqlite3`` cursor's ``executemany`` on SQLite): SQLAlchemy's handling of
each row's parameters cost more than the database. The audit rows come from
``audit_bulk.EventBatch``, each with its content hash, and ``Database.write`` chains them
afterwards as it does for any write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Table
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
from scoring.importers.tables import Column, read_mapped, row_tuples
from scoring.permissions import Actor, can_import_scores
from scoring.services.audit_bulk import EventBatch
from scoring.services.campaigns import panel_component, rubric
from scoring.services.guard import authorise
from scoring.services.sheet_rules import (
    MAX_REASON_CHARS,
    RubricItem,
    check_same_panel,
    merged_comments,
    sheet_change,
    sheet_outcome,
)
from scoring.services.sheets import point_problem
from scoring.storage.bulk import insert_rows, update_by_id
from scoring.storage.models import (
    Account,
    Assignment,
    Campaign,
    Component,
    ConflictDeclaration,
    Criterion,
    Entry,
    Score,
    ScoreSheet,
    utcnow,
)

COLUMNS = [
    Column("reviewer", ("评审人", "评委"), required=True),
    Column("code", ("编号", "案例编号"), required=True),
    Column("criterion", ("指标",), required=True),
    Column("score", ("分数", "得分"), required=True),
    Column("comment", ("意见", "评语")),
]

Progress = Callable[[int, int], None]
"""``progress(done, total)`` after each stage of sheets prepared; for a progress bar."""


@dataclass
class SheetInput:
    """One sheet to write: whose, which entry, the points and the comments by criterion key.

    A row is one criterion's score, so its comment is that criterion's comment (the sheet's
    overall comment is the reviewer's own, written on the page).
    """

    reviewer: Account
    entry: Entry
    points: dict[str, float] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Panel:
    """A panel's component and its rubric, read once for the whole import."""

    component: Component
    criteria: list[RubricItem]


class ScoreRow(NamedTuple):
    """One row as read, its cells already checked on their own (a tuple: 400,000 are made)."""

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


def _by_value(check: Callable[[Any], Any], values: Iterable[Any]) -> dict[Any, Any]:
    """``check`` of each distinct value: a file of 400,000 rows holds a few thousand distinct
    codes, a hundred reviewers and a few dozen scores, and every check here is pure. The
    rows then look their results up, which costs less than a call per cell."""
    return {value: check(value) for value in values}


def _read_rows(path: Path, data: bytes | None, report: Report) -> list[ScoreRow]:
    frame = read_mapped(path, data, COLUMNS, report)
    read: list[ScoreRow] = []
    code_length = column_length(Entry, "code") or 40

    def distinct(*columns: str) -> set[Any]:
        return {value for column in columns for value in frame[column].unique()}

    code_check = _by_value(lambda value: code_problem(value, code_length), distinct("code"))
    name_check = _by_value(
        lambda value: text_problem(value, 100), distinct("reviewer", "criterion")
    )
    comment_check = _by_value(
        lambda value: text_problem(value, MAX_REASON_CHARS), distinct("comment")
    )
    points_of = _by_value(parse_points, distinct("score"))
    names = [column.name for column in COLUMNS]
    for row, (reviewer, code, criterion, score, comment) in row_tuples(frame, names):
        points = points_of[score]
        if not (
            code_check[code]
            or name_check[reviewer]
            or name_check[criterion]
            or comment_check[comment]
            or points is None
        ):
            read.append(ScoreRow(row, reviewer.lower(), code, criterion, points, comment))
            continue
        if problem := code_check[code]:
            report.add(problem[0], row, "code", **problem[1])
        for column, value in (("reviewer", reviewer), ("criterion", criterion)):
            if problem := name_check[value]:
                report.add(problem[0], row, column, **problem[1])
        if problem := comment_check[comment]:
            report.add(problem[0], row, "comment", **problem[1])
        if points is None:
            report.add("sheet.not_a_number", row, "score", criterion=shown(criterion))
    return read


_Found = tuple[str, str, dict[str, Any]]
"""A problem found for a row: (catalogue key, column, params); the row number comes later."""


def _resolve(
    session: Session, campaign_id: int, score_rows: list[ScoreRow], report: Report
) -> tuple[dict[tuple[str, str], SheetInput], dict[str, Panel]]:
    """Check the rows against the database as this session sees it; the sheets to write.

    Everything is read with one query per table, and what holds for a (reviewer, entry)
    pair or a (criterion, score) pair is worked out once, so checking 400,000 rows takes
    seconds; every row still gets its own problems, in row order.
    """
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
    panels: dict[str, Panel] = {}
    names: dict[str, dict[str, RubricItem]] = {}
    for panel in ("expert", "media"):
        component = panel_component(session, campaign_id, panel)
        if component is not None:
            criteria = [RubricItem.of(c) for c in rubric(session, component.id)]
            panels[panel] = Panel(component, criteria)
            # A row names a criterion by key or by name; the first in rubric order wins.
            names[panel] = {}
            for criterion in panels[panel].criteria:
                names[panel].setdefault(criterion.key, criterion)
                names[panel].setdefault(criterion.name, criterion)

    def pair_check(pair: tuple[str, str]) -> tuple[list[_Found], SheetInput | None, str]:
        """The pair's problems, and its sheet unless the row can go no further."""
        username, code = pair
        reviewer = accounts.get(username)
        entry = entries.get(code)
        if reviewer is None or not reviewer.active:
            found = {"username": shown(username)}
            return [("scores.unknown_reviewer", "reviewer", found)], None, ""
        if reviewer.role not in panels:
            found = {"username": reviewer.username, "role": reviewer.role}
            return [("scores.not_a_reviewer", "reviewer", found)], None, ""
        if entry is None:
            return [("scores.unknown_code", "code", {"code": code})], None, ""
        problems: list[_Found] = []
        if entry.status != "shortlisted":
            problems.append(("scores.not_shortlisted", "code", {"code": entry.code}))
        if (reviewer.id, entry.id) in conflicts:
            found = {"code": entry.code, "username": reviewer.username}
            problems.append(("scores.conflict", "code", found))
        component = panels[reviewer.role].component
        if component.locked:
            found = {"panel": Names("panel", (component.key,))}
            problems.append(("sheet.panel_locked", "reviewer", found))
        return problems, SheetInput(reviewer=reviewer, entry=entry), reviewer.role

    def criterion_of(named: tuple[str, str]) -> tuple[str, str] | None:
        criterion = names[named[0]].get(named[1])
        return (criterion.key, criterion.id) if criterion is not None else None

    def score_check(scored: tuple[int, float]) -> Any:
        return point_problem(by_id[scored[0]], scored[1])

    by_id = {c.id: c for panel in panels.values() for c in panel.criteria}
    pair_of = _by_value(pair_check, {(item.reviewer, item.code) for item in score_rows})
    named = {item.criterion for item in score_rows}
    criterion_key = _by_value(criterion_of, {(role, name) for role in names for name in named})
    scored = {item.points for item in score_rows}
    score_problem = _by_value(score_check, {(id_, points) for id_ in by_id for points in scored})
    sheets: dict[tuple[str, str], SheetInput] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for item in score_rows:
        row = item.row
        pair = (item.reviewer, item.code)
        problems, sheet, role = pair_of[pair]
        for key, column, params in problems:
            report.add(key, row, column, **params)
        if sheet is None:
            continue
        criterion = criterion_key[(role, item.criterion)]
        if criterion is None:
            report.add(
                "scores.unknown_criterion",
                row,
                "criterion",
                value=shown(item.criterion),
                panel=panels[role].component.key,
            )
            continue
        marker = (item.reviewer, item.code, criterion[0])
        if marker in seen:
            report.add("scores.duplicate", row, "criterion", first=seen[marker])
        seen.setdefault(marker, row)
        if problem := score_problem[(criterion[1], item.points)]:
            report.add(problem[0], row, "score", **problem[1])
        sheets.setdefault(pair, sheet)
        sheet.points[criterion[0]] = item.points
        if item.comment.strip():
            sheet.comments[criterion[0]] = item.comment.strip()
    return sheets, panels


# --- writing in bulk -----------------------------------------------------------------------


def _existing(session: Session, campaign_id: int) -> tuple[set, dict, dict, dict, dict]:
    """The campaign's assignments, sheets, points, comments and score ids, one query each."""
    in_campaign = select(Entry.id).where(Entry.campaign_id == campaign_id)
    assigned = set(
        session.execute(
            select(Assignment.reviewer_id, Assignment.entry_id).where(
                Assignment.entry_id.in_(in_campaign)
            )
        ).all()
    )
    sheets = {
        (row.reviewer_id, row.entry_id): row
        for row in session.execute(
            select(
                ScoreSheet.id,
                ScoreSheet.reviewer_id,
                ScoreSheet.entry_id,
                ScoreSheet.panel,
                ScoreSheet.status,
                ScoreSheet.version,
                ScoreSheet.comment,
            ).where(ScoreSheet.entry_id.in_(in_campaign))
        )
    }
    points: dict[int, dict[str, float]] = {}
    comments: dict[int, dict[str, str]] = {}
    score_ids: dict[tuple[int, int], int] = {}
    for score_id, sheet_id, criterion_id, key, value, comment in session.execute(
        select(
            Score.id, Score.sheet_id, Score.criterion_id, Criterion.key, Score.points, Score.comment
        )
        .join(Criterion, Criterion.id == Score.criterion_id)
        .join(ScoreSheet, ScoreSheet.id == Score.sheet_id)
        .where(ScoreSheet.entry_id.in_(in_campaign))
    ):
        points.setdefault(sheet_id, {})[key] = value
        if comment:
            comments.setdefault(sheet_id, {})[key] = comment
        score_ids[(sheet_id, criterion_id)] = score_id
    return assigned, sheets, points, comments, score_ids


def _write_sheets(
    session: Session,
    actor: Actor,
    campaign_id: int,
    panels: dict[str, Panel],
    sheets: Iterable[SheetInput],
    *,
    submit: bool,
    progress: Progress | None = None,
) -> int:
    """Assign where needed and write every sheet, as ``assign`` + ``write_sheet`` would.

    A complete sheet is submitted when ``submit`` is asked; a submitted sheet stays
    submitted. Raises as the single save does (a sheet from another panel, an incomplete
    revision of a submission) before anything is written; paper marks are not held to the
    comment rule at the extremes (docs/decisions.md). Returns how many sheets are submitted.
    """
    sheets = list(sheets)
    assigned, existing, old_points, old_comments, score_ids = _existing(session, campaign_id)
    now = utcnow()
    events = EventBatch(actor, campaign_id, now)
    new_assignments: list[tuple[int, int, Any]] = []
    new_sheets: list[tuple[Any, ...]] = []
    changed_sheets: list[tuple[Any, ...]] = []
    # (sheet key, criterion, points, comment)
    new_scores: list[tuple[tuple[int, int], int, float, str]] = []
    changed_scores: list[tuple[int, float, str]] = []
    submitted = 0
    for done, sheet in enumerate(sheets, 1):
        reviewer, entry = sheet.reviewer, sheet.entry
        panel = panels[reviewer.role]
        key = (reviewer.id, entry.id)
        target = f"{entry.code}/{reviewer.username}"
        if key not in assigned:
            assigned.add(key)
            new_assignments.append((entry.id, reviewer.id, now))
            events.add("assignment.create", target, new=reviewer.username)
        row = existing.get(key)
        check_same_panel(row.panel if row else None, panel.component.key, entry.code)
        before = old_points.get(row.id, {}) if row else {}
        complete = all(c.key in sheet.points for c in panel.criteria)
        outcome = sheet_outcome(
            panel.criteria,
            before,
            row.status if row else None,
            sheet.points,
            submit=submit and complete,
        )
        comments_before = old_comments.get(row.id, {}) if row else {}
        comments = merged_comments(comments_before, sheet.comments, outcome.points)
        submitted_at = now if outcome.submitted else None
        if row is None:
            state = (outcome.status, submitted_at, now)
            new_sheets.append((entry.id, reviewer.id, panel.component.key, 1, "", *state))
        else:
            changed_sheets.append(
                (row.id, row.version + 1, row.comment, outcome.status, submitted_at, now)
            )
        for criterion in panel.criteria:
            value = outcome.points.get(criterion.key)
            if value is None:
                continue
            comment = comments.get(criterion.key, "")
            score_id = score_ids.get((row.id, criterion.id)) if row else None
            if score_id is None:
                new_scores.append((key, criterion.id, float(value), comment))
            elif (before.get(criterion.key), comments_before.get(criterion.key, "")) != (
                value,
                comment,
            ):
                changed_scores.append((score_id, float(value), comment))
        if change := sheet_change(outcome, comments_before, comments):
            events.add("sheet.save", target, old=change[0], new=change[1])
        submitted += outcome.submitted
        if progress is not None and (done % 1000 == 0 or done == len(sheets)):
            progress(done, len(sheets))
    connection = session.connection()
    insert_rows(
        connection,
        _table(Assignment),
        ("entry_id", "reviewer_id", "assigned_at"),
        new_assignments,
    )
    insert_rows(connection, _table(ScoreSheet), SHEET_COLUMNS, new_sheets)
    update_by_id(connection, _table(ScoreSheet), SHEET_CHANGES, changed_sheets)
    if new_scores:
        ids = _sheet_ids(session, campaign_id)
        insert_rows(
            connection,
            _table(Score),
            ("sheet_id", "criterion_id", "points", "comment"),
            [(ids[key], *score) for key, *score in new_scores],
        )
    update_by_id(connection, _table(Score), ("points", "comment"), changed_scores)
    events.write(connection)
    return submitted


SHEET_COLUMNS = (
    "entry_id",
    "reviewer_id",
    "panel",
    "version",
    "comment",
    "status",
    "submitted_at",
    "updated_at",
)
SHEET_CHANGES = ("version", "comment", "status", "submitted_at", "updated_at")
"""The columns a revision sets, after the sheet's id."""


def _table(model: type) -> Table:
    return model.__table__  # type: ignore[attr-defined]


def _sheet_ids(session: Session, campaign_id: int) -> dict[tuple[int, int], int]:
    """(reviewer id, entry id) -> sheet id, after the new sheets are in."""
    return {
        (reviewer_id, entry_id): sheet_id
        for sheet_id, reviewer_id, entry_id in session.execute(
            select(ScoreSheet.id, ScoreSheet.reviewer_id, ScoreSheet.entry_id).where(
                ScoreSheet.entry_id.in_(select(Entry.id).where(Entry.campaign_id == campaign_id))
            )
        )
    }


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
    sheets, _ = _resolve(session, campaign.id, score_rows, report)
    if not score_rows and report.ok:
        report.add("import.empty")
    return ScoresPlan(campaign.id, score_rows, report, submit, path.name, len(sheets))


def apply_scores_import(
    session: Session, actor: Actor, plan: ScoresPlan, *, progress: Progress | None = None
) -> dict[str, int]:
    """Write every row's score or none; returns counts of rows, sheets and submitted sheets.

    Assigns each reviewer to the entries they scored, as ``assign`` would, and writes the
    sheets as ``write_sheet`` would (same rules, same audit events), in bulk.
    ``progress(done, total)`` is called as the sheets are prepared.
    """
    done = authorise(session, actor, can_import_scores, "scores.import", campaign=plan.campaign_id)
    actor, campaign = done.actor, done.campaign
    assert campaign is not None
    plan.report.raise_if_invalid(plan.source)
    report = Report()
    sheets, panels = _resolve(session, campaign.id, plan.rows, report)
    report.raise_if_invalid(plan.source)
    submitted = _write_sheets(
        session,
        actor,
        campaign.id,
        panels,
        sheets.values(),
        submit=plan.submit,
        progress=progress,
    )
    return {"rows": len(plan.rows), "sheets": len(sheets), "submitted": submitted}
