"""A reviewer's sheets belong to the panel they were scored in (a role change broke the whole
campaign's standings, export and finalise with ``ValueError: scores for criteria not in the
panel's rubric``)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlmodel import select

from scoring.errors import ValidationFailed
from scoring.export import verify_workbook
from scoring.services.accounts import change_role
from scoring.services.assignments import unassign
from scoring.services.export import export_workbook, live_export_data
from scoring.services.finalise import finalise, pending_decisions, set_panel_lock
from scoring.services.sheets import save_own_sheet
from scoring.services.standings import standings_frame
from scoring.storage.models import Account, Campaign, Entry
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry


@pytest.fixture
def scene(database):
    def setup(session):
        campaign = make_campaign(session)
        scored, waiting = make_entry(session, campaign, "R-1"), make_entry(session, campaign, "R-2")
        expert = make_account(session, "expert1", "expert")
        assigned(session, scored, expert)
        assigned(session, waiting, expert)
        save_own_sheet(
            session,
            actor_of(expert),
            entry_id=scored.id,
            points={"innovation": 50, "impact": 30},
            comment="",
            submit=True,
            expected_version=None,
        )
        return {"expert": actor_of(expert), "scored": scored.id, "waiting": waiting.id}

    return database.write(setup)


def _campaign(session) -> Campaign:
    return session.exec(select(Campaign)).one()


def _standings(database):
    with database.read() as session:
        return standings_frame(session, ORGANISER, _campaign(session))


def test_a_reviewer_holding_sheets_keeps_their_role_and_is_told_why(database, scene):
    with pytest.raises(ValidationFailed) as refused:
        database.write(lambda s: change_role(s, ORGANISER, "expert1", "media"))
    assert refused.value.key == "error.role_holds_work"
    assert "test-2020" in str(refused.value)
    with database.read() as session:
        assert (
            session.exec(select(Account.role).where(Account.username == "expert1")).one()
            == "expert"
        )
    frame = _standings(database)
    assert frame.set_index("code").loc["R-1", "n_expert"] == 1


def test_without_work_in_an_open_campaign_the_role_changes(database, scene):
    def clear(session):
        entry = session.get(Entry, scene["waiting"])
        reviewer = session.exec(select(Account).where(Account.username == "expert1")).one()
        unassign(session, ORGANISER, entry=entry, reviewer=reviewer)

    database.write(clear)
    with pytest.raises(ValidationFailed):  # the submitted sheet on R-1 still holds them
        database.write(lambda s: change_role(s, ORGANISER, "expert1", "media"))


@pytest.fixture
def moved(database, scene):
    """expert1's role changed behind the services' back (raw SQL) after submitting on R-1."""
    database.write(
        lambda s: s.execute(text("UPDATE account SET role = 'media' WHERE username = 'expert1'"))
    )
    return scene


def test_a_sheet_from_another_panel_never_crashes_the_standings(database, moved):
    """Even then the campaign stays whole: the sheet counts in its own panel and a save into
    the other rubric is refused."""
    frame = _standings(database).set_index("code")
    assert frame.loc["R-1", "n_expert"] == 1
    assert frame.loc["R-1", "n_media"] == 0
    now_media = actor_of(
        database.write(lambda s: s.exec(select(Account).where(Account.username == "expert1")).one())
    )
    with pytest.raises(ValidationFailed) as refused:
        database.write(
            lambda s: save_own_sheet(
                s,
                now_media,
                entry_id=moved["scored"],
                points={"story": 60},
                comment="",
                submit=True,
                expected_version=None,
            )
        )
    assert refused.value.key == "sheet.panel_changed"
    assert _standings(database).set_index("code").loc["R-1", "n_media"] == 0


def test_the_export_keeps_the_sheet_in_the_panel_it_was_scored_in(database, moved):
    with database.read() as session:
        data = live_export_data(session, ORGANISER, _campaign(session))
        workbook = export_workbook(session, ORGANISER, _campaign(session))
    scores = data.scores
    assert set(scores.loc[scores["reviewer"] == "expert1", "panel"]) == {"expert"}
    assert verify_workbook(workbook) == []


def test_finalise_freezes_it_and_the_frozen_file_verifies(database, moved):
    for panel in ("expert", "media"):
        database.write(
            lambda s, p=panel: set_panel_lock(s, ORGANISER, _campaign(s), p, True, "评审结束")
        )

    def freeze(session):
        campaign = _campaign(session)
        pending = pending_decisions(session, ORGANISER, campaign)
        provisional = pending.loc[pending["kind"] == "provisional_award", "code"]
        return finalise(session, ORGANISER, campaign, {code: "委员会确认" for code in provisional})

    snapshot = database.write(freeze)
    with database.read() as session:
        workbook = export_workbook(session, ORGANISER, _campaign(session))
    assert verify_workbook(workbook) == []
    scores = json.loads(snapshot.content)["scores"]
    panel, reviewer = scores["columns"].index("panel"), scores["columns"].index("reviewer")
    assert {row[panel] for row in scores["rows"] if row[reviewer] == "expert1"} == {"expert"}
