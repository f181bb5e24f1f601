"""Score sheets: a reviewer's rubric points for one entry, saved as draft or submitted.

Every save checks, on the server side, that the reviewer may score this entry now, that
every value is within its criterion's range and step, and that the sheet did not change
since the browser read it (``expected_version``): a stale tab is told, never overwritten.

A reviewer's save is the one write that many users make at once. On PostgreSQL it runs at
READ COMMITTED beside other saves and locks what it changes, the assignment and the sheet,
before it reads them; everything else that writes waits for it (``lock_rows_only``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sqlalchemy import bindparam
from sqlmodel import Session, select

from scoring.errors import StaleEdit, ValidationFailed
from scoring.importers.report import Report
from scoring.permissions import Actor, Situation, campaign_open, can_save_sheet, panel_open, refuse
from scoring.services import audit
from scoring.services.campaigns import panel_component
from scoring.services.guard import authorise
from scoring.services.sheet_rules import (
    RubricItem,
    check_comments,
    check_same_panel,
    merged_comments,
    sheet_change,
    sheet_outcome,
)
from scoring.storage.database import lock_rows_only
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


def point_problem(criterion: Criterion, value: float) -> tuple[str, dict] | None:
    """Why ``value`` is not a valid score for ``criterion`` (None when it is)."""
    if not isinstance(value, int | float) or math.isnan(value):
        return "sheet.not_a_number", {"criterion": criterion.name}
    if not 0 <= value <= criterion.max_points:
        return "sheet.out_of_range", {
            "criterion": criterion.name,
            "value": f"{value:g}",
            "maximum": f"{criterion.max_points:g}",
        }
    ratio = value / criterion.step
    if not math.isclose(ratio, round(ratio), abs_tol=1e-9):
        return "sheet.not_a_step", {
            "criterion": criterion.name,
            "value": f"{value:g}",
            "step": f"{criterion.step:g}",
        }
    return None


def total_of(criteria: list[Criterion], points: Mapping[str, float]) -> float | None:
    """The 0..100 total of SPEC §3, or None while a criterion has no score."""
    if any(points.get(c.key) is None for c in criteria):
        return None
    return 100.0 * sum(points[c.key] for c in criteria) / sum(c.max_points for c in criteria)


def find_sheet(
    session: Session, reviewer_id: int, entry_id: int, *, lock: bool = False
) -> ScoreSheet | None:
    """The reviewer's sheet for the entry; ``lock`` takes its row until the transaction ends."""
    query = select(ScoreSheet).where(
        ScoreSheet.reviewer_id == reviewer_id, ScoreSheet.entry_id == entry_id
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.exec(query).first()


def sheet_points(session: Session, sheet: ScoreSheet) -> dict[str, float]:
    """The points on a sheet by criterion key."""
    rows = session.exec(
        select(Criterion.key, Score.points)
        .join(Criterion, Criterion.id == Score.criterion_id)
        .where(Score.sheet_id == sheet.id)
    ).all()
    return dict(rows)


def sheet_comments(session: Session, sheet: ScoreSheet) -> dict[str, str]:
    """The per-criterion comments on a sheet by criterion key (criteria without one left out)."""
    rows = session.exec(
        select(Criterion.key, Score.comment)
        .join(Criterion, Criterion.id == Score.criterion_id)
        .where(Score.sheet_id == sheet.id, Score.comment != "")
    ).all()
    return dict(rows)


def is_assigned(session: Session, reviewer_id: int, entry_id: int) -> bool:
    return (
        session.exec(
            select(Assignment.id).where(
                Assignment.reviewer_id == reviewer_id, Assignment.entry_id == entry_id
            )
        ).first()
        is not None
    )


def is_conflicted(session: Session, reviewer_id: int, entry_id: int) -> bool:
    return (
        session.exec(
            select(ConflictDeclaration.id).where(
                ConflictDeclaration.reviewer_id == reviewer_id,
                ConflictDeclaration.entry_id == entry_id,
            )
        ).first()
        is not None
    )


def _rubric_and_scores(
    session: Session, component_id: int, sheet_id: int | None
) -> tuple[list[RubricItem], dict[int, tuple[int, float, str]]]:
    """The panel's rubric in order and the sheet's stored scores by criterion, in one query.

    Read as plain rows: a save needs the values, not tracked objects (a sheet without an id
    yet has no scores).
    """
    query = select(
        Criterion.id, Criterion.key, Criterion.name, Criterion.max_points, Criterion.step
    ).where(Criterion.component_id == component_id)
    if sheet_id is None:
        rows = [
            (*row, None, None, None) for row in session.exec(query.order_by(Criterion.position))
        ]
    else:
        rows = session.exec(
            query.add_columns(Score.id, Score.points, Score.comment)
            .outerjoin(Score, (Score.criterion_id == Criterion.id) & (Score.sheet_id == sheet_id))
            .order_by(Criterion.position)
        ).all()
    criteria = [RubricItem(*row[:5]) for row in rows]
    stored = {row[0]: (row[5], row[6], row[7] or "") for row in rows if row[5] is not None}
    return criteria, stored


def _store_scores(
    session: Session,
    sheet_id: int,
    criteria: list[RubricItem],
    stored: dict[int, tuple[int, float, str]],
    points: Mapping[str, float],
    comments: Mapping[str, str],
) -> None:
    """Make the sheet's score rows hold ``points`` and ``comments``: one statement per kind of
    change, if any."""
    gone, changed, added = [], [], []
    for criterion in criteria:
        value = points.get(criterion.key)
        comment = comments.get(criterion.key, "")
        row = stored.get(criterion.id)
        if value is None and row is not None:
            gone.append(row[0])
        elif value is not None and row is None:
            added.append(
                {
                    "sheet_id": sheet_id,
                    "criterion_id": criterion.id,
                    "points": float(value),
                    "comment": comment,
                }
            )
        elif value is not None and row is not None and (row[1] != value or row[2] != comment):
            changed.append({"score_id": row[0], "new_points": float(value), "new_comment": comment})
    table = Score.__table__
    if gone:
        session.execute(table.delete().where(table.c.id.in_(gone)))
    if changed:
        session.execute(
            table.update()
            .where(table.c.id == bindparam("score_id"))
            .values(points=bindparam("new_points"), comment=bindparam("new_comment")),
            changed,
        )
    if added:
        session.execute(table.insert(), added)


def write_sheet(
    session: Session,
    actor: Actor,
    *,
    reviewer: Account,
    entry: Entry,
    points: Mapping[str, float | None],
    comment: str | None = None,
    submit: bool = False,
    expected_version: int | None = None,
    comments: Mapping[str, str] | None = None,
) -> ScoreSheet:
    """Store points (merged into the sheet) and the status; callers check who acts first.

    A submitted sheet stays submitted: a later save, with ``submit`` or without, is a revision
    of the submission (audited with its old and new points) and must be complete. Nothing
    here turns a submission back into a draft, so a save never silently stops a sheet from
    counting (docs/decisions.md, "Reviewing").

    The states are checked here as well, with the same predicates, because every path that
    writes a sheet (the score page, a paper-marks import, the demo) comes through here. A
    sheet stays in the panel it was scored in: a reviewer whose role changed since cannot
    write it into another panel's rubric. ``comments`` are per-criterion comments merged
    like the points (a key left out keeps its comment; removed points take theirs along); a
    submission needs the comment of every score that ``needs_comment`` asks one for.
    """
    component = panel_component(session, entry.campaign_id, reviewer.role)
    if component is None:
        raise ValidationFailed("sheet.no_panel", panel=reviewer.role)
    return _write(
        session,
        actor,
        reviewer=(reviewer.id, reviewer.username),  # type: ignore[arg-type]
        entry=entry,
        campaign=session.get(Campaign, entry.campaign_id),
        component=component,
        points=points,
        comment=comment,
        submit=submit,
        expected_version=expected_version,
        comments=comments,
    )


def _write(
    session: Session,
    actor: Actor,
    *,
    reviewer: tuple[int, str],
    entry: Entry,
    campaign: Campaign | None,
    component: Component,
    points: Mapping[str, float | None],
    comment: str | None,
    submit: bool,
    expected_version: int | None,
    comments: Mapping[str, str] | None = None,
) -> ScoreSheet:
    """``write_sheet`` with the campaign and the reviewer's panel already read in this session.

    ``reviewer`` is the sheet owner's account id and username.
    """
    reviewer_id, username = reviewer
    refuse(
        campaign_open & panel_open,
        Situation(
            actor=actor,
            finalised=campaign is not None and campaign.finalised_at is not None,
            panel_locked=component.locked,
        ),
        "sheet.save",
    )
    # Locked before its version is compared: a second save of the same sheet waits here and
    # then reads the first one's version (READ COMMITTED reads the newest committed row).
    sheet = find_sheet(session, reviewer_id, entry.id, lock=True)
    criteria, stored = _rubric_and_scores(session, component.id, sheet.id if sheet else None)
    by_key = {c.key: c for c in criteria}
    report = Report()
    for key, value in points.items():
        if key not in by_key:
            report.add("sheet.unknown_criterion", column=key, criterion=key)
        elif value is not None and (problem := point_problem(by_key[key], value)):
            report.add(problem[0], column=key, **problem[1])
    for key in comments or {}:
        if key not in by_key:
            report.add("sheet.unknown_criterion", column=key, criterion=key)
    report.raise_if_invalid(entry.code)
    check_same_panel(sheet.panel if sheet else None, component.key, entry.code)
    if expected_version is not None and (sheet.version if sheet else 0) != expected_version:
        raise StaleEdit("sheet.stale", code=entry.code)
    old_points = {c.key: stored[c.id][1] for c in criteria if c.id in stored}
    outcome = sheet_outcome(
        criteria, old_points, sheet.status if sheet else None, points, submit=submit
    )
    old_comments = {c.key: stored[c.id][2] for c in criteria if c.id in stored and stored[c.id][2]}
    new_comments = merged_comments(old_comments, comments or {}, outcome.points)
    check_comments(
        criteria,
        outcome.points,
        new_comments,
        at_extremes=bool(campaign is not None and campaign.comment_at_extremes),
        submitted=outcome.submitted,
        code=entry.code,
    )
    if sheet is None:
        sheet = ScoreSheet(entry_id=entry.id, reviewer_id=reviewer_id, panel=component.key)
    else:
        sheet.version += 1
    sheet.status = outcome.status
    sheet.submitted_at = utcnow() if outcome.submitted else None
    sheet.updated_at = utcnow()
    if comment is not None:
        sheet.comment = comment
    session.add(sheet)
    session.flush()
    _store_scores(session, sheet.id, criteria, stored, outcome.points, new_comments)
    if change := sheet_change(outcome, old_comments, new_comments):
        old, new = change
        audit.record(
            session,
            actor,
            "sheet.save",
            target=f"{entry.code}/{username}",
            campaign_id=entry.campaign_id,
            old=old,
            new=new,
        )
    return sheet


def save_own_sheet(
    session: Session,
    actor: Actor,
    *,
    entry_id: int,
    points: Mapping[str, float | None],
    comment: str,
    submit: bool,
    expected_version: int | None,
    comments: Mapping[str, str] | None = None,
) -> ScoreSheet:
    """A reviewer saves their own sheet: assigned, not conflicted, panel open, valid values.

    The assignment row is locked as it is checked: it exists before the sheet does, so two
    first saves of one sheet (two tabs) take turns instead of both inserting it. What the
    guard read (the account as the actor, the campaign, the reviewer's panel) is used as it
    is, not read again.
    """
    lock_rows_only(session)
    done = authorise(
        session, actor, can_save_sheet, "sheet.save", entry=entry_id, lock_assignment=True
    )
    if done.component is None or done.entry is None or done.actor.account_id is None:
        raise ValidationFailed("sheet.no_panel", panel=done.actor.role)
    return _write(
        session,
        done.actor,
        reviewer=(done.actor.account_id, done.actor.username),
        entry=done.entry,
        campaign=done.campaign,
        component=done.component,
        points=points,
        comment=comment,
        submit=submit,
        expected_version=expected_version,
        comments=comments,
    )
