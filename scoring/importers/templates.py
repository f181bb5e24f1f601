"""Template workbooks for the imports (SPEC §5.2–5.4 and the users import).

A template is built from the importer's own ``COLUMNS``: each header is the column's first
alias (Chinese), which ``map_columns`` reads, so a template imports back as it is; the
English name and whether the column is required go into the header cell's comment. The
example row is valid for the campaign given: its categories, domains, entry codes,
reviewers and rubric criteria are used, so an organiser sees a row the import accepts. The
"说明 Notes" sheet has one row per column with its rule in Chinese and English; the rule
texts live in the ``templates.rule.*`` catalogue keys, filled with the allowed values the
models and the campaign declare.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from sqlmodel import Session, col, select

from scoring.i18n import translate
from scoring.importers import entries, scores, users, votes
from scoring.importers.cells import MAX_COUNT
from scoring.importers.tables import Column
from scoring.permissions import Actor, can_manage
from scoring.services.campaigns import categories, domains, panel_component, rubric
from scoring.services.guard import authorise
from scoring.storage.models import ENTRY_KINDS, ENTRY_STATUSES, ROLES, Account, Campaign, Entry

KINDS: dict[str, list[Column]] = {
    "entries": entries.COLUMNS,
    "votes": votes.COLUMNS,
    "scores": scores.COLUMNS,
    "users": users.COLUMNS,
}
"""Each import kind with the importer's column declarations: the one home of its columns."""

NOTES_SHEET = "说明 Notes"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PANELS = ("expert", "media")


def header_of(column: Column) -> str:
    """The header a template writes: the Chinese alias, which the importer matches."""
    return column.aliases[0] if column.aliases else column.name


def _free(taken: set[str], stem: str) -> str:
    """``stem`` with the first number that makes it not yet taken (``A001``, ``A002``...)."""
    number = 1
    while f"{stem}{number:03d}" in taken:
        number += 1
    return f"{stem}{number:03d}"


def _middle(maximum: float, step: float) -> str:
    """A score half-way up the range that lies on the criterion's step."""
    value = step * math.floor(maximum / 2 / step)
    return f"{value:g}"


def _entries_example(session: Session | None, campaign: Campaign | None) -> dict[str, str]:
    category, domain, taken = "类别一", "领域一", set()
    if session is not None and campaign is not None:
        category = next((c.name for c in categories(session, campaign.id)), category)
        domain = next((d.name for d in domains(session, campaign.id)), domain)
        taken = set(session.exec(select(Entry.code).where(Entry.campaign_id == campaign.id)))
    return {
        "code": _free(taken, "A"),
        "title": "示例作品",
        "kind": ENTRY_KINDS[0],
        "applicant": "示例单位",
        "recommender": "",
        "category": category,
        "domain": domain,
        "summary": "一句话简介。",
        "votes": "0",
        "images": "",
        "materials": "",
        "status": ENTRY_STATUSES[0],
    }


def _votes_example(session: Session | None, campaign: Campaign | None) -> dict[str, str]:
    code = "A001"
    if session is not None and campaign is not None:
        first = session.exec(
            select(Entry.code).where(Entry.campaign_id == campaign.id).order_by(col(Entry.code))
        ).first()
        code = first or code
    return {"code": code, "votes": "120"}


def _scores_example(session: Session | None, campaign: Campaign | None) -> dict[str, str]:
    example = {"reviewer": "expert01", "code": "A001", "criterion": "innovation", "score": "10"}
    example["comment"] = "示例意见"
    if session is None or campaign is None:
        return example
    shortlisted = session.exec(
        select(Entry.code)
        .where(Entry.campaign_id == campaign.id, Entry.status == "shortlisted")
        .order_by(col(Entry.code))
    ).first()
    example["code"] = shortlisted or example["code"]
    for panel in PANELS:
        component = panel_component(session, campaign.id, panel)
        criteria = rubric(session, component.id) if component is not None else []
        if not criteria:
            continue
        reviewer = session.exec(
            select(Account.username)
            .where(Account.role == panel, col(Account.active))
            .order_by(col(Account.username))
        ).first()
        example["reviewer"] = reviewer or f"{panel}01"
        example["criterion"] = criteria[0].key
        example["score"] = _middle(criteria[0].max_points, criteria[0].step)
        break
    return example


def _users_example(session: Session | None, campaign: Campaign | None) -> dict[str, str]:
    taken = set(session.exec(select(Account.username))) if session is not None else set()
    return {
        "username": _free(taken, "expert"),
        "name": "张三",
        "role": "expert",
        "email": "zhangsan@example.com",
        "password": "",
    }


EXAMPLES: dict[str, Callable[[Session | None, Campaign | None], dict[str, str]]] = {
    "entries": _entries_example,
    "votes": _votes_example,
    "scores": _scores_example,
    "users": _users_example,
}


def _rule_params(session: Session | None, campaign: Campaign | None) -> dict[str, str]:
    """The allowed values the rule texts name, from the models and the campaign."""
    params = {
        "statuses": ", ".join(ENTRY_STATUSES),
        "kinds": ", ".join(ENTRY_KINDS),
        "roles": ", ".join((*ROLES, *users.ROLE_ALIASES)),
        "max_images": str(entries.MAX_IMAGES),
        "max_count": f"{MAX_COUNT:,}",
        "categories": "—",
        "domains": "—",
        "criteria": "—",
    }
    if session is None or campaign is None:
        return params
    params["categories"] = "、".join(c.name for c in categories(session, campaign.id)) or "—"
    params["domains"] = "、".join(d.name for d in domains(session, campaign.id)) or "—"
    described = []
    for panel in PANELS:
        component = panel_component(session, campaign.id, panel)
        for criterion in rubric(session, component.id) if component is not None else []:
            described.append(
                f"{panel}: {criterion.key} ({criterion.name}) "
                f"0–{criterion.max_points:g} / {criterion.step:g}"
            )
    params["criteria"] = "; ".join(described) or "—"
    return params


def rule_text(kind: str, column: str, lang: str, params: dict[str, str]) -> str:
    """The rule of one column in ``lang``; the catalogue key itself when undocumented."""
    return translate(f"templates.rule.{kind}.{column}", lang, **params)


def build_template(
    session: Session, actor: Actor, kind: str, campaign: Campaign | None = None
) -> bytes:
    """The template workbook of ``kind`` as .xlsx bytes; ``session`` only reads.

    Organisers only, in any campaign state: the example row names a real reviewer's
    username and real entry codes. Without a campaign the example uses placeholder names
    that a real campaign must replace (its categories, codes, reviewers).
    """
    campaign = authorise(
        session, actor, can_manage, "templates.download", campaign=campaign
    ).campaign
    columns = KINDS[kind]
    example = EXAMPLES[kind](session, campaign)
    params = _rule_params(session, campaign)
    book = Workbook()
    sheet = book.active
    sheet.title = kind
    required = Font(bold=True, color="C00000")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=header_of(column))
        flag = "必填 required" if column.required else "选填 optional"
        cell.comment = Comment(f"{column.name} — {flag}", "ReviewDesk")
        if column.required:
            cell.font = required
        value = sheet.cell(row=2, column=index, value=example[column.name])
        value.number_format = "@"  # text: codes keep their leading zeros
        sheet.column_dimensions[cell.column_letter].width = 16
    notes = book.create_sheet(NOTES_SHEET)
    notes.append(
        ["表头 header", "英文名 name", "可用表头 aliases", "必填 required", "规则", "rule"]
    )
    for cell in notes[1]:
        cell.font = Font(bold=True)
    for column in columns:
        notes.append(
            [
                header_of(column),
                column.name,
                " / ".join((column.name, *column.aliases)),
                "必填 required" if column.required else "选填 optional",
                rule_text(kind, column.name, "zh", params),
                rule_text(kind, column.name, "en", params),
            ]
        )
    for letter, width in zip("ABCDEF", (14, 14, 28, 16, 60, 60), strict=True):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template_name(kind: str, campaign: Campaign | None = None) -> str:
    """The file name a download offers, e.g. ``template-votes-demo-2026.xlsx``."""
    return f"template-{kind}-{campaign.slug}.xlsx" if campaign else f"template-{kind}.xlsx"
