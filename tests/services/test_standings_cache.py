"""The standings are kept per campaign data version: never stale, never computed twice for nothing.

An organiser's pages reuse the standings computed at the same data version; the first read
after a reviewer's save must show that save, on either database.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session

import scoring.engine.standings
from scoring.services import cache, sheets
from scoring.services.cache import data_version
from scoring.services.standings import standings_frame
from scoring.storage.database import Database
from scoring.storage.models import Campaign, Entry
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry


@pytest.fixture
def computed(monkeypatch) -> list[int]:
    """Grows by one each time the standings are really computed."""
    calls: list[int] = []
    real = scoring.engine.standings.component_table

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(scoring.engine.standings, "component_table", counting)
    cache.clear()
    return calls


@pytest.fixture
def scene(database: Database) -> dict:
    def build(session: Session) -> dict:
        campaign = make_campaign(session)
        entry = make_entry(session, campaign, "C-1")
        make_entry(session, campaign, "C-2")
        expert = make_account(session, "expert1", "expert")
        assigned(session, entry, expert)
        return {"campaign": campaign.id, "entry": entry.id, "expert": actor_of(expert)}

    return database.write(build)


def _read(database: Database, campaign_id: int):
    with database.read() as session:
        campaign = session.get(Campaign, campaign_id)
        return data_version(session, campaign), standings_frame(session, ORGANISER, campaign)


def _save(session: Session, scene: dict, points: dict, submit: bool = False) -> None:
    entry = session.get(Entry, scene["entry"])
    sheets.save_own_sheet(
        session,
        scene["expert"],
        entry_id=entry.id,
        points=points,
        comment="",
        submit=submit,
        expected_version=None,
    )


def _expert_score(frame) -> float:
    return float(frame.set_index("code").loc["C-1", "expert"])


def test_two_reads_with_no_change_compute_the_standings_once(database, scene, computed):
    first_version, first = _read(database, scene["campaign"])
    second_version, second = _read(database, scene["campaign"])
    assert first_version == second_version
    assert len(computed) == 1
    assert first.equals(second)


def test_a_save_changes_the_version_and_the_next_read_shows_it(database, scene, computed):
    before_version, before = _read(database, scene["campaign"])
    database.write(lambda s: _save(s, scene, {"innovation": 50, "impact": 30}, submit=True))
    after_version, after = _read(database, scene["campaign"])
    assert after_version != before_version
    assert len(computed) == 2
    assert before.set_index("code")["expert"].isna().all()  # nothing submitted yet
    assert _expert_score(after) > 0  # the submitted sheet counts at once, not after a restart


def test_a_change_rolled_back_is_never_served_to_the_next_reader(database, scene, computed):
    _, before = _read(database, scene["campaign"])

    class Undo(Exception):
        pass

    def change_then_fail(session: Session) -> None:
        # Changed but not (yet) audited: the version this session reads is the committed one.
        entry = session.get(Entry, scene["entry"])
        entry.title = "从未保存的标题"
        session.add(entry)
        campaign = session.get(Campaign, scene["campaign"])
        frame = standings_frame(session, ORGANISER, campaign)
        assert "从未保存的标题" in set(frame["title"])  # it sees its own change
        raise Undo

    with pytest.raises(Undo):
        database.write(change_then_fail)
    _, after = _read(database, scene["campaign"])
    assert "从未保存的标题" not in set(after["title"])
    assert after.equals(before)


def test_a_public_vote_changes_the_version_and_the_standings_show_it(
    database, scene, computed, monkeypatch
):
    # A vote writes no audit event (one per vote would be a million): the version names votes.
    from datetime import timedelta

    from scoring.permissions import Actor
    from scoring.services.voting import cast_vote
    from scoring.settings import get_settings
    from scoring.storage.models import utcnow

    monkeypatch.setenv("REVIEWDESK_VOTE_KEY", "test-vote-key")
    get_settings.cache_clear()

    def open_voting(session: Session) -> None:
        campaign = session.get(Campaign, scene["campaign"])
        campaign.public_gallery = True
        campaign.vote_opens_at = utcnow() - timedelta(hours=1)
        campaign.vote_closes_at = utcnow() + timedelta(hours=1)
        session.add(campaign)

    database.write(open_voting)
    before_version, before = _read(database, scene["campaign"])
    database.write(
        lambda s: cast_vote(s, Actor.public_visitor(), scene["campaign"], "C-1", "203.0.113.5")
    )
    after_version, after = _read(database, scene["campaign"])
    get_settings.cache_clear()
    assert after_version != before_version
    assert len(computed) == 2
    votes = after.set_index("code")["votes"]
    # No tally yet, but the vote is open: nobody voting for an entry gives it 0, not "missing".
    assert (before.set_index("code")["votes"] == 0).all()
    assert votes["C-1"] == 100.0  # the best tally of its group: counted at once


def test_a_missing_tally_is_missing_until_the_public_vote_opens(database, scene):
    """Before voting opens the votes are still to come (import): the component is missing and
    the entry provisional; once it has opened, an entry nobody voted for has 0 votes."""
    from datetime import timedelta

    from scoring.storage.models import utcnow

    def window(opens) -> None:
        def change(session: Session) -> None:
            campaign = session.get(Campaign, scene["campaign"])
            campaign.public_gallery = True
            campaign.vote_opens_at, campaign.vote_closes_at = opens, opens + timedelta(days=7)
            session.add(campaign)

        database.write(change)

    window(utcnow() + timedelta(days=1))
    _, before = _read(database, scene["campaign"])
    assert before["votes"].isna().all()
    window(utcnow() - timedelta(minutes=1))
    _, after = _read(database, scene["campaign"])
    assert (after["votes"] == 0).all()
