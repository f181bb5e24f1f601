"""An imported tally replaces the public-gallery votes counted since (SPEC §5.3, §8).

Organisers import the other platform's figures over a gallery that has been voting: the
file's figure becomes the tally, the votes counted before stay as rows but count no more,
and both the plan (page and command line) and the audit log say how many were replaced.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from scoring import context
from scoring.storage.models import AuditEvent, Entry, PublicVote, VoteTally
from tests.factories import cast_votes, make_campaign, make_entry, void_public_votes
from tests.importers.import_helpers import APPLY, CLI, plan, write_csv

NOON = datetime(2026, 11, 30, 4, 0, tzinfo=UTC)


def _gallery_has_voted(session) -> None:
    """A-1: imported 10, then 3 public votes; A-2: 2 public votes (one more voided); A-3: none."""
    campaign = make_campaign(session)
    first, second, _ = (make_entry(session, campaign, c) for c in ("A-1", "A-2", "A-3"))
    session.add(VoteTally.of_import(first.id, 10))
    session.flush()
    cast_votes(session, first, 3, network_key="net-a", start=NOON)
    cast_votes(session, second, 2, network_key="net-a", start=NOON + timedelta(hours=1))
    cast_votes(session, second, 1, network_key="net-b", start=NOON)
    void_public_votes(session, second, "net-b", "同一网段刷票")


def _tallies(database) -> dict[str, tuple[int, int | None, int]]:
    with database.read() as session:
        rows = session.exec(
            select(Entry.code, VoteTally.votes, VoteTally.imported, VoteTally.counted).join(
                VoteTally, VoteTally.entry_id == Entry.id
            )
        ).all()
    return {code: (votes, imported, counted) for code, votes, imported, counted in rows}


def test_an_import_over_counted_public_votes_warns_replaces_them_and_keeps_them(database, tmp_path):
    database.write(_gallery_has_voted)
    assert _tallies(database) == {"A-1": (13, 10, 3), "A-2": (2, None, 2)}
    sheet = write_csv(
        tmp_path / "v.csv", ["code", "votes"], [["A-1", "50"], ["A-2", "7"], ["A-3", "1"]]
    )
    checked = plan(database, "votes", sheet)

    assert checked.report.ok
    (warning,) = checked.report.warnings
    assert warning.message("en") == (
        "This import replaces 5 public votes counted for 2 entries (A-1、A-2): "
        "the votes are kept as evidence and no longer counted."
    )
    assert database.write(lambda s: APPLY["votes"](s, CLI, checked)) == 3

    assert _tallies(database) == {"A-1": (50, 50, 0), "A-2": (7, 7, 0), "A-3": (1, 1, 0)}
    with database.read() as session:
        votes = session.exec(select(PublicVote)).all()
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "votes.import"))
    assert len(votes) == 6  # every vote is still there as evidence ...
    assert [v.counted for v in votes] == [False] * 6  # ... and none counts any more
    assert sum(v.void_id is not None for v in votes) == 1  # the void is still a void
    assert event.old_value == {
        "A-1": {"votes": 13, "imported": 10, "counted": 3},
        "A-2": {"votes": 2, "imported": None, "counted": 2},
        "A-3": None,
    }
    assert event.new_value == {"A-1": 50, "A-2": 7, "A-3": 1}


def test_an_import_of_entries_without_counted_public_votes_warns_nothing(database, tmp_path):
    database.write(_gallery_has_voted)
    sheet = write_csv(tmp_path / "v.csv", ["code", "votes"], [["A-3", "4"]])
    checked = plan(database, "votes", sheet)
    assert checked.report.ok and checked.report.warnings == []
    database.write(lambda s: APPLY["votes"](s, CLI, checked))
    # Not in the file: their public votes still count.
    assert _tallies(database) == {"A-1": (13, 10, 3), "A-2": (2, None, 2), "A-3": (4, 4, 0)}
    with database.read() as session:
        counted = session.exec(select(PublicVote).where(PublicVote.counted)).all()
    assert len(counted) == 5


def test_the_command_line_prints_the_warning_before_importing(cli, tmp_path):
    context.database().write(_gallery_has_voted)
    sheet = write_csv(tmp_path / "v.csv", ["code", "votes"], [["A-1", "50"]])
    code, out, err = cli("import-votes", "test-2020", str(sheet))
    assert code == 0
    assert err == (
        "Warning: This import replaces 3 public votes counted for 1 entries (A-1): "
        "the votes are kept as evidence and no longer counted.\n"
    )
    assert out == "Updated the votes of 1 entries.\n"
