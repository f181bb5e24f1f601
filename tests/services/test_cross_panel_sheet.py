"""A sheet scored in one panel by a reviewer whose role is now another: the whole campaign still
closes. The original failure was ``ValueError: scores for criteria not in the panel's rubric``
from the standings, the export *and* finalise; the standings are covered in
``test_role_change.py``, the export, finalise and verify of the frozen file here.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from scoring.export import verify_workbook
from scoring.services.export import export_workbook, live_export_data
from scoring.services.finalise import finalise, pending_decisions, set_panel_lock
from scoring.services.sheets import save_own_sheet
from scoring.storage.database import Database
from scoring.storage.models import Campaign
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry


def _campaign(session: Session) -> Campaign:
    return session.exec(select(Campaign)).one()


@pytest.fixture
def moved(database: Database) -> Database:
    """expert1 submitted a sheet on R-1, then became media behind the services' back."""

    def setup(session: Session) -> None:
        campaign = make_campaign(session)
        entry = make_entry(session, campaign, "R-1")
        make_entry(session, campaign, "R-2")
        expert = make_account(session, "expert1", "expert")
        assigned(session, entry, expert)
        save_own_sheet(
            session,
            actor_of(expert),
            entry_id=entry.id,
            points={"innovation": 50, "impact": 30},
            comment="",
            submit=True,
            expected_version=None,
        )

    database.write(setup)
    database.write(
        lambda s: s.execute(text("UPDATE account SET role = 'media' WHERE username = 'expert1'"))
    )
    return database


def test_the_export_keeps_the_sheet_in_the_panel_it_was_scored_in(moved):
    with moved.read() as session:
        data = live_export_data(session, ORGANISER, _campaign(session))
        workbook = export_workbook(session, ORGANISER, _campaign(session))
    scores = data.scores
    assert set(scores.loc[scores["reviewer"] == "expert1", "panel"]) == {"expert"}
    assert verify_workbook(workbook) == []


def test_finalise_freezes_it_and_the_frozen_file_verifies(moved):
    for panel in ("expert", "media"):
        moved.write(
            lambda s, p=panel: set_panel_lock(s, ORGANISER, _campaign(s), p, True, "评审结束")
        )

    def freeze(session: Session):
        campaign = _campaign(session)
        pending = pending_decisions(session, ORGANISER, campaign)
        provisional = pending.loc[pending["kind"] == "provisional_award", "code"]
        return finalise(session, ORGANISER, campaign, {code: "委员会确认" for code in provisional})

    snapshot = moved.write(freeze)
    with moved.read() as session:
        workbook = export_workbook(session, ORGANISER, _campaign(session))
    assert verify_workbook(workbook) == []
    scores = json.loads(snapshot.content)["scores"]
    panel, reviewer = scores["columns"].index("panel"), scores["columns"].index("reviewer")
    assert {row[panel] for row in scores["rows"] if row[reviewer] == "expert1"} == {"expert"}
