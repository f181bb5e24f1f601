"""``import-entries`` (SPEC §5.2): a workbook of entries plus a folder or zip of their files.

Two steps, so that reviewers' saves never wait for an import. ``plan_entries_import`` does
the slow part outside any write transaction: it reads the workbook, checks every row and
every file, and puts the accepted files and their gallery thumbnails into the
content-addressed store (a stored file nothing points at is harmless, and the next import of
the same file finds it there). ``apply_entries_import`` then runs in one short write
transaction: it authorises against the campaign as it is now, re-checks what may have
changed since the plan (a code taken meanwhile, a category removed) and inserts the rows in
bulk, with one audit event per entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, col, select

from scoring.assets import (
    AssetStore,
    check_file_name,
    open_asset_source,
    validate_image,
    validate_material,
)
from scoring.errors import AssetError
from scoring.importers.cells import code_problem, column_length, parse_count, shown, text_problem
from scoring.importers.report import Report
from scoring.importers.tables import Column, read_mapped, rows, split_names
from scoring.permissions import Actor, can_change_entries
from scoring.services import audit
from scoring.services.campaigns import categories, domains
from scoring.services.guard import authorise, authorise_campaign
from scoring.storage.models import (
    ENTRY_KINDS,
    ENTRY_STATUSES,
    Campaign,
    Entry,
    EntryAsset,
    VoteTally,
)

MAX_IMAGES = 4

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)`` for a progress bar: step ``"files"`` counts the files the
workbook names as each is checked and stored (images with their thumbnail), step ``"write"``
the entries as they are written. ``done`` rises to ``total`` and reaches it."""

FILES_EVERY = 10
"""Files between two calls while planning: a call per file would redraw a bar 20,000 times."""
WRITE_EVERY = 500
"""Entries between two calls while writing."""

COLUMNS = [
    Column("code", ("编号", "案例编号"), required=True),
    Column("title", ("名称", "案例名称", "姓名"), required=True),
    Column("kind", ("类型",)),
    Column("applicant", ("申报主体", "申报单位"), required=True),
    Column("recommender", ("推荐单位",)),
    Column("category", ("类别",), required=True),
    Column("domain", ("领域",), required=True),
    Column("summary", ("简介", "案例简介")),
    Column("votes", ("票数", "投票数")),
    Column("images", ("图片",)),
    Column("materials", ("材料", "附件")),
    Column("status", ("状态",)),
]


@dataclass
class PendingFile:
    """A checked file, already in the store under its hash."""

    role: str
    position: int
    filename: str
    sha256: str
    size_bytes: int
    mime: str


@dataclass
class PendingEntry:
    row: int
    values: dict[str, str]
    votes: int | None = None
    files: list[PendingFile] = field(default_factory=list)


@dataclass
class EntriesPlan:
    """What an import would write, shown to the organiser before anything is saved."""

    campaign_id: int
    entries: list[PendingEntry]
    report: Report
    source: str = "entries"

    @property
    def file_count(self) -> int:
        return sum(len(e.files) for e in self.entries)


SINGLE_LINE = ("title", "applicant", "recommender")
"""Text columns stored as VARCHAR; their limits are the model's."""


def check_image_count(count: int, report: Report, row: int | None, column: str) -> None:
    """SPEC §2.2: an entry has at most MAX_IMAGES images (an import and the entry form)."""
    if count > MAX_IMAGES:
        report.add("entries.too_many_images", row, column, count=count, maximum=MAX_IMAGES)


def check_entry_file(
    role: str, name: str, data: bytes, store: AssetStore | None
) -> tuple[str, str]:
    """The one check of an entry file, imported or uploaded; returns ``(sha256, mime)``.

    Judged by content (``scoring.assets``): images must be JPEG, PNG or WebP and decode in
    full, materials PDF, DOCX, XLSX or an image. With a ``store`` the file is stored too (an
    image with its thumbnail, from the same decode); without one nothing is written, so a
    form can check its uploads before it knows the rest of the save will succeed.
    Raises ``AssetError`` naming the file.
    """
    name = check_file_name(name)
    if role == "image":
        if store is not None:  # one decode checks the image and makes its thumbnail
            return store.put_image(name, data)
        return hashlib.sha256(data).hexdigest(), validate_image(name, data)
    mime = validate_material(name, data)
    return (store.put(data) if store is not None else hashlib.sha256(data).hexdigest()), mime


def _check_files(
    pending: PendingEntry,
    column: str,
    names: list[str],
    source,  # type: ignore[no-untyped-def]
    store: AssetStore,
    report: Report,
    counted: Callable[[], None],
) -> None:
    """Read, check and store each file; images also get their gallery thumbnail now.

    ``counted`` is called once per name, whatever became of the file.
    """
    role = "image" if column == "images" else "material"
    if role == "image":
        check_image_count(len(names), report, pending.row, column)
    for position, name in enumerate(names):
        try:
            check_file_name(name)
            if source is None:
                report.add("entries.assets_needed", pending.row, column, name=name)
                continue
            data = source.read(name)
            digest, mime = check_entry_file(role, name, data, store)
        except AssetError as error:
            report.add(error.key, pending.row, column, **error.params)
            continue
        finally:
            counted()
        pending.files.append(PendingFile(role, position, name, digest, len(data), mime))


def _check_values(row: int | None, values: dict[str, str], report: Report) -> bool:
    """The rules of each cell on its own; False when the code is unusable for lookups."""
    code_ok = True
    if problem := code_problem(values["code"], column_length(Entry, "code") or 40):
        report.add(problem[0], row, "code", **problem[1])
        code_ok = False
    for column in SINGLE_LINE:
        if problem := text_problem(values[column], column_length(Entry, column)):
            report.add(problem[0], row, column, **problem[1])
    if problem := text_problem(values["summary"], None, multiline=True):
        report.add(problem[0], row, "summary", **problem[1])
    for column in ("code", "title", "applicant", "category", "domain"):
        if not values[column]:
            report.add("import.required", row, column)
    return code_ok


def check_entry_values(
    values: dict[str, str],
    known_categories: set[str],
    known_domains: set[str],
    report: Report,
    row: int | None = None,
) -> bool:
    """Every rule of one entry's own fields (SPEC §5.2), for a workbook row and the form alike.

    ``values`` holds ``code, title, kind, applicant, recommender, category, domain, summary``
    as text. Problems go to ``report`` under their column; returns False when the code is
    unusable for lookups (so a caller does not go on to say it is taken).
    """
    code_ok = _check_values(row, values, report)
    for column, known, key in (
        ("category", known_categories, "entries.unknown_category"),
        ("domain", known_domains, "entries.unknown_domain"),
    ):
        if values[column] and values[column] not in known:
            report.add(
                key, row, column, value=shown(values[column]), allowed="、".join(sorted(known))
            )
    if values["kind"] and values["kind"] not in ENTRY_KINDS:
        report.add(
            "import.bad_choice",
            row,
            "kind",
            value=shown(values["kind"]),
            allowed=", ".join(ENTRY_KINDS),
        )
    return code_ok


def plan_entries_import(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    path: Path,
    assets: Path | None = None,
    data: bytes | None = None,
    *,
    store: AssetStore,
    progress: Progress | None = None,
) -> EntriesPlan:
    """Read and check every row and file, storing accepted files; no row is written here.

    ``session`` only reads (the campaign's categories, domains and codes), so a read session
    is enough: call this outside ``Database.write``. ``progress`` hears step ``"files"``.

    Authorises before reading anything: files are stored while planning, so a refused
    import (a finalised campaign, a reviewer) must be refused before the first one lands
    in the data folder, where it would travel into every backup. The write checks again.
    """
    campaign = authorise_campaign(session, actor, can_change_entries, "entries.import", campaign)[1]
    report = Report()
    frame = read_mapped(path, data, COLUMNS, report)
    table = list(rows(frame))
    total = sum(
        len(split_names(values[column]))
        for _, values in table
        for column in ("images", "materials")
    )
    checked = 0

    def counted() -> None:
        nonlocal checked
        checked += 1
        if progress is not None and (checked % FILES_EVERY == 0 or checked == total):
            progress("files", checked, total)

    if progress is not None:
        progress("files", 0, total)
    known_categories = {c.name for c in categories(session, campaign.id)}
    known_domains = {d.name for d in domains(session, campaign.id)}
    existing = set(session.exec(select(Entry.code).where(Entry.campaign_id == campaign.id)))
    seen: dict[str, int] = {}
    planned: list[PendingEntry] = []
    source = None
    if assets is not None:
        try:
            source = open_asset_source(assets)
        except AssetError as error:
            report.add(error.key, None, "assets", **error.params)
    try:
        for row, values in table:
            pending = PendingEntry(row, values)
            code = values["code"]
            if check_entry_values(values, known_categories, known_domains, report, row) and code:
                if code in seen:
                    report.add("entries.duplicate_code", row, "code", code=code, first=seen[code])
                elif code in existing:
                    report.add("entries.code_exists", row, "code", code=code)
                seen.setdefault(code, row)
            if values["status"] and values["status"] not in ENTRY_STATUSES:
                report.add(
                    "import.bad_choice",
                    row,
                    "status",
                    value=shown(values["status"]),
                    allowed=", ".join(ENTRY_STATUSES),
                )
            if values["votes"]:
                votes = parse_count(values["votes"])
                if isinstance(votes, int):
                    pending.votes = votes
                else:
                    report.add(votes[0], row, "votes", **votes[1])
            for column in ("images", "materials"):
                names = split_names(values[column])
                _check_files(pending, column, names, source, store, report, counted)
            planned.append(pending)
    finally:
        if source is not None:
            source.close()
    if not planned and report.ok:
        report.add("import.empty")
    return EntriesPlan(campaign.id, planned, report, path.name)


def _recheck(session: Session, campaign: Campaign, plan: EntriesPlan) -> tuple[dict, dict]:
    """What may have changed since the plan: codes taken, categories or domains removed."""
    report = Report()
    codes = [p.values["code"] for p in plan.entries]
    taken: set[str] = set()
    for start in range(0, len(codes), 500):  # stay far below any bound-parameter limit
        chunk = codes[start : start + 500]
        taken.update(
            session.exec(
                select(Entry.code).where(
                    Entry.campaign_id == campaign.id, col(Entry.code).in_(chunk)
                )
            )
        )
    category_ids = {c.name: c.id for c in categories(session, campaign.id)}
    domain_ids = {d.name: d.id for d in domains(session, campaign.id)}
    for pending in plan.entries:
        v = pending.values
        if v["code"] in taken:
            report.add("entries.code_exists", pending.row, "code", code=v["code"])
        if v["category"] not in category_ids:
            report.add(
                "entries.unknown_category",
                pending.row,
                "category",
                value=v["category"],
                allowed="、".join(sorted(category_ids)),
            )
        if v["domain"] not in domain_ids:
            report.add(
                "entries.unknown_domain",
                pending.row,
                "domain",
                value=v["domain"],
                allowed="、".join(sorted(domain_ids)),
            )
    report.raise_if_invalid(plan.source)
    return category_ids, domain_ids


def _audited_fields(entry: Entry, pending: PendingEntry) -> dict:
    return {
        "title": entry.title,
        "kind": entry.kind,
        "applicant": entry.applicant,
        "recommender": entry.recommender,
        "category": pending.values["category"],
        "domain": pending.values["domain"],
        "status": entry.status,
        "votes": pending.votes,
        "files": [f"{f.role}:{f.filename}:{f.sha256[:12]}" for f in pending.files],
    }


def apply_entries_import(
    session: Session, actor: Actor, plan: EntriesPlan, *, progress: Progress | None = None
) -> int:
    """Write a checked plan in the caller's (short) write transaction; returns the count.

    Authorises first, against the actor and campaign re-read here: a campaign finalised since
    the plan refuses the import with ``StateRefused``. The files are already stored.
    ``progress`` hears step ``"write"``, counting entries.
    """
    done = authorise(
        session, actor, can_change_entries, "entries.import", campaign=plan.campaign_id
    )
    actor, campaign = done.actor, done.campaign
    assert campaign is not None
    plan.report.raise_if_invalid(plan.source)
    category_ids, domain_ids = _recheck(session, campaign, plan)
    entries = [
        Entry(
            campaign_id=campaign.id,
            code=p.values["code"],
            title=p.values["title"],
            kind=p.values["kind"] or "case",
            applicant=p.values["applicant"],
            recommender=p.values["recommender"],
            category_id=category_ids[p.values["category"]],
            domain_id=domain_ids[p.values["domain"]],
            summary=p.values["summary"],
            status=p.values["status"] or "submitted",
        )
        for p in plan.entries
    ]
    session.add_all(entries)
    session.flush()  # one multi-row INSERT; the ids come back with it
    rows_after: list = []
    total = len(entries)
    if progress is not None:
        progress("write", 0, total)
    for done, (entry, pending) in enumerate(zip(entries, plan.entries, strict=True), 1):
        rows_after.extend(
            EntryAsset(
                entry_id=entry.id,
                role=f.role,
                position=f.position,
                filename=f.filename,
                sha256=f.sha256,
                mime=f.mime,
                size_bytes=f.size_bytes,
            )
            for f in pending.files
        )
        if pending.votes is not None:
            rows_after.append(VoteTally.of_import(entry.id, pending.votes))
        rows_after.append(
            audit.event(
                actor,
                "entry.import",
                target=entry.code,
                campaign_id=campaign.id,
                new=_audited_fields(entry, pending),
            )
        )
        if progress is not None and done % WRITE_EVERY == 0:
            progress("write", done, total)
    rows_after.append(
        audit.event(
            actor,
            "entries.import",
            target=campaign.slug,
            campaign_id=campaign.id,
            new={"entries": len(plan.entries), "files": plan.file_count},
        )
    )
    session.add_all(rows_after)
    session.flush()  # the files, tallies and events go in here, before "done" is said
    if progress is not None:
        progress("write", total, total)
    return len(plan.entries)
