"""Adding and editing one entry by hand (SPEC §2.2 "added one by one in the UI").

The form goes through the entries import's own checks (``check_entry_values``,
``check_entry_file``, ``check_image_count`` in ``scoring.importers.entries``), so a code, a
category or a file refused in a workbook is refused here with the same reason, and the same
rule ``can_change_entries`` (organiser, campaign not finalised) decides who may save.

Two steps, as for the import: :func:`check_upload` reads and judges an uploaded file outside
any transaction and stores nothing; :func:`save_entry` then runs in one write transaction,
checks every field, and only when all of it is accepted puts the new files into the store and
writes the rows, with one audit event holding old and new. A refusal writes nothing at all.

Two organisers editing one entry: the form carries the :attr:`EntryEditView.version` it was
drawn from (a digest of the fields and files it shows, so no schema column is needed); a save
made on an older version is refused with ``StaleEdit`` instead of overwriting the other's.

What is refused and what only needs a confirmation is in docs/decisions.md ("Editing one
entry").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from scoring.assets import AssetStore
from scoring.errors import Names, StaleEdit, ValidationFailed
from scoring.importers.entries import (
    MAX_IMAGES,
    check_entry_file,
    check_entry_values,
    check_image_count,
)
from scoring.importers.report import Problem, Report
from scoring.permissions import Actor, can_change_entries, can_manage
from scoring.services import audit
from scoring.services.campaigns import categories, domains
from scoring.services.entries import entry_by_code
from scoring.services.guard import authorise_campaign
from scoring.services.precheck import _applicant_groups, fold
from scoring.services.setup import scoring_started
from scoring.storage.models import (
    Assignment,
    Campaign,
    Entry,
    EntryAsset,
    PublicVote,
    ScoreSheet,
    VoteTally,
)

FIELDS = ("code", "title", "kind", "applicant", "recommender", "category", "domain", "summary")
"""What the form edits: the entries workbook's own columns (SPEC §5.2) but votes and status,
which have their own pages (votes import, pre-check)."""

ROLES = ("image", "material")


@dataclass(frozen=True)
class Upload:
    """A file chosen in the form, checked by content, not stored yet."""

    role: str
    filename: str
    data: bytes = field(repr=False)
    sha256: str
    mime: str


@dataclass(frozen=True)
class AssetLine:
    """A stored file of the entry, as the form lists it."""

    id: int
    role: str
    position: int
    filename: str
    sha256: str
    mime: str
    size_bytes: int


@dataclass(frozen=True)
class EntryEditView:
    """What the form is drawn from. ``code`` is None for a new entry."""

    code: str | None
    values: dict[str, str]
    assets: tuple[AssetLine, ...]
    version: str
    status: str
    code_fixed: bool
    """The entry has sheets, assignments or votes: its code is how they know it."""
    scoring_started: bool
    min_images: int
    categories: tuple[str, ...]
    domains: tuple[str, ...]
    finalised: bool
    codes: tuple[str, ...] = ()
    """Every entry code of the campaign, in order, for the page's picker."""

    def of_role(self, role: str) -> list[AssetLine]:
        return [a for a in self.assets if a.role == role]


@dataclass(frozen=True)
class SaveResult:
    """What a save did: the entry's code now, the fields and files it changed."""

    code: str
    created: bool
    changed: tuple[str, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reordered: bool = False

    @property
    def changes(self) -> int:
        """How many things the save changed: each field, each file in or out, the order."""
        return len(self.changed) + len(self.added) + len(self.removed) + self.reordered


def check_upload(role: str, filename: str, data: bytes) -> Upload:
    """Judge an uploaded file exactly as the import judges a file; nothing is stored.

    Raises ``AssetError`` naming the file (wrong kind by content, too large, unreadable,
    unsafe name). Needs no transaction: call it before :func:`save_entry`.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    sha, mime = check_entry_file(role, filename, data, None)
    return Upload(role, filename.strip(), data, sha, mime)


def _assets(session: Session, entry_id: int) -> list[EntryAsset]:
    return list(
        session.exec(
            select(EntryAsset)
            .where(EntryAsset.entry_id == entry_id)
            .order_by(col(EntryAsset.role), col(EntryAsset.position), col(EntryAsset.id))
        )
    )


def _values(entry: Entry, category_names: dict[int, str], domain_names: dict[int, str]) -> dict:
    return {
        "code": entry.code,
        "title": entry.title,
        "kind": entry.kind,
        "applicant": entry.applicant,
        "recommender": entry.recommender,
        "category": category_names.get(entry.category_id, ""),
        "domain": domain_names.get(entry.domain_id, ""),
        "summary": entry.summary,
    }


def _version(values: dict[str, str], assets: Sequence[EntryAsset]) -> str:
    """A digest of everything the form shows: any save by anybody changes it."""
    shown = {
        "values": values,
        "assets": [(a.id, a.role, a.position, a.filename, a.sha256) for a in assets],
    }
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()[:32]


def _code_fixed(session: Session, entry_id: int) -> bool:
    """Whether anything outside the entry row knows the entry: sheets, assignments, votes."""
    for table in (ScoreSheet, Assignment, VoteTally, PublicVote):
        if session.exec(select(table.entry_id).where(table.entry_id == entry_id)).first():
            return True
    return False


def entry_edit_view(
    session: Session, actor: Actor, campaign: Campaign, code: str | None = None
) -> EntryEditView:
    """The entry as the form shows it now (a blank one for ``code=None``); organisers only."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "entry.read", campaign)
    category_rows, domain_rows = categories(session, campaign.id), domains(session, campaign.id)
    category_names = {c.id: c.name for c in category_rows}
    domain_names = {d.id: d.name for d in domain_rows}
    common = {
        "scoring_started": scoring_started(session, campaign),
        "min_images": campaign.min_images,
        "categories": tuple(category_names.values()),
        "domains": tuple(domain_names.values()),
        "finalised": campaign.finalised_at is not None,
        "codes": tuple(
            session.exec(
                select(Entry.code).where(Entry.campaign_id == campaign.id).order_by(col(Entry.code))
            )
        ),
    }
    if code is None:
        blank = dict.fromkeys(FIELDS, "")
        blank["kind"] = "case"
        return EntryEditView(None, blank, (), "", "submitted", code_fixed=False, **common)
    entry = entry_by_code(session, campaign, code)
    assets = _assets(session, entry.id)
    values = _values(entry, category_names, domain_names)
    return EntryEditView(
        code=entry.code,
        values=values,
        assets=tuple(
            AssetLine(a.id, a.role, a.position, a.filename, a.sha256, a.mime, a.size_bytes)
            for a in assets
        ),
        version=_version(values, assets),
        status=entry.status,
        code_fixed=_code_fixed(session, entry.id),
        **common,
    )


def _clean(form: dict[str, Any]) -> dict[str, str]:
    """The form's text as the import reads a cell: stripped of surrounding spaces."""
    return {name: str(form.get(name) or "").strip() for name in FIELDS}


def _over_limit(
    session: Session, campaign: Campaign, entry_id: int | None, applicant: str, domain_id: int
) -> list[str]:
    """Codes of the applicant's other live entries in the domain, when this one is too many.

    The same counting as the pre-check flag (linked applicants count as their group,
    rejected entries do not count), so the warning here and the flag there agree.
    """
    groups = _applicant_groups(session, campaign)
    mine = fold(groups.get(fold(applicant), applicant))
    others = sorted(
        code
        for id_, code, name in session.exec(
            select(Entry.id, Entry.code, Entry.applicant).where(
                Entry.campaign_id == campaign.id,
                Entry.domain_id == domain_id,
                Entry.status != "rejected",
            )
        )
        if id_ != entry_id and fold(groups.get(fold(name), name)) == mine
    )
    return others if len(others) + 1 > campaign.max_entries_per_applicant_per_domain else []


def _file_line(asset: EntryAsset | Upload) -> str:
    return f"{asset.role}:{asset.filename}:{asset.sha256[:12]}"


def save_entry(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    form: dict[str, Any],
    *,
    store: AssetStore,
    code: str | None = None,
    expected_version: str = "",
    keep: Sequence[int] | None = None,
    uploads: Sequence[Upload] = (),
    confirmed: bool = False,
) -> SaveResult:
    """Add an entry (``code=None``) or change the entry ``code``, its fields and its files.

    ``keep`` lists the ids of the entry's stored files to keep, images in the order wanted
    (None keeps all as they are); ``uploads`` are appended after them. Refused whole with
    ``ValidationFailed`` whose problems name each field (the import's own reasons); with
    ``entry_edit.confirm_needed`` when the save removes files or has another consequence
    the organiser must confirm (``confirmed=True``); with ``StaleEdit`` when somebody saved
    the entry since ``expected_version`` was read; ``StateRefused`` once finalised.
    """
    action = "entry.add" if code is None else "entry.update"
    actor, campaign = authorise_campaign(session, actor, can_change_entries, action, campaign)
    category_ids = {c.name: c.id for c in categories(session, campaign.id)}
    domain_ids = {d.name: d.id for d in domains(session, campaign.id)}
    names = ({v: k for k, v in category_ids.items()}, {v: k for k, v in domain_ids.items()})

    entry = entry_by_code(session, campaign, code) if code is not None else None
    before_assets = _assets(session, entry.id) if entry is not None else []
    before = _values(entry, *names) if entry is not None else None
    if entry is not None and _version(before, before_assets) != expected_version:
        raise StaleEdit("entry_edit.stale", code=entry.code)

    values = _clean(form)
    values["kind"] = values["kind"] or "case"
    report = Report()
    code_ok = check_entry_values(values, set(category_ids), set(domain_ids), report)
    if code_ok and values["code"] and values["code"] != code:
        taken = select(Entry.id).where(
            Entry.campaign_id == campaign.id, Entry.code == values["code"]
        )
        if session.exec(taken).first() is not None:
            report.add("entries.code_exists", None, "code", code=values["code"])
    if entry is not None and values["code"] != entry.code and _code_fixed(session, entry.id):
        report.add("entry_edit.code_fixed", None, "code", code=entry.code)

    by_id = {a.id: a for a in before_assets}
    kept_ids = [a.id for a in before_assets] if keep is None else list(keep)
    if unknown := [i for i in kept_ids if i not in by_id]:
        raise StaleEdit("entry_edit.stale", code=code or values["code"], ids=unknown)
    kept = [by_id[i] for i in dict.fromkeys(kept_ids)]
    removed = [a for a in before_assets if a.id not in {k.id for k in kept}]
    after: dict[str, list[EntryAsset | Upload]] = {role: [] for role in ROLES}
    for item in [*kept, *uploads]:
        after[item.role].append(item)
    check_image_count(len(after["image"]), report, None, "images")
    report.raise_if_invalid(values["code"] or "entry")

    warnings = _warnings(
        session, campaign, entry, before, values, removed, after, domain_ids[values["domain"]]
    )
    if warnings and not confirmed:
        raise ValidationFailed("entry_edit.confirm_needed", problems=warnings)

    # Everything is accepted: now, and only now, the new files go into the store.
    for upload in uploads:
        if store.put(upload.data) != upload.sha256:  # an Upload not made by check_upload
            raise ValueError(f"{upload.filename}: bytes and sha256 differ")
    created = entry is None
    if entry is None:
        entry = Entry(
            campaign_id=campaign.id, code="", title="", applicant="", category_id=0, domain_id=0
        )
    entry.code, entry.title, entry.kind = values["code"], values["title"], values["kind"]
    entry.applicant, entry.recommender = values["applicant"], values["recommender"]
    entry.category_id = category_ids[values["category"]]
    entry.domain_id = domain_ids[values["domain"]]
    entry.summary = values["summary"]
    session.add(entry)
    try:
        session.flush()
    except IntegrityError:  # the same code saved by another organiser a moment ago
        report.add("entries.code_exists", None, "code", code=values["code"])
        report.raise_if_invalid(values["code"])
    _write_assets(session, entry.id, removed, after)

    changed = tuple(n for n in FIELDS if before is None or before[n] != values[n])
    added = tuple(_file_line(u) for u in uploads)
    gone = tuple(_file_line(a) for a in removed)
    reordered = [a.id for a in before_assets if a.id not in {r.id for r in removed}] != [
        a.id for role in ROLES for a in after[role] if isinstance(a, EntryAsset)
    ]
    if created or changed or added or gone or reordered:
        old = None
        if before is not None:
            old = {n: before[n] for n in changed}
            old["files"] = [_file_line(a) for a in before_assets]
        new = {n: values[n] for n in changed}
        new["files"] = [_file_line(a) for role in ROLES for a in after[role]]
        said = {"target": entry.code, "old": old, "new": new, "campaign_id": campaign.id}
        if created:
            audit.record(session, actor, "entry.add", **said)
        else:
            audit.record(session, actor, "entry.update", **said)
    return SaveResult(entry.code, created, changed, added, gone, reordered)


def _write_assets(
    session: Session,
    entry_id: int,
    removed: list[EntryAsset],
    after: dict[str, list[EntryAsset | Upload]],
) -> None:
    """Delete the removed rows, then number each role 0.. in the wanted order.

    Positions are unique per entry and role, so the kept rows first move out of the way
    (past every position in use), then take their places.
    """
    for asset in removed:
        session.delete(asset)
    session.flush()
    offset = MAX_IMAGES + sum(len(v) for v in after.values()) + 1000
    for items in after.values():
        for position, item in enumerate(items):
            if isinstance(item, EntryAsset):
                item.position = offset + position
                session.add(item)
    session.flush()
    for items in after.values():
        for position, item in enumerate(items):
            if isinstance(item, EntryAsset):
                item.position = position
                session.add(item)
            else:
                session.add(
                    EntryAsset(
                        entry_id=entry_id,
                        role=item.role,
                        position=position,
                        filename=item.filename,
                        sha256=item.sha256,
                        mime=item.mime,
                        size_bytes=len(item.data),
                    )
                )
    session.flush()


def _warnings(
    session: Session,
    campaign: Campaign,
    entry: Entry | None,
    before: dict[str, str] | None,
    values: dict[str, str],
    removed: list[EntryAsset],
    after: dict[str, list[EntryAsset | Upload]],
    domain_id: int,
) -> list[Problem]:
    """What the save would do that the organiser must confirm (docs/decisions.md)."""
    warnings = Report()
    for asset in removed:
        warnings.add(
            f"entry_edit.removes_{asset.role}", None, f"{asset.role}s", name=asset.filename
        )
    if before is not None and scoring_started(session, campaign):
        for name in ("category", "domain"):
            if before[name] != values[name]:
                warnings.add(
                    "entry_edit.group_moves", None, name, old=before[name], new=values[name]
                )
    status = entry.status if entry is not None else "submitted"
    images = len(after["image"])
    had = sum(1 for a in after["image"] if isinstance(a, EntryAsset)) + sum(
        1 for a in removed if a.role == "image"
    )
    if status in ("accepted", "shortlisted") and images < campaign.min_images and images < had:
        warnings.add(
            "entry_edit.too_few_images",
            None,
            "images",
            status=Names("status", (status,)),
            count=images,
            minimum=campaign.min_images,
        )
    moved = before is None or any(before[n] != values[n] for n in ("applicant", "domain"))
    if moved and status != "rejected" and values["applicant"]:
        others = _over_limit(
            session,
            campaign,
            entry.id if entry is not None else None,
            values["applicant"],
            domain_id,
        )
        if others:
            warnings.add(
                "entry_edit.too_many_entries",
                None,
                "applicant",
                applicant=values["applicant"],
                domain=values["domain"],
                count=len(others) + 1,
                limit=campaign.max_entries_per_applicant_per_domain,
                codes="、".join(others[:10]),
            )
    return warnings.problems
