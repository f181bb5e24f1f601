"""Decisions, locks and finalising: a frozen list that never changes, every step audited."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlmodel import select

from scoring.errors import PermissionDenied, StateRefused, ValidationFailed
from scoring.services.finalise import (
    Decision,
    active_snapshot,
    clear_override,
    decide_tie,
    final_records,
    final_state,
    finalise,
    finalise_preview,
    pending_decisions,
    set_group_quota,
    set_override,
    set_panel_lock,
    unfinalise,
)
from scoring.services.sheets import save_own_sheet
from scoring.storage.models import AuditEvent, Campaign
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry


@pytest.fixture
def scene(database):
    """Two entries of one category tied at 0 across a one-award cut line; an expert assigned."""

    def setup(session):
        campaign = make_campaign(session)
        first = make_entry(session, campaign, "T-1")
        make_entry(session, campaign, "T-2")
        expert = make_account(session, "expert1", "expert")
        assigned(session, first, expert)
        return {"slug": campaign.slug, "expert": actor_of(expert), "entry": first.id}

    return database.write(setup)


def _campaign(session, scene) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.slug == scene["slug"])).one()


def _do(database, scene, work):
    return database.write(lambda s: work(s, _campaign(s, scene)))


def _lock_all(database, scene):
    for panel in ("expert", "media"):
        _do(database, scene, lambda s, c, p=panel: set_panel_lock(s, ORGANISER, c, p, True, "结束"))


def test_the_pending_list_names_the_cut_line_tie(database, scene):
    with database.read() as session:
        pending = pending_decisions(session, ORGANISER, _campaign(session, scene))
    ties = pending[pending["kind"] == "cutline_tie"]
    assert sorted(ties["code"]) == ["T-1", "T-2"] and not ties["decided"].any()


def test_finalising_is_refused_while_panels_are_open_or_a_tie_is_undecided(database, scene):
    with pytest.raises(ValidationFailed) as refused:
        _do(database, scene, lambda s, c: finalise(s, ORGANISER, c))
    assert refused.value.key == "final.panels_open"
    _lock_all(database, scene)
    with pytest.raises(ValidationFailed) as refused:
        _do(database, scene, lambda s, c: finalise(s, ORGANISER, c))
    assert refused.value.key == "final.undecided_ties"
    assert refused.value.params["codes"] == "T-1, T-2"
    with database.read() as session:
        assert _campaign(session, scene).finalised_at is None


def test_a_decided_tie_finalises_into_a_snapshot_with_its_sha256(database, scene):
    _lock_all(database, scene)
    with pytest.raises(ValidationFailed):  # a reason is required
        _do(database, scene, lambda s, c: decide_tie(s, ORGANISER, c, "T-1", True, " "))
    _do(database, scene, lambda s, c: decide_tie(s, ORGANISER, c, "T-1", True, "评委会表决"))
    _do(database, scene, lambda s, c: decide_tie(s, ORGANISER, c, "T-2", False, "评委会表决"))
    snapshot = _do(database, scene, lambda s, c: finalise(s, ORGANISER, c))
    with database.read() as session:
        stored = active_snapshot(session, _campaign(session, scene))
        records = final_records(session, ORGANISER, _campaign(session, scene))
    assert stored.sha256 == hashlib.sha256(stored.content.encode("utf-8")).hexdigest()
    assert stored.sha256 == snapshot.sha256
    assert {r["code"]: r["award"] for r in records} == {"T-1": True, "T-2": False}
    assert json.loads(stored.content)["method"]["tie_decisions"] == {"T-1": True, "T-2": False}


def test_nothing_changes_a_finalised_campaign_until_it_is_withdrawn(database, scene):
    _lock_all(database, scene)
    _do(database, scene, lambda s, c: set_override(s, ORGANISER, c, "T-1", True, "特别贡献"))
    _do(database, scene, lambda s, c: set_override(s, ORGANISER, c, "T-2", False, "材料不实"))
    _do(database, scene, lambda s, c: finalise(s, ORGANISER, c))
    for work in (
        lambda s, c: set_override(s, ORGANISER, c, "T-2", True, "x"),
        lambda s, c: set_group_quota(s, ORGANISER, c, "数字政府", 2, "x"),
        lambda s, c: set_panel_lock(s, ORGANISER, c, "expert", False, "x"),
        lambda s, c: finalise(s, ORGANISER, c),
    ):
        with pytest.raises(StateRefused) as refused:
            _do(database, scene, work)
        assert refused.value.key == "campaign_state.finalised"
    with pytest.raises(StateRefused) as refused:
        database.write(
            lambda s: save_own_sheet(
                s,
                scene["expert"],
                entry_id=scene["entry"],
                points={"innovation": 1},
                comment="",
                submit=False,
                expected_version=None,
            )
        )
    assert refused.value.key == "campaign_state.finalised"
    with pytest.raises(ValidationFailed):  # withdrawing needs a reason
        _do(database, scene, lambda s, c: unfinalise(s, ORGANISER, c, ""))
    with pytest.raises(PermissionDenied):
        _do(database, scene, lambda s, c: unfinalise(s, scene["expert"], c, "想改分"))
    _do(database, scene, lambda s, c: unfinalise(s, ORGANISER, c, "评委会复议"))
    with database.read() as session:
        assert active_snapshot(session, _campaign(session, scene)) is None
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert actions.count("award.override") == 2
    assert "campaign.finalise" in actions and "campaign.unfinalise" in actions


def test_overrides_and_quota_changes_show_as_such_and_can_be_cleared(database, scene):
    _do(database, scene, lambda s, c: set_group_quota(s, ORGANISER, c, "数字政府", 2, "扩大名额"))
    with database.read() as session:
        records = {
            r["code"]: r for r in final_records(session, ORGANISER, _campaign(session, scene))
        }
    assert records["T-1"]["award"] and records["T-2"]["award"]  # two awards now, no tie at cut
    _do(database, scene, lambda s, c: set_override(s, ORGANISER, c, "T-2", False, "材料不实"))
    with database.read() as session:
        records = {
            r["code"]: r for r in final_records(session, ORGANISER, _campaign(session, scene))
        }
    assert records["T-2"]["award"] is False and records["T-2"]["override"] == "材料不实"
    _do(database, scene, lambda s, c: clear_override(s, ORGANISER, c, "T-2", "撤回"))
    with database.read() as session:
        records = {
            r["code"]: r for r in final_records(session, ORGANISER, _campaign(session, scene))
        }
    assert records["T-2"]["award"] is True and records["T-2"]["override"] is None


def test_reviewers_cannot_decide_anything(database, scene):
    for work in (
        lambda s, c: decide_tie(s, scene["expert"], c, "T-1", True, "x"),
        lambda s, c: set_override(s, scene["expert"], c, "T-1", True, "x"),
        lambda s, c: set_panel_lock(s, scene["expert"], c, "expert", True, "x"),
        lambda s, c: finalise(s, scene["expert"], c),
    ):
        with pytest.raises(PermissionDenied):
            _do(database, scene, work)


def test_the_preview_shows_what_a_freeze_would_hold_and_why_it_is_refused_now(database, scene):
    def preview():
        with database.read() as session:
            return finalise_preview(session, ORGANISER, _campaign(session, scene))

    assert preview().refusal.key == "final.panels_open"  # the confirmation says it up front
    _lock_all(database, scene)
    assert preview().refusal.key == "final.undecided_ties"
    _do(database, scene, lambda s, c: decide_tie(s, ORGANISER, c, "T-1", True, "评委会表决"))
    _do(database, scene, lambda s, c: decide_tie(s, ORGANISER, c, "T-2", False, "抽签"))
    shown = preview()
    assert shown.refusal is None and shown.final is None
    assert shown.ties == (
        Decision("T-1", "作品 T-1", True, "评委会表决"),
        Decision("T-2", "作品 T-2", False, "抽签"),
    )
    assert [(g.quota, g.winners) for g in shown.groups] == [(1, (("T-1", "作品 T-1"),))]
    assert shown.overrides == () and shown.provisional == ()
    snapshot = _do(database, scene, lambda s, c: finalise(s, ORGANISER, c))
    with database.read() as session:
        state = final_state(session, ORGANISER, _campaign(session, scene))
    assert preview().final == state and state.sha256 == snapshot.sha256
    assert state.finalised_by == ORGANISER.username
