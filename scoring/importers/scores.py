"""``import-scores`` (SPEC §5.4): marks collected on paper, one row per reviewer/entry/criterion."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlmodel import Session, select

from scoring.errors import Names
from scoring.importers.report import Report
from scoring.importers.tables import Column, map_columns, read_table, rows
from scoring.permissions import Actor, can_manage, require
from scoring.services.assignments import assign
from scoring.services.campaigns import panel_component, rubric
from scoring.services.sheets import is_conflicted, point_problem, write_sheet
from scoring.storage.models import Account, Campaign, Entry

COLUMNS = [
    Column("reviewer", ("评审人", "评委"), required=True),
    Column("code", ("编号", "案例编号"), required=True),
    Column("criterion", ("指标",), required=True),
    Column("score", ("分数", "得分"), required=True),
    Column("comment", ("意见", "评语")),
]


def import_scores(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    path: Path,
    *,
    submit: bool = False,
    data: bytes | None = None,
) -> dict[str, int]:
    """Write every row's score or none; returns counts of rows, sheets and submitted sheets."""
    require(can_manage(actor), "scores.import")
    report = Report()
    frame = map_columns(read_table(path, data), COLUMNS, report)
    entries = {
        e.code: e for e in session.exec(select(Entry).where(Entry.campaign_id == campaign.id))
    }
    accounts = {a.username: a for a in session.exec(select(Account))}
    rubrics = {}
    for panel in ("expert", "media"):
        component = panel_component(session, campaign.id, panel)
        if component is not None:
            rubrics[panel] = (component, rubric(session, component.id))
    sheets: dict[tuple[str, str], dict] = defaultdict(lambda: {"points": {}, "comment": None})
    seen: dict[tuple[str, str, str], int] = {}
    for row, values in rows(frame):
        reviewer = accounts.get(values["reviewer"].lower())
        entry = entries.get(values["code"])
        if reviewer is None or not reviewer.active:
            report.add("scores.unknown_reviewer", row, "reviewer", username=values["reviewer"])
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
            report.add("scores.unknown_code", row, "code", code=values["code"])
            continue
        if entry.status != "shortlisted":
            report.add("scores.not_shortlisted", row, "code", code=entry.code)
        if is_conflicted(session, reviewer.id, entry.id):
            report.add("scores.conflict", row, "code", code=entry.code, username=reviewer.username)
        component, criteria = rubrics[reviewer.role]
        if component.locked:
            report.add(
                "sheet.panel_locked", row, "reviewer", panel=Names("panel", (component.key,))
            )
        criterion = next((c for c in criteria if values["criterion"] in (c.key, c.name)), None)
        if criterion is None:
            report.add(
                "scores.unknown_criterion",
                row,
                "criterion",
                value=values["criterion"],
                panel=component.key,
            )
            continue
        marker = (reviewer.username, entry.code, criterion.key)
        if marker in seen:
            report.add("scores.duplicate", row, "criterion", first=seen[marker])
        seen.setdefault(marker, row)
        try:
            value = float(values["score"])
        except ValueError:
            report.add("sheet.not_a_number", row, "score", criterion=criterion.name)
            continue
        if problem := point_problem(criterion, value):
            report.add(problem[0], row, "score", **problem[1])
        sheet = sheets[(reviewer.username, entry.code)]
        sheet["points"][criterion.key] = value
        if values["comment"]:
            sheet["comment"] = values["comment"]
    if not seen and report.ok:
        report.add("import.empty")
    report.raise_if_invalid(path.name)
    submitted = 0
    for (username, code), sheet in sheets.items():
        reviewer, entry = accounts[username], entries[code]
        assign(session, actor, entry=entry, reviewer=reviewer)
        _, criteria = rubrics[reviewer.role]
        complete = all(c.key in sheet["points"] for c in criteria)
        saved = write_sheet(
            session,
            actor,
            reviewer=reviewer,
            entry=entry,
            points=sheet["points"],
            comment=sheet["comment"],
            submit=submit and complete,
        )
        submitted += saved.status == "submitted"
    return {"rows": len(seen), "sheets": len(sheets), "submitted": submitted}
