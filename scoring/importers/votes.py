"""``import-votes`` (SPEC §5.3): vote tallies per entry, replacing what was there.

``plan_votes_import`` reads and checks the file outside any write transaction (a large
workbook takes seconds to read); ``apply_votes_import`` authorises, re-reads the campaign's
codes and writes in one short transaction.

An imported figure replaces the whole tally, public-gallery votes counted since the last
import included (``VoteTally.replace_by_import``): those votes stay as evidence, marked no
longer counted. The plan warns how many such votes of how many entries the import replaces,
so the page and the command line say so before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select, update

from scoring.importers.cells import code_problem, column_length, parse_count
from scoring.importers.report import Report
from scoring.importers.tables import Column, read_mapped, rows
from scoring.permissions import Actor, can_change_entries
from scoring.services import audit
from scoring.services.guard import authorise
from scoring.storage.models import Campaign, Entry, PublicVote, VoteTally

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
    if report.ok:
        _warn_public_votes(session, campaign, list(tallies), report)
    return VotesPlan(campaign.id, tallies, report, path.name)


SHOWN_CODES = 10
"""Codes named in the warning; a longer list ends in an ellipsis (the counts are complete)."""


def _warn_public_votes(
    session: Session, campaign: Campaign, codes: list[str], report: Report
) -> None:
    """Warn when the import replaces public votes counted on some listed entries."""
    counted = session.exec(
        select(Entry.code, VoteTally.counted)
        .join(VoteTally, VoteTally.entry_id == Entry.id)
        .where(Entry.campaign_id == campaign.id, VoteTally.counted > 0)
        .order_by(Entry.code)
    ).all()
    listed = set(codes)
    replaced = [(code, votes) for code, votes in counted if code in listed]
    if replaced:
        names = [code for code, _ in replaced[:SHOWN_CODES]]
        report.warn(
            "tally.replaces_public",
            votes=sum(votes for _, votes in replaced),
            entries=len(replaced),
            codes="、".join(names) + ("…" if len(replaced) > SHOWN_CODES else ""),
        )


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
    # Locked on PostgreSQL: a public vote cast meanwhile then waits and counts on top of the
    # imported figure, instead of being lost under it.
    rows = session.exec(
        select(VoteTally)
        .where(col(VoteTally.entry_id).in_(list(tallies)))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    existing = {t.entry_id: t for t in rows}
    old = {
        entry_id: {"votes": t.votes, "imported": t.imported, "counted": t.counted}
        for entry_id, t in existing.items()
    }
    for entry_id, votes in tallies.items():
        tally = existing.get(entry_id) or VoteTally(entry_id=entry_id)
        tally.replace_by_import(votes)
        session.add(tally)
    _uncount_public_votes(session, list(tallies))
    changed = {
        code: votes
        for code, (_, votes) in plan.tallies.items()
        if old.get(entry_ids[code]) != {"votes": votes, "imported": votes, "counted": 0}
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


def _uncount_public_votes(session: Session, entry_ids: list[int]) -> None:
    """Mark the entries' counted public votes as replaced; the rows stay as evidence.

    How many were replaced per entry is the ``counted`` of the audited old tally.
    """
    if entry_ids:
        session.exec(
            update(PublicVote)  # type: ignore[call-overload]
            .where(col(PublicVote.entry_id).in_(entry_ids), col(PublicVote.counted).is_(True))
            .values(counted=False)
        )
