"""``import-votes`` (SPEC §5.3): vote tallies per entry, replacing what was there."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from scoring.importers.report import Report
from scoring.importers.tables import Column, map_columns, read_table, rows
from scoring.permissions import Actor, can_manage, require
from scoring.services import audit
from scoring.services.finalise import ensure_open
from scoring.storage.models import Campaign, Entry, VoteTally, utcnow

COLUMNS = [
    Column("code", ("编号", "案例编号"), required=True),
    Column("votes", ("票数", "投票数"), required=True),
]


def import_votes(
    session: Session, actor: Actor, campaign: Campaign, path: Path, data: bytes | None = None
) -> int:
    """Replace the tallies of the listed entries; every row valid or nothing written."""
    require(can_manage(actor), "votes.import")
    ensure_open(campaign)
    report = Report()
    frame = map_columns(read_table(path, data), COLUMNS, report)
    entry_ids = dict(
        session.exec(select(Entry.code, Entry.id).where(Entry.campaign_id == campaign.id)).all()
    )
    tallies: dict[int, int] = {}
    seen: dict[str, int] = {}
    for row, values in rows(frame):
        code, votes = values["code"], values["votes"].replace(",", "")
        if code not in entry_ids:
            report.add("votes.unknown_code", row, "code", code=code)
        elif code in seen:
            report.add("votes.duplicate", row, "code", code=code, first=seen[code])
        if not votes.isdigit():
            report.add("import.bad_count", row, "votes", value=values["votes"])
        seen.setdefault(code, row)
        if code in entry_ids and votes.isdigit():
            tallies[entry_ids[code]] = int(votes)
    if not seen and report.ok:
        report.add("import.empty")
    report.raise_if_invalid(path.name)
    old = {
        t.entry_id: t.votes
        for t in session.exec(select(VoteTally).where(VoteTally.entry_id.in_(list(tallies))))
    }  # type: ignore[union-attr]
    for entry_id, votes in tallies.items():
        tally = session.get(VoteTally, entry_id) or VoteTally(entry_id=entry_id)
        tally.votes, tally.updated_at = votes, utcnow()
        session.add(tally)
    changed = {
        code: tallies[entry_ids[code]]
        for code in seen
        if old.get(entry_ids[code]) != tallies[entry_ids[code]]
    }
    audit.record(
        session,
        actor,
        "votes.import",
        target=campaign.slug,
        campaign_id=campaign.id,
        old={c: old.get(entry_ids[c]) for c in changed},
        new=changed,
    )
    return len(tallies)
