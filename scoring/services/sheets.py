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

from sqlmodel import Session, select

from scoring.errors import StaleEdit, ValidationFailed
from scoring.importers.report import Report
from scoring.permissions import Actor, Situation, campaign_open, can_save_sheet, panel_open, refuse
from scoring.services import audit
from scoring.services.campaigns import panel_component, rubric
from scoring.services.guard import authorise
from scoring.services.sheet_rules import check_same_panel, sheet_outcome
from scoring.storage.database import lock_rows_only
from scoring.storage.models import (
    Account,
    Assignment,
    Campaign,
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
) -> ScoreSheet:
    """Store points (merged into the sheet) and the status; callers check who acts first.

    A submitted sheet stays submitted: a later save, with ``submit`` or without, is a revision
    of the submission (audited with its old and new points) and must be complete. Nothing
    here turns a submission back into a draft, so a save never silently stops a sheet from
    counting (docs/decisions.md, "Reviewing").

    The states are checked here as well, with the same predicates, because every path that
    writes a sheet (the score page, a paper-marks import, the demo) comes through here. A
    sheet stays in the panel it was scored in: a reviewer whose role changed since cannot
    write it into another panel's rubric.
    """
    campaign = session.get(Campaign, entry.campaign_id)
    component = panel_component(session, entry.campaign_id, reviewer.role)
    if component is None:
        raise ValidationFailed("sheet.no_panel", panel=reviewer.role)
    refuse(
        campaign_open & panel_open,
        Situation(
            actor=actor,
            finalised=campaign is not None and campaign.finalised_at is not None,
            panel_locked=component.locked,
        ),
        "sheet.save",
    )
    criteria = rubric(session, component.id)
    by_key = {c.key: c for c in criteria}
    report = Report()
    for key, value in points.items():
        if key not in by_key:
            report.add("sheet.unknown_criterion", column=key, criterion=key)
        elif value is not None and (problem := point_problem(by_key[key], value)):
            report.add(problem[0], column=key, **problem[1])
    report.raise_if_invalid(entry.code)
    # Locked before its version is compared: a second save of the same sheet waits here and
    # then reads the first one's version (READ COMMITTED reads the newest committed row).
    sheet = find_sheet(session, reviewer.id, entry.id, lock=True)
    check_same_panel(sheet.panel if sheet else None, component.key, entry.code)
    if expected_version is not None and (sheet.version if sheet else 0) != expected_version:
        raise StaleEdit("sheet.stale", code=entry.code)
    old_points = sheet_points(session, sheet) if sheet else {}
    outcome = sheet_outcome(
        criteria, old_points, sheet.status if sheet else None, points, submit=submit
    )
    merged = outcome.points
    if sheet is None:
        sheet = ScoreSheet(entry_id=entry.id, reviewer_id=reviewer.id, panel=component.key)
    else:
        sheet.version += 1
    sheet.status = outcome.status
    sheet.submitted_at = utcnow() if outcome.submitted else None
    sheet.updated_at = utcnow()
    if comment is not None:
        sheet.comment = comment
    session.add(sheet)
    session.flush()
    existing = {
        s.criterion_id: s for s in session.exec(select(Score).where(Score.sheet_id == sheet.id))
    }
    for criterion in criteria:
        value = merged.get(criterion.key)
        row = existing.get(criterion.id)
        if value is None and row is not None:
            session.delete(row)
        elif value is not None:
            row = row or Score(sheet_id=sheet.id, criterion_id=criterion.id, points=value)
            row.points = float(value)
            session.add(row)
    if outcome.changed:
        audit.record(
            session,
            actor,
            "sheet.save",
            target=f"{entry.code}/{reviewer.username}",
            campaign_id=entry.campaign_id,
            old=outcome.audit_old,
            new=outcome.audit_new,
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
) -> ScoreSheet:
    """A reviewer saves their own sheet: assigned, not conflicted, panel open, valid values.

    The assignment row is locked first: it exists before the sheet does, so two first saves
    of one sheet (two tabs) take turns instead of both inserting it.
    """
    lock_rows_only(session)
    done = authorise(session, actor, can_save_sheet, "sheet.save", entry=entry_id)
    actor, entry = done.actor, done.entry
    reviewer = session.get(Account, actor.account_id)
    if reviewer is None or done.component is None:
        raise ValidationFailed("sheet.no_panel", panel=actor.role)
    session.exec(
        select(Assignment.id)
        .where(Assignment.reviewer_id == reviewer.id, Assignment.entry_id == entry.id)
        .with_for_update()
    ).first()
    return write_sheet(
        session,
        actor,
        reviewer=reviewer,
        entry=entry,
        points=points,
        comment=comment,
        submit=submit,
        expected_version=expected_version,
    )
