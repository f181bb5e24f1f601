"""``import-entries`` (SPEC §5.2): a workbook of entries plus a folder or zip of their files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from scoring.assets import (
    AssetStore,
    check_file_name,
    open_asset_source,
    validate_image,
    validate_material,
)
from scoring.errors import AssetError
from scoring.importers.report import Report
from scoring.importers.tables import Column, map_columns, read_table, rows, split_names
from scoring.permissions import Actor, can_manage, require
from scoring.services import audit
from scoring.services.campaigns import categories, domains
from scoring.storage.models import (
    ENTRY_KINDS,
    ENTRY_STATUSES,
    Campaign,
    Entry,
    EntryAsset,
    VoteTally,
)

MAX_IMAGES = 4

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
    """A checked file; its bytes are read again when the plan is applied, to save memory."""

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
    files: list[PendingFile] = field(default_factory=list)


@dataclass
class EntriesPlan:
    """What an import would write, shown to the organiser before anything is saved."""

    entries: list[PendingEntry]
    report: Report
    assets: Path | None = None
    source: str = "entries"

    @property
    def file_count(self) -> int:
        return sum(len(e.files) for e in self.entries)


def _check_files(
    pending: PendingEntry, column: str, names: list[str], source, report: Report
) -> None:
    role = "image" if column == "images" else "material"
    if role == "image" and len(names) > MAX_IMAGES:
        report.add(
            "entries.too_many_images", pending.row, column, count=len(names), maximum=MAX_IMAGES
        )
    for position, name in enumerate(names):
        try:
            check_file_name(name)
            if source is None:
                report.add("entries.assets_needed", pending.row, column, name=name)
                continue
            data = source.read(name)
            mime = validate_image(name, data) if role == "image" else validate_material(name, data)
        except AssetError as error:
            report.add(error.key, pending.row, column, **error.params)
            continue
        digest = hashlib.sha256(data).hexdigest()
        pending.files.append(PendingFile(role, position, name, digest, len(data), mime))


def plan_entries_import(
    session: Session,
    campaign: Campaign,
    path: Path,
    assets: Path | None = None,
    data: bytes | None = None,
) -> EntriesPlan:
    """Read and check every row and file; nothing is written here."""
    report = Report()
    frame = map_columns(read_table(path, data), COLUMNS, report)
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
        for row, values in rows(frame):
            pending = PendingEntry(row, values)
            for column in ("code", "title", "applicant", "category", "domain"):
                if not values[column]:
                    report.add("import.required", row, column)
            code = values["code"]
            if code and code in seen:
                report.add("entries.duplicate_code", row, "code", code=code, first=seen[code])
            elif code in existing:
                report.add("entries.code_exists", row, "code", code=code)
            seen.setdefault(code, row)
            if values["category"] and values["category"] not in known_categories:
                report.add(
                    "entries.unknown_category",
                    row,
                    "category",
                    value=values["category"],
                    allowed="、".join(sorted(known_categories)),
                )
            if values["domain"] and values["domain"] not in known_domains:
                report.add(
                    "entries.unknown_domain",
                    row,
                    "domain",
                    value=values["domain"],
                    allowed="、".join(sorted(known_domains)),
                )
            if values["kind"] and values["kind"] not in ENTRY_KINDS:
                report.add(
                    "import.bad_choice",
                    row,
                    "kind",
                    value=values["kind"],
                    allowed=", ".join(ENTRY_KINDS),
                )
            if values["status"] and values["status"] not in ENTRY_STATUSES:
                report.add(
                    "import.bad_choice",
                    row,
                    "status",
                    value=values["status"],
                    allowed=", ".join(ENTRY_STATUSES),
                )
            if values["votes"] and not (values["votes"].isdigit()):
                report.add("import.bad_count", row, "votes", value=values["votes"])
            for column in ("title", "applicant", "recommender"):
                if len(values[column]) > 200:
                    report.add("import.too_long", row, column, maximum=200)
            _check_files(pending, "images", split_names(values["images"]), source, report)
            _check_files(pending, "materials", split_names(values["materials"]), source, report)
            planned.append(pending)
    finally:
        if source is not None:
            source.close()
    if not planned and report.ok:
        report.add("import.empty")
    return EntriesPlan(planned, report, assets, path.name)


def _store_files(plan: EntriesPlan, store: AssetStore) -> None:
    """Copy the checked files into the store, refusing any that changed since the check."""
    files = [f for entry in plan.entries for f in entry.files]
    if not files or plan.assets is None:
        return
    with open_asset_source(plan.assets) as source:
        for pending_file in files:
            if store.put(source.read(pending_file.filename)) != pending_file.sha256:
                raise AssetError("asset.changed_during_import", name=pending_file.filename)


def apply_entries_import(
    session: Session, actor: Actor, campaign: Campaign, plan: EntriesPlan, store: AssetStore
) -> int:
    """Write a checked plan in the caller's transaction; returns the number of entries.

    Files go into the content-addressed store first: if the transaction then fails, what is
    left is an unreferenced file, never a row pointing at a missing file.
    """
    require(can_manage(actor), "entries.import")
    plan.report.raise_if_invalid(plan.source)
    _store_files(plan, store)
    category_ids = {c.name: c.id for c in categories(session, campaign.id)}
    domain_ids = {d.name: d.id for d in domains(session, campaign.id)}
    for pending in plan.entries:
        v = pending.values
        entry = Entry(
            campaign_id=campaign.id,
            code=v["code"],
            title=v["title"],
            kind=v["kind"] or "case",
            applicant=v["applicant"],
            recommender=v["recommender"],
            category_id=category_ids[v["category"]],
            domain_id=domain_ids[v["domain"]],
            summary=v["summary"],
            status=v["status"] or "submitted",
        )
        session.add(entry)
        session.flush()
        for pending_file in pending.files:
            session.add(
                EntryAsset(
                    entry_id=entry.id,
                    role=pending_file.role,
                    position=pending_file.position,
                    filename=pending_file.filename,
                    sha256=pending_file.sha256,
                    mime=pending_file.mime,
                    size_bytes=pending_file.size_bytes,
                )
            )
        if v["votes"]:
            session.add(VoteTally(entry_id=entry.id, votes=int(v["votes"])))
    audit.record(
        session,
        actor,
        "entries.import",
        target=campaign.slug,
        campaign_id=campaign.id,
        new={"entries": len(plan.entries), "files": plan.file_count},
    )
    return len(plan.entries)
