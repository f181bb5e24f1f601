"""``import-votes`` (SPEC §5.3): vote tallies per entry, replacing what was there.

``plan_votes_import`` reads and checks the file outside any write transaction (a large
workbook takes seconds to read); ``apply_votes_import`` authorises, re-reads the campaign's
codes and writes in one short transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from scoring.importers.cells import code_problem, column_length, parse_count
from scoring.importers.report import Report
from scoring.importers.tables import Column, read_mapped, rows
from scoring.permissions import Actor, can_change_entries
from scoring.services import audit
from scoring.services.guard import authorise
from scoring.storage.models import Campaign, Entry, VoteTally

COLUMNS = [
    Column("code", ("编号", "案例编号"), required=True),
    Column("votes", ("票数", "投票数"), required=True),
]


@dataclass
class VotesPlan:
    """The checked tallies by code, with the row each came from."""

    campaign_id: int
    tallies: dict[str, tuple[int, int]]  # code -> (row, votes)
    report: Report
    source: str = "votes"


def plan_votes_import(
    session: Session, campaign: Campaign, path: Path, data: bytes | None = None
) -> VotesPlan:
    """Read and check every row; ``session`` only reads, nothing is written."""
    report = Report()
    frame = read_mapped(path, data, COLUMNS, report)
    known = set(session.exec(select(Entry.code).where(Entry.campaign_id == campaign.id)))
    tallies: dict[str, tuple[int, int]] = {}
    seen: dict[str, int] = {}
    for row, values in rows(frame):
        code = values["code"]
        if problem := code_problem(code, column_length(Entry, "code") or 40):
            report.add(problem[0], row, "code", **problem[1])
        elif not code:
            report.add("import.required", row, "code")
        elif code not in known:
            report.add("votes.unknown_code", row, "code", code=code)
        elif code in seen:
            report.add("votes.duplicate", row, "code", code=code, first=seen[code])
        seen.setdefault(code, row)
        votes = parse_count(values["votes"])
        if not isinstance(votes, int):
            report.add(votes[0], row, "votes", **votes[1])
        elif code in known and code not in tallies:
            tallies[code] = (row, votes)
    if not seen and report.ok:
        report.add("import.empty")
    return VotesPlan(campaign.id, tallies, report, path.name)


def apply_votes_import(session: Session, actor: Actor, plan: VotesPlan) -> int:
    """Replace the tallies of the listed entries; refused whole when a code went away."""
    done = authorise(session, actor, can_change_entries, "votes.import", campaign=plan.campaign_id)
    actor, campaign = done.actor, done.campaign
    assert campaign is not None
    plan.report.raise_if_invalid(plan.source)
    entry_ids = dict(
        session.exec(select(Entry.code, Entry.id).where(Entry.campaign_id == campaign.id)).all()
    )
    report = Report()
    for code, (row, _) in plan.tallies.items():
        if code not in entry_ids:
            report.add("votes.unknown_code", row, "code", code=code)
    report.raise_if_invalid(plan.source)
    tallies = {entry_ids[code]: votes for code, (_, votes) in plan.tallies.items()}
    old = {
        t.entry_id: t.votes
        for t in session.exec(select(VoteTally).where(col(VoteTally.entry_id).in_(list(tallies))))
    }
    for entry_id, votes in tallies.items():
        tally = session.get(VoteTally, entry_id) or VoteTally(entry_id=entry_id)
        tally.replace_by_import(votes)
        session.add(tally)
    changed = {
        code: votes
        for code, (_, votes) in plan.tallies.items()
        if old.get(entry_ids[code]) != votes
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
