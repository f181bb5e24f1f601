"""A change of what feeds the result racing finalise, in two real concurrent transactions.

The state matrix shows that an import planned while the campaign was open is refused when
it is applied after the freeze, in one transaction. This is the race itself, on both
databases: one transaction is held open at its last step while the other starts. Whichever
began first, the frozen list holds exactly what the database holds afterwards: a change that
began first is waited for and frozen with the list; one that began after the freeze is
refused with the finalised state's reason and writes nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from scoring.assets import AssetStore
from scoring.errors import StateRefused
from scoring.importers.entries import apply_entries_import, plan_entries_import
from scoring.importers.votes import apply_votes_import, plan_votes_import
from scoring.services.finalise import active_snapshot, finalise, pending_decisions, set_panel_lock
from scoring.storage.database import Database
from scoring.storage.models import Campaign, Entry, VoteTally
from tests.factories import ORGANISER, make_campaign, make_entry

HELD = 0.5
"""How long the first transaction stays open after the second was started (seconds)."""


def _campaign(session: Session) -> Campaign:
    return session.exec(select(Campaign)).one()


@pytest.fixture
def ready(database: Database) -> Database:
    """One entry per category, so no cut-line tie; both panels locked: finalise may run."""

    def setup(session: Session) -> None:
        campaign = make_campaign(session)
        make_entry(session, campaign, "R-1")
        for panel in ("expert", "media"):
            set_panel_lock(session, ORGANISER, campaign, panel, True, "评审结束")

    database.write(setup)
    return database


def _freeze(session: Session) -> None:
    campaign = _campaign(session)
    pending = pending_decisions(session, ORGANISER, campaign)
    provisional = pending.loc[pending["kind"] == "provisional_award", "code"]
    finalise(session, ORGANISER, campaign, {code: "委员会确认" for code in provisional})


def _plan_votes(database: Database, folder: Path) -> Callable[[Session], Any]:
    path = folder / "votes.csv"
    path.write_text("code,votes\nR-1,77777\n", "utf-8")
    with database.read() as session:
        plan = plan_votes_import(session, _campaign(session), path)
    return lambda session: apply_votes_import(session, ORGANISER, plan)


def _plan_entries(database: Database, folder: Path) -> Callable[[Session], Any]:
    """The import of the original report: a shortlisted row with 99,999 votes."""
    path = folder / "entries.csv"
    path.write_text(
        "code,title,applicant,category,domain,votes,status\n"
        "R-9,迟到的作品,某单位,数字政府,政务服务,99999,shortlisted\n",
        "utf-8",
    )
    with database.read() as session:
        plan = plan_entries_import(
            session, ORGANISER, _campaign(session), path, store=AssetStore(folder / "store")
        )
    return lambda session: apply_entries_import(session, ORGANISER, plan)


CHANGES = [
    pytest.param(_plan_votes, id="votes-import"),
    pytest.param(_plan_entries, id="entries-import"),
]


def _held(work: Callable[[Session], Any], inside: threading.Event, release: threading.Event):
    """``work``, then wait inside the same transaction until released."""

    def run(session: Session) -> Any:
        result = work(session)
        inside.set()
        assert release.wait(30), "never released"
        return result

    return run


def _race(database: Database, first: Callable[[Session], Any], second: Callable[[Session], Any]):
    """Start ``first`` and hold it open; start ``second``; check it waits; release; outcomes."""
    inside, release, second_done = threading.Event(), threading.Event(), threading.Event()
    outcome: dict[str, BaseException | None] = {}

    def call(name: str, work: Callable[[Session], Any], done: threading.Event | None) -> None:
        try:
            database.write(work)
            outcome[name] = None
        except BaseException as error:  # judged by the caller
            outcome[name] = error
        finally:
            if done is not None:
                done.set()

    one = threading.Thread(target=call, args=("first", _held(first, inside, release), None))
    one.start()
    assert inside.wait(30), outcome.get("first")
    two = threading.Thread(target=call, args=("second", second, second_done))
    two.start()
    waited = not second_done.wait(HELD)
    release.set()
    one.join(60)
    two.join(60)
    return waited, outcome["first"], outcome["second"]


def _frozen_and_stored(database: Database) -> tuple[dict[str, Any], dict[str, Any]]:
    """The votes and shortlist the snapshot froze, and those the database holds now."""
    with database.read() as session:
        campaign = _campaign(session)
        content = json.loads(active_snapshot(session, campaign).content)
        stored_votes = {
            code: votes
            for code, votes in session.exec(
                select(Entry.code, VoteTally.votes)
                .join(VoteTally, VoteTally.entry_id == Entry.id)
                .where(Entry.campaign_id == campaign.id)
            )
        }
        shortlisted = set(
            session.exec(
                select(Entry.code).where(
                    Entry.campaign_id == campaign.id, Entry.status == "shortlisted"
                )
            )
        )
    votes = content["votes"]
    code_at, votes_at = votes["columns"].index("code"), votes["columns"].index("votes")
    frozen_votes = {row[code_at]: row[votes_at] for row in votes["rows"] if row[votes_at]}
    final = content["final"]
    frozen_codes = {row[final["columns"].index("code")] for row in final["rows"]}
    return (
        {"votes": frozen_votes, "codes": frozen_codes},
        {"votes": stored_votes, "codes": shortlisted},
    )


@pytest.mark.parametrize("plan", CHANGES)
def test_a_change_begun_before_finalise_is_waited_for_and_frozen_with_the_list(
    ready, tmp_path, plan
):
    change = plan(ready, tmp_path)
    waited, changed, froze = _race(ready, change, _freeze)
    assert (changed, froze) == (None, None)
    assert waited, "finalise did not wait for the change in flight"
    frozen, stored = _frozen_and_stored(ready)
    assert frozen == stored  # nothing in the database that the frozen list does not hold


@pytest.mark.parametrize("plan", CHANGES)
def test_a_change_begun_after_finalise_is_refused_and_writes_nothing(ready, tmp_path, plan):
    change = plan(ready, tmp_path)
    waited, froze, changed = _race(ready, _freeze, change)
    assert froze is None
    assert waited, "the change did not wait for finalise"
    assert isinstance(changed, StateRefused), changed
    assert changed.key == "campaign_state.finalised"
    frozen, stored = _frozen_and_stored(ready)
    assert frozen == stored
    assert "R-9" not in stored["codes"] and 77777 not in stored["votes"].values()
