"""50 reviewers saving and submitting at once: nothing lost, nothing twice, no error, audited.

On PostgreSQL a save runs at READ COMMITTED beside the others, locking what it changes, and
every other write waits for the saves in flight (docs/decisions.md, "Isolation of each
transaction"); these tests hold that to what a reviewer and an organiser see.
"""

from __future__ import annotations

import threading

from sqlmodel import func, select

from scoring.errors import StaleEdit
from scoring.services.audit import check_chain
from scoring.services.sheets import find_sheet, save_own_sheet, sheet_points
from scoring.storage.models import AuditEvent, Score, ScoreSheet
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry

REVIEWERS = 50
ENTRIES = 2


def _scene(database, reviewers=REVIEWERS, entries=ENTRIES):
    def setup(session):
        campaign = make_campaign(session)
        rows = [make_entry(session, campaign, f"A-{i}") for i in range(entries)]
        actors = []
        for r in range(reviewers):
            account = make_account(session, f"expert{r:02d}", "expert")
            for entry in rows:
                assigned(session, entry, account)
            actors.append(actor_of(account))
        return campaign.id, actors, [e.id for e in rows]

    return database.write(setup)


def _save(database, actor, entry_id, points, *, submit=False, version=None):
    return database.write(
        lambda s: save_own_sheet(
            s,
            actor,
            entry_id=entry_id,
            points=points,
            comment="",
            submit=submit,
            expected_version=version,
        )
    )


def _at_once(count, task):
    """Run ``task(i)`` in ``count`` threads released together; what each raised, if anything."""
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def run(index):
        start.wait()
        try:
            task(index)
        except BaseException as error:
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _points(index):
    return {"innovation": float(index % 61), "impact": float(index % 41)}


def test_fifty_reviewers_saving_and_submitting_at_once_lose_and_duplicate_nothing(database):
    _, actors, entry_ids = _scene(database)

    def reviewer(index):
        for entry_id in entry_ids:
            _save(database, actors[index], entry_id, {"innovation": 1.0})
        for entry_id in entry_ids:
            _save(database, actors[index], entry_id, _points(index), submit=True)

    assert _at_once(REVIEWERS, reviewer) == []
    database.seal_audit()
    with database.read() as session:
        for index, actor in enumerate(actors):
            for entry_id in entry_ids:
                sheet = find_sheet(session, actor.account_id, entry_id)
                assert (sheet.status, sheet.version) == ("submitted", 2)
                assert sheet_points(session, sheet) == _points(index)
        assert session.exec(select(func.count()).select_from(ScoreSheet)).one() == (
            REVIEWERS * ENTRIES
        )
        assert session.exec(select(func.count()).select_from(Score)).one() == (
            REVIEWERS * ENTRIES * 2
        )
        saves = session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "sheet.save")
        ).one()
        assert saves == REVIEWERS * ENTRIES * 2
        report = check_chain(session, ORGANISER)
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
    assert report.ok, [p.key for p in report.problems]
    assert (report.unsealed, report.checked) == (0, events)


def test_two_tabs_saving_a_new_sheet_at_once_keep_one_and_tell_the_other(database):
    _, actors, entry_ids = _scene(database, reviewers=1, entries=8)
    actor = actors[0]
    for entry_id in entry_ids:
        outcomes: list[object] = []

        def tab(index, entry_id=entry_id, outcomes=outcomes):
            try:
                _save(database, actor, entry_id, _points(index + 1), version=0)
                outcomes.append(index)
            except StaleEdit:
                outcomes.append("stale")

        assert _at_once(2, tab) == []
        assert len(outcomes) == 2 and outcomes.count("stale") == 1
        with database.read() as session:
            sheet = find_sheet(session, actor.account_id, entry_id)
            winner = next(o for o in outcomes if o != "stale")
            assert sheet.version == 1
            assert sheet_points(session, sheet) == _points(winner + 1)
