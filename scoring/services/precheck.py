"""Pre-check (案例审核, SPEC §2.3): what the system can flag by itself, and the decisions.

Organisers mark each entry ``accepted`` or ``rejected`` with a reason. Before they do, the
system points at what it can check without a human: missing required fields, too few images,
an applicant over its per-domain limit (a group and the branches the organiser linked to it
count as one applicant), duplicate titles and stored files that can no longer be used. Flags
are hints for the organiser, never decisions: nothing here changes a status by itself.

Flags are ``(key, params)`` pairs so that the page and the command line can show them in
either language (``flag_messages``); the keys are ``precheck.*``, or for a stored file refused
by its content, the ``asset.*`` reason from :mod:`scoring.assets` (the same words the import
would have used for it).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import defaultdict
from typing import Any, Literal

import pandas as pd
from sqlmodel import Session, col, select

from scoring.assets import AssetStore, validate_image, validate_material
from scoring.errors import AssetError, ValidationFailed
from scoring.i18n import translate
from scoring.permissions import Actor, can_change_entries, can_manage
from scoring.services import audit
from scoring.services.guard import authorise_campaign
from scoring.storage.models import ApplicantLink, Campaign, Category, Domain, Entry, EntryAsset

Flag = tuple[str, dict[str, Any]]
"""One problem found automatically: a catalogue key and its parameters."""

Decision = Literal["accepted", "rejected"]

DECISIONS: tuple[str, ...] = ("accepted", "rejected")

REQUIRED_FIELDS: tuple[str, ...] = ("title", "applicant", "category", "domain")
"""The fields SPEC §5.2 marks required. ``summary`` is not among them: §5.2 makes it optional,
so an entry imported by the rules must not be flagged for lacking one (organisers who want a
summary reject with that reason)."""

FRAME_COLUMNS: list[str] = [
    "code",
    "title",
    "applicant",
    "category",
    "domain",
    "status",
    "status_reason",
    "flags",
]

MAX_NAME_LENGTH = 200
"""``ApplicantLink.applicant`` and ``counts_as`` hold at most 200 characters."""


def fold(text: str) -> str:
    """The comparison form of a title or an applicant: case, width and whitespace ignored.

    Chinese names are typed with full-width or half-width brackets and stray spaces
    (``青岛市 大数据局（分局）`` and ``青岛市大数据局(分局)`` are the same unit), so NFKC,
    casefold and dropping every whitespace character make them compare equal.
    """
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


# --- flags -----------------------------------------------------------------------------------


def _codes(codes: list[str]) -> str:
    return ", ".join(codes)


def _stored_file_problem(store: AssetStore, asset: EntryAsset, verify_content: bool) -> Flag | None:
    """Why the stored file of ``asset`` can no longer be used, or None when it is fine.

    The store keeps files under their SHA-256 and never rewrites them, so a file that is
    missing, has another size or hashes differently was lost or altered outside ReviewDesk.
    A file whose bytes still match is decoded again (images fully): one imported before the
    content checks existed, or added by another route, must not reach a reviewer broken.
    """
    try:
        path = store.path(asset.sha256)
    except AssetError as error:
        return error.key, dict(error.params)
    try:
        size = path.stat().st_size
        if size != asset.size_bytes:
            return "precheck.file_changed", {"name": asset.filename}
        if not verify_content:
            return None
        data = path.read_bytes()
    except FileNotFoundError:
        return "precheck.file_missing", {"name": asset.filename}
    except OSError:
        return "precheck.file_inaccessible", {"name": asset.filename}
    if hashlib.sha256(data).hexdigest() != asset.sha256:
        return "precheck.file_changed", {"name": asset.filename}
    try:
        if asset.role == "image":
            validate_image(asset.filename, data)
        else:
            validate_material(asset.filename, data)
    except AssetError as error:
        return error.key, dict(error.params)
    return None


def _applicant_groups(session: Session, campaign: Campaign) -> dict[str, str]:
    """Folded applicant name -> the name of the group it counts as."""
    return {
        fold(link.applicant): link.counts_as
        for link in session.exec(
            select(ApplicantLink).where(ApplicantLink.campaign_id == campaign.id)
        )
    }


def precheck_flags(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    asset_store: AssetStore,
    *,
    verify_content: bool = True,
) -> pd.DataFrame:
    """One row per entry in code order, with the problems found automatically in ``flags``.

    Columns: ``code, title, applicant, category, domain, status, status_reason, flags``;
    ``flags`` is a list of ``(key, params)`` (see ``flag_messages``), empty when nothing was
    found. The checks, in the order their flags appear:

    * a required field (``REQUIRED_FIELDS``) empty or only whitespace;
    * fewer images than ``campaign.min_images``. Every attached image counts, readable or
      not: a broken image gets its own flag naming the file, and counting it twice would
      send the organiser after two problems where there is one;
    * each stored file (image or material) missing, altered since it was stored (size, then
      SHA-256), or no longer valid by content (images must decode in full). With
      ``verify_content=False`` only presence and size are checked, which costs one ``stat``
      per file instead of reading and decoding every byte: for a page that reruns often;
    * more than ``campaign.max_entries_per_applicant_per_domain`` entries of one applicant in
      one domain, where applicants linked to a group (``link_applicants``) count as that
      group; the flag names the other entries;
    * the same title as other entries of the campaign (``fold``), naming their codes.

    Rejected entries neither count towards the applicant limit nor make duplicates: rejecting
    the surplus entry is how an organiser resolves those flags, and the flag must then go.
    Rejected entries still get their own per-entry flags.
    """
    actor, campaign = authorise_campaign(session, actor, can_manage, "precheck.view", campaign)
    rows = session.exec(
        select(Entry, Category.name, Domain.name)
        .join(Category, Category.id == Entry.category_id)
        .join(Domain, Domain.id == Entry.domain_id)
        .where(Entry.campaign_id == campaign.id)
        .order_by(col(Entry.code))
    ).all()
    if not rows:
        return pd.DataFrame(columns=FRAME_COLUMNS)
    assets: dict[int, list[EntryAsset]] = defaultdict(list)
    for asset in session.exec(
        select(EntryAsset)
        .join(Entry, Entry.id == EntryAsset.entry_id)
        .where(Entry.campaign_id == campaign.id)
        .order_by(col(EntryAsset.entry_id), col(EntryAsset.role), col(EntryAsset.position))
    ):
        assets[asset.entry_id].append(asset)
    groups = _applicant_groups(session, campaign)

    # Cross-entry buckets, of entries still in the running.
    by_applicant: dict[tuple[str, int], list[str]] = defaultdict(list)
    by_title: dict[str, list[str]] = defaultdict(list)
    for entry, _category, _domain in rows:
        if entry.status == "rejected":
            continue
        if entry.applicant.strip():
            group = groups.get(fold(entry.applicant), entry.applicant)
            by_applicant[(fold(group), entry.domain_id)].append(entry.code)
        if entry.title.strip():
            by_title[fold(entry.title)].append(entry.code)

    checked: dict[tuple[str, str, int, str], Flag | None] = {}
    limit = campaign.max_entries_per_applicant_per_domain
    records = []
    for entry, category, domain in rows:
        flags: list[Flag] = []
        values = {
            "title": entry.title,
            "applicant": entry.applicant,
            "category": category,
            "domain": domain,
        }
        flags += [(f"precheck.missing_{f}", {}) for f in REQUIRED_FIELDS if not values[f].strip()]
        files = assets.get(entry.id, [])
        images = sum(1 for a in files if a.role == "image")
        if images < campaign.min_images:
            flags.append(
                ("precheck.too_few_images", {"count": images, "minimum": campaign.min_images})
            )
        for asset in files:
            # Entries sharing a stored file under one name: read and decode it once per call.
            key = (asset.sha256, asset.role, asset.size_bytes, asset.filename)
            if key not in checked:
                checked[key] = _stored_file_problem(asset_store, asset, verify_content)
            if (problem := checked[key]) is not None:
                flags.append((problem[0], dict(problem[1])))
        if entry.status != "rejected":
            if entry.applicant.strip():
                group = groups.get(fold(entry.applicant), entry.applicant)
                bucket = by_applicant[(fold(group), entry.domain_id)]
                if len(bucket) > limit:
                    params: dict[str, Any] = {
                        "applicant": entry.applicant,
                        "domain": domain,
                        "count": len(bucket),
                        "limit": limit,
                        "codes": _codes([c for c in bucket if c != entry.code]),
                    }
                    if fold(group) == fold(entry.applicant):
                        flags.append(("precheck.too_many_entries", params))
                    else:
                        flags.append(
                            ("precheck.too_many_entries_linked", {**params, "group": group})
                        )
            if entry.title.strip():
                same = [c for c in by_title[fold(entry.title)] if c != entry.code]
                if same:
                    flags.append(("precheck.duplicate_title", {"codes": _codes(same)}))
        records.append(
            {
                "code": entry.code,
                "title": entry.title,
                "applicant": entry.applicant,
                "category": category,
                "domain": domain,
                "status": entry.status,
                "status_reason": entry.status_reason,
                "flags": flags,
            }
        )
    return pd.DataFrame(records, columns=FRAME_COLUMNS)


def flag_messages(flags: list[Flag], lang: str) -> list[str]:
    """Each flag as a sentence in the interface language, in the order given."""
    return [translate(key, lang, **params) for key, params in flags]


# --- decisions -------------------------------------------------------------------------------


def decide(
    session: Session,
    actor: Actor,
    campaign: Campaign,
    codes: list[str],
    decision: Decision,
    reason: str,
) -> int:
    """Accept or reject the named entries in one go; returns how many changed.

    All or nothing: every code is checked before anything is written, and a refusal names
    every code it concerns. The rules:

    * organisers only; not once the campaign is finalised (its standings are frozen);
    * rejecting needs a reason (not only whitespace): the applicant will ask why. Accepting
      takes an optional note; either way the given text replaces the previous reason, so an
      entry accepted after a rejection no longer shows why it was once rejected (the audit
      log keeps that);
    * a shortlisted entry cannot be rejected here. It may already carry votes, reviewer
      assignments and scores, and dropping it from the review is a shortlist decision to be
      taken on purpose, not a side effect of a bulk selection: take it off the shortlist
      first. For the same reason, accepting a shortlisted entry leaves it shortlisted and
      unchanged (it was accepted already);
    * an entry already in the asked state with the same reason is left alone and not
      counted, so repeating a bulk action writes nothing.

    Every change appends an ``entry.status`` audit event with the old and new status and
    reason.
    """
    actor, campaign = authorise_campaign(
        session, actor, can_change_entries, "entries.decide", campaign
    )
    if decision not in DECISIONS:
        raise ValidationFailed(
            "precheck.bad_decision", value=str(decision), allowed=", ".join(DECISIONS)
        )
    reason = (reason or "").strip()
    if decision == "rejected" and not reason:
        raise ValidationFailed("precheck.reason_required")
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    found = {
        e.code: e
        for e in session.exec(
            select(Entry).where(Entry.campaign_id == campaign.id, col(Entry.code).in_(wanted))
        )
    }
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise ValidationFailed("precheck.unknown_codes", codes=_codes(unknown))
    if decision == "rejected":
        shortlisted = [c for c in wanted if found[c].status == "shortlisted"]
        if shortlisted:
            raise ValidationFailed("precheck.shortlisted", codes=_codes(shortlisted))
    changed = 0
    for code in wanted:
        entry = found[code]
        if entry.status == "shortlisted":
            continue
        if entry.status == decision and entry.status_reason == reason:
            continue
        audit.record(
            session,
            actor,
            "entry.status",
            target=entry.code,
            campaign_id=campaign.id,
            old={"status": entry.status, "reason": entry.status_reason},
            new={"status": decision, "reason": reason},
        )
        entry.status = decision
        entry.status_reason = reason
        session.add(entry)
        changed += 1
    return changed


# --- linked applicants -----------------------------------------------------------------------


def _links(session: Session, campaign: Campaign) -> list[ApplicantLink]:
    return list(
        session.exec(
            select(ApplicantLink)
            .where(ApplicantLink.campaign_id == campaign.id)
            .order_by(col(ApplicantLink.counts_as), col(ApplicantLink.applicant))
        )
    )


def applicant_links(session: Session, actor: Actor, campaign: Campaign) -> dict[str, str]:
    """Each linked applicant and the group it counts as, sorted by group; organisers only."""
    actor, campaign = authorise_campaign(session, actor, can_manage, "precheck.view", campaign)
    return {link.applicant: link.counts_as for link in _links(session, campaign)}


def _checked_name(name: str) -> str:
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            "precheck.link_too_long", name=name[:40] + "…", maximum=MAX_NAME_LENGTH
        )
    return name


def link_applicants(
    session: Session, actor: Actor, campaign: Campaign, group: str, members: list[str]
) -> int:
    """Count each member (a branch, a subsidiary) as ``group`` for the per-domain limit.

    Names are compared like the pre-check compares them (``fold``). A member already linked
    to another group is moved to this one. Links are one level deep, so that who counts as
    whom is visible at a glance: a group that itself counts as another group, or a member
    that other units already count as, is refused with the names to link instead. A member
    equal to the group is ignored. Returns how many links were created or moved; each one is
    audited as ``applicant.link`` with the previous group (None when new) and the new one.
    """
    actor, campaign = authorise_campaign(
        session, actor, can_change_entries, "applicants.link", campaign
    )
    group = _checked_name((group or "").strip())
    if not group:
        raise ValidationFailed("precheck.link_no_group")
    names = [
        _checked_name(m)
        for m in dict.fromkeys(m.strip() for m in members if m.strip())
        if fold(m) != fold(group)
    ]
    if not names:
        raise ValidationFailed("precheck.link_no_members")
    links = _links(session, campaign)
    by_member = {fold(link.applicant): link for link in links}
    if (parent := by_member.get(fold(group))) is not None:
        raise ValidationFailed("precheck.link_chain", group=group, parent=parent.counts_as)
    groups = {fold(link.counts_as) for link in links}
    heads = [m for m in names if fold(m) in groups]
    if heads:
        raise ValidationFailed("precheck.link_member_is_group", names=_codes(heads))
    changed = 0
    for name in names:
        link = by_member.get(fold(name))
        if link is not None and fold(link.counts_as) == fold(group):
            continue
        old = link.counts_as if link is not None else None
        if link is None:
            link = ApplicantLink(campaign_id=campaign.id, applicant=name, counts_as=group)
        else:
            link.counts_as = group
        session.add(link)
        audit.record(
            session,
            actor,
            "applicant.link",
            target=link.applicant,
            campaign_id=campaign.id,
            old=old,
            new=group,
        )
        changed += 1
    return changed


def unlink_applicants(
    session: Session, actor: Actor, campaign: Campaign, members: list[str]
) -> int:
    """Let the named applicants count on their own again; returns how many links were removed.

    Names without a link are ignored, so a link made by mistake is undone in one step.
    Each removal is audited as ``applicant.unlink`` with the group it counted as.
    """
    actor, campaign = authorise_campaign(
        session, actor, can_change_entries, "applicants.link", campaign
    )
    wanted = {fold(m) for m in members if m.strip()}
    removed = 0
    for link in _links(session, campaign):
        if fold(link.applicant) in wanted:
            audit.record(
                session,
                actor,
                "applicant.unlink",
                target=link.applicant,
                campaign_id=campaign.id,
                old=link.counts_as,
                new=None,
            )
            session.delete(link)
            removed += 1
    return removed
