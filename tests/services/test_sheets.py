"""Score sheets: only the assigned reviewer, only valid values, stale tabs told, audited."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from scoring.errors import PermissionDenied, StaleEdit, StateRefused, ValidationFailed
from scoring.i18n import translate
from scoring.services.progress import reviewer_progress
from scoring.services.review import declare_conflict, entry_view, own_conflicts
from scoring.services.sheets import find_sheet, save_own_sheet, sheet_points
from scoring.storage.models import AuditEvent, Campaign, Component, ConflictDeclaration, Score
from tests.factories import actor_of, assigned, make_account, make_campaign, make_entry


@pytest.fixture
def scene(database):
    def setup(session):
        campaign = make_campaign(session)
        mine = make_entry(session, campaign, "A-1")
        other = make_entry(session, campaign, "A-2")
        expert = make_account(session, "expert1", "expert")
        media = make_account(session, "media1", "media")
        organiser = make_account(session, "boss", "organiser")
        assigned(session, mine, expert)
        assigned(session, mine, media)
        return {
            "mine": mine.id,
            "other": other.id,
            "expert": actor_of(expert),
            "media": actor_of(media),
            "organiser": actor_of(organiser),
        }

    return database.write(setup)


def _save(database, actor, entry_id, points, submit=False, version=None):
    return database.write(
        lambda s: save_own_sheet(
            s,
            actor,
            entry_id=entry_id,
            points=points,
            comment="ok",
            submit=submit,
            expected_version=version,
        )
    )


def _audit_count(database):
    with database.read() as session:
        return session.exec(select(func.count()).select_from(AuditEvent)).one()


def test_a_reviewer_saves_a_draft_then_submits(database, scene):
    sheet = _save(database, scene["expert"], scene["mine"], {"innovation": 50})
    assert (sheet.status, sheet.version) == ("draft", 1)
    sheet = _save(
        database, scene["expert"], scene["mine"], {"impact": 30.5}, submit=True, version=1
    )
    assert (sheet.status, sheet.version) == ("submitted", 2)
    with database.read() as session:
        assert sheet_points(session, sheet) == {"innovation": 50.0, "impact": 30.5}


@pytest.mark.parametrize(
    ("points", "key"),
    [
        ({"innovation": 61}, "sheet.out_of_range"),
        ({"innovation": -1}, "sheet.out_of_range"),
        ({"impact": 10.25}, "sheet.not_a_step"),
        ({"story": 10}, "sheet.unknown_criterion"),
    ],
)
def test_invalid_values_are_refused_and_nothing_is_written(database, scene, points, key):
    before = _audit_count(database)
    with pytest.raises(ValidationFailed) as refused:
        _save(database, scene["expert"], scene["mine"], points)
    assert [p.key for p in refused.value.problems] == [key]
    assert _audit_count(database) == before


def test_submitting_an_incomplete_sheet_is_refused(database, scene):
    with pytest.raises(ValidationFailed) as refused:
        _save(database, scene["expert"], scene["mine"], {"innovation": 40}, submit=True)
    assert refused.value.key == "sheet.incomplete"


def test_unassigned_entry_and_organiser_are_refused(database, scene):
    before = _audit_count(database)
    with pytest.raises(PermissionDenied):
        _save(database, scene["expert"], scene["other"], {"innovation": 40})
    with pytest.raises(PermissionDenied):
        _save(database, scene["organiser"], scene["mine"], {"innovation": 40})
    assert _audit_count(database) == before


def test_a_declared_conflict_stops_scoring(database, scene):
    database.write(
        lambda s: s.add(
            ConflictDeclaration(
                entry_id=scene["mine"], reviewer_id=scene["expert"].account_id, reason="同单位"
            )
        )
    )
    with pytest.raises(PermissionDenied):
        _save(database, scene["expert"], scene["mine"], {"innovation": 40})


def test_a_locked_panel_refuses_edits(database, scene):
    def lock(session):
        component = session.exec(select(Component).where(Component.key == "expert")).one()
        component.locked = True
        session.add(component)

    database.write(lock)
    with pytest.raises(StateRefused) as refused:
        _save(database, scene["expert"], scene["mine"], {"innovation": 40})
    assert refused.value.key == "campaign_state.panel_locked"  # says why, not "not allowed"
    _save(database, scene["media"], scene["mine"], {"story": 70})  # the media panel is open


def test_a_stale_tab_is_told_and_the_later_save_stays(database, scene):
    _save(database, scene["expert"], scene["mine"], {"innovation": 10})
    _save(database, scene["expert"], scene["mine"], {"innovation": 20}, version=1)  # tab B
    with pytest.raises(StaleEdit):
        _save(database, scene["expert"], scene["mine"], {"innovation": 30}, version=1)  # tab A
    with database.read() as session:
        sheet = find_sheet(session, scene["expert"].account_id, scene["mine"])
        assert sheet_points(session, sheet) == {"innovation": 20.0}


def test_media_reviewers_score_on_the_media_rubric(database, scene):
    with pytest.raises(ValidationFailed):
        _save(database, scene["media"], scene["mine"], {"innovation": 10})
    assert (
        _save(database, scene["media"], scene["mine"], {"story": 75}, submit=True).panel == "media"
    )


def test_every_change_is_audited_with_old_and_new_value(database, scene):
    _save(database, scene["expert"], scene["mine"], {"innovation": 10})
    _save(database, scene["expert"], scene["mine"], {"innovation": 12})
    with database.read() as session:
        event = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "sheet.save")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert event.actor == "expert1"
    assert event.old_value["points"] == {"innovation": 10.0}
    assert event.new_value["points"] == {"innovation": 12.0}


def test_a_save_without_submit_keeps_a_submitted_sheet_submitted(database, scene):
    """A draft save once took a submission back: the sheet stopped counting, unannounced."""
    complete = {"innovation": 50, "impact": 30.5}
    _save(database, scene["expert"], scene["mine"], complete, submit=True)
    with database.read() as session:
        counted_before = reviewer_progress(session, scene["expert"], _campaign(session))
    sheet = _save(database, scene["expert"], scene["mine"], {"innovation": 45}, version=1)
    assert (sheet.status, sheet.version) == ("submitted", 2)
    with database.read() as session:
        assert sheet_points(session, sheet) == {"innovation": 45.0, "impact": 30.5}
        assert reviewer_progress(session, scene["expert"], _campaign(session)) == counted_before
        revision = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "sheet.save")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert revision.old_value == {"status": "submitted", "points": complete}
    assert revision.new_value == {
        "status": "submitted",
        "points": {"innovation": 45.0, "impact": 30.5},
    }


def test_a_draft_save_removes_a_cleared_score_and_keeps_the_rest(database, scene):
    """A cleared box (None) deletes that score row; an unchanged one stays as it was."""
    _save(database, scene["expert"], scene["mine"], {"innovation": 50, "impact": 30})
    sheet = _save(database, scene["expert"], scene["mine"], {"impact": None}, version=1)
    assert (sheet.status, sheet.version) == ("draft", 2)
    with database.read() as session:
        assert sheet_points(session, sheet) == {"innovation": 50.0}
        assert session.exec(select(func.count()).select_from(Score)).one() == 1
    sheet = _save(database, scene["expert"], scene["mine"], {"impact": 12.5}, version=2)
    with database.read() as session:
        assert sheet_points(session, sheet) == {"innovation": 50.0, "impact": 12.5}


def test_a_submitted_sheet_cannot_lose_a_score(database, scene):
    _save(database, scene["expert"], scene["mine"], {"innovation": 50, "impact": 30}, submit=True)
    before = _audit_count(database)
    with pytest.raises(ValidationFailed) as refused:
        _save(database, scene["expert"], scene["mine"], {"impact": None})
    assert refused.value.key == "sheet.incomplete"
    assert _audit_count(database) == before
    with database.read() as session:
        sheet = find_sheet(session, scene["expert"].account_id, scene["mine"])
        assert sheet.status == "submitted"
        assert sheet_points(session, sheet) == {"innovation": 50.0, "impact": 30.0}


def test_an_off_step_value_is_refused_naming_the_criterion_and_step(database, scene):
    with pytest.raises(ValidationFailed) as refused:
        _save(database, scene["expert"], scene["mine"], {"innovation": 12.5})
    [problem] = refused.value.problems
    assert problem.key == "sheet.not_a_step"
    assert (
        translate(problem.key, "zh", **problem.params) == "“创新性”的分数 12.5 不是步长 1 的整数倍"
    )
    with database.read() as session:
        assert find_sheet(session, scene["expert"].account_id, scene["mine"]) is None


def test_a_declared_conflict_is_named_on_the_entry_and_listed_for_the_reviewer(database, scene):
    _save(database, scene["expert"], scene["mine"], {"innovation": 50, "impact": 30}, submit=True)
    database.write(
        lambda s: declare_conflict(s, scene["expert"], _campaign(s), "A-1", "曾参与该项目咨询")
    )
    with database.read() as session:
        campaign = _campaign(session)
        with pytest.raises(PermissionDenied) as refused:
            entry_view(session, scene["expert"], campaign, "A-1")
        assert refused.value.key == "sheet_safety.conflicted_entry"
        assert "利益冲突" in refused.value.message("zh")
        assert "entry.view" not in refused.value.message("zh")
        conflicts = own_conflicts(session, scene["expert"], campaign)
        assert [(c.code, c.reason) for c in conflicts] == [("A-1", "曾参与该项目咨询")]
        assert own_conflicts(session, scene["media"], campaign) == []
        assert reviewer_progress(session, scene["expert"], campaign)["submitted"] == 0
        with pytest.raises(PermissionDenied) as other:  # not assigned, no conflict: as before
            entry_view(session, scene["expert"], campaign, "A-2")
        assert other.value.key == "error.permission_denied"


def _campaign(session):
    return session.exec(select(Campaign)).one()
