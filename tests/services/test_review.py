"""The reviewer's working set: gallery, entry view, own sheet, conflicts, next entry, meeting."""

from __future__ import annotations

import pytest
from sqlmodel import select

from scoring.errors import NotFound, PermissionDenied, ValidationFailed
from scoring.services.meeting import close_rounds, open_codes, open_rounds, revisions
from scoring.services.review import (
    declare_conflict,
    entry_view,
    gallery,
    next_to_score,
    sheet_view,
)
from scoring.services.sheets import save_own_sheet
from scoring.storage.models import (
    Assignment,
    AuditEvent,
    Campaign,
    Component,
    ConflictDeclaration,
    Entry,
    EntryAsset,
    ScoreSheet,
)
from tests.factories import actor_of, assigned, make_account, make_campaign, make_entry

FULL = {"innovation": 48, "impact": 30.5}  # T = 100 * 78.5 / 100


@pytest.fixture
def scene(database):
    def setup(session):
        campaign = make_campaign(session)
        entries = {code: make_entry(session, campaign, code) for code in ("B-1", "B-2", "B-3")}
        stranger = make_entry(session, campaign, "B-9")
        experts = [make_account(session, f"expert{i}", "expert") for i in (1, 2, 3)]
        for entry in entries.values():
            for expert in experts:
                assigned(session, entry, expert)
        session.add(
            EntryAsset(
                entry_id=entries["B-1"].id,
                role="image",
                position=1,
                filename="b.png",
                sha256="b" * 64,
                mime="image/png",
                size_bytes=10,
            )
        )
        session.add(
            EntryAsset(
                entry_id=entries["B-1"].id,
                role="image",
                position=0,
                filename="a.png",
                sha256="a" * 64,
                mime="image/png",
                size_bytes=10,
            )
        )
        session.add(
            EntryAsset(
                entry_id=entries["B-1"].id,
                role="material",
                position=0,
                filename="dossier.pdf",
                sha256="c" * 64,
                mime="application/pdf",
                size_bytes=2048,
            )
        )
        return {
            "campaign": campaign.slug,
            "ids": {c: e.id for c, e in entries.items()} | {"B-9": stranger.id},
            "experts": [actor_of(e) for e in experts],
            "organiser": actor_of(make_account(session, "boss", "organiser")),
        }

    return database.write(setup)


def _campaign(session, scene) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.slug == scene["campaign"])).one()


def _save(database, actor, entry_id, points, submit=True, version=None):
    return database.write(
        lambda s: (
            save_own_sheet(
                s,
                actor,
                entry_id=entry_id,
                points=points,
                comment="",
                submit=submit,
                expected_version=version,
            ).version
        )
    )


def test_a_reviewer_sees_only_assigned_entries_with_their_first_image(database, scene):
    expert = scene["experts"][0]
    with database.read() as session:
        frame = gallery(session, expert, _campaign(session, scene))
        everything = gallery(session, scene["organiser"], _campaign(session, scene))
    assert list(frame["code"]) == ["B-1", "B-2", "B-3"]
    assert list(frame["image"]) == ["a" * 64, None, None]  # position 0 first, not insertion
    assert list(frame["state"]) == ["to_score"] * 3
    assert list(everything["code"]) == ["B-1", "B-2", "B-3", "B-9"]


def test_a_reviewer_is_refused_an_entry_not_assigned_to_them(database, scene):
    expert = scene["experts"][0]
    with database.read() as session:
        campaign = _campaign(session, scene)
        with pytest.raises(PermissionDenied):
            entry_view(session, expert, campaign, "B-9")
        with pytest.raises(PermissionDenied):
            sheet_view(session, expert, campaign, "B-9")
        with pytest.raises(NotFound):
            entry_view(session, expert, campaign, "NOPE")
        view = entry_view(session, expert, campaign, "B-1")
    assert [a.filename for a in view.images] == ["a.png", "b.png"]
    assert [(a.filename, a.size_bytes) for a in view.materials] == [("dossier.pdf", 2048)]
    assert view.applicant == "某单位"


def test_blind_review_hides_applicant_and_recommender_from_reviewers_only(database, scene):
    def blind(session):
        _campaign(session, scene).blind_review = True

    database.write(blind)
    with database.read() as session:
        campaign = _campaign(session, scene)
        reviewer_view = entry_view(session, scene["experts"][0], campaign, "B-1")
        organiser_view = entry_view(session, scene["organiser"], campaign, "B-1")
        frame = gallery(session, scene["experts"][0], campaign)
    assert (reviewer_view.applicant, reviewer_view.recommender) == (None, None)
    assert organiser_view.applicant == "某单位"
    assert "applicant" not in frame.columns


def test_the_sheet_view_carries_points_version_and_the_lock(database, scene):
    expert = scene["experts"][0]
    version = _save(database, expert, scene["ids"]["B-1"], {"innovation": 48}, submit=False)
    with database.read() as session:
        sheet = sheet_view(session, expert, _campaign(session, scene), "B-1")
    assert sheet.status == "draft" and sheet.version == version
    assert sheet.points == {"innovation": 48.0} and sheet.total is None
    assert [c.name for c in sheet.criteria] == ["创新性", "成效性"]
    assert sheet.editable and sheet.spread is None

    def lock(session):
        panel = session.exec(select(Component).where(Component.key == "expert")).one()
        panel.locked, panel.lock_reason = True, "专家评审结束"

    database.write(lock)
    with database.read() as session:
        sheet = sheet_view(session, expert, _campaign(session, scene), "B-1")
    assert not sheet.editable and sheet.lock_reason == "专家评审结束"


def test_next_entry_skips_submitted_and_wraps_around(database, scene):
    expert = scene["experts"][0]
    _save(database, expert, scene["ids"]["B-2"], FULL)
    with database.read() as session:
        campaign = _campaign(session, scene)
        assert next_to_score(session, expert, campaign, None) == "B-1"
        assert next_to_score(session, expert, campaign, "B-1") == "B-3"
        assert next_to_score(session, expert, campaign, "B-3") == "B-1"
    for code in ("B-1", "B-3"):
        _save(database, expert, scene["ids"][code], FULL)
    with database.read() as session:
        assert next_to_score(session, expert, _campaign(session, scene), "B-3") is None


def test_a_conflict_takes_the_entry_off_the_list_and_out_of_the_scoring(database, scene):
    expert = scene["experts"][0]
    _save(database, expert, scene["ids"]["B-1"], FULL)
    with database.read() as session:
        campaign = _campaign(session, scene)
    with pytest.raises(ValidationFailed):
        database.write(lambda s: declare_conflict(s, expert, campaign, "B-1", "  "))
    database.write(lambda s: declare_conflict(s, expert, campaign, "B-1", "曾参与该项目"))
    with database.read() as session:
        codes = list(gallery(session, expert, campaign)["code"])
        sheets = session.exec(
            select(ScoreSheet).where(ScoreSheet.entry_id == scene["ids"]["B-1"])
        ).all()
        declared = session.exec(select(ConflictDeclaration)).all()
        withdrawn = session.exec(
            select(AuditEvent).where(AuditEvent.action == "sheet.withdrawn")
        ).one()
        still_assigned = session.exec(
            select(Assignment).where(
                Assignment.entry_id == scene["ids"]["B-1"],
                Assignment.reviewer_id == expert.account_id,
            )
        ).all()
    assert codes == ["B-2", "B-3"]
    assert sheets == [] and still_assigned == []
    assert [d.reason for d in declared] == ["曾参与该项目"]
    assert withdrawn.old_value["points"] == {"innovation": 48.0, "impact": 30.5}
    # Not assigned any more: the sheet can no longer be saved or even opened.
    with pytest.raises(PermissionDenied):
        _save(database, expert, scene["ids"]["B-1"], FULL)


def test_another_reviewer_cannot_declare_for_an_entry_not_theirs(database, scene):
    with database.read() as session:
        campaign = _campaign(session, scene)
    with pytest.raises(PermissionDenied):
        database.write(
            lambda s: declare_conflict(s, scene["experts"][0], campaign, "B-9", "reason")
        )
    with pytest.raises(PermissionDenied):
        database.write(lambda s: declare_conflict(s, scene["organiser"], campaign, "B-1", "x"))


def test_the_meeting_shows_the_anonymous_spread_only_to_reviewers_who_submitted(database, scene):
    one, two, three = scene["experts"]
    entry_id = scene["ids"]["B-1"]
    first = _save(database, one, entry_id, {"innovation": 60, "impact": 40})  # 100
    second = _save(database, two, entry_id, {"innovation": 30, "impact": 20})  # 50
    _save(database, three, entry_id, {"innovation": 30}, submit=False)  # a draft
    with database.read() as session:
        campaign = _campaign(session, scene)
        assert sheet_view(session, one, campaign, "B-1").spread is None  # no round yet
    with pytest.raises(PermissionDenied):
        database.write(lambda s: open_rounds(s, one, campaign, ["B-1"]))
    with pytest.raises(ValidationFailed):
        database.write(lambda s: open_rounds(s, scene["organiser"], campaign, ["B-1", "ZZ"]))
    assert database.write(lambda s: open_rounds(s, scene["organiser"], campaign, ["B-1"])) == 1
    assert database.write(lambda s: open_rounds(s, scene["organiser"], campaign, ["B-1"])) == 0
    with database.read() as session:
        assert open_codes(session, campaign) == ["B-1"]
        assert sheet_view(session, one, campaign, "B-1").spread == [50.0, 100.0]
        assert sheet_view(session, three, campaign, "B-1").spread is None  # not submitted

    _save(database, one, entry_id, {"innovation": 50, "impact": 40}, version=first)  # revises
    with database.read() as session:
        changes = revisions(session, scene["organiser"], campaign)
    assert list(changes["reviewer"]) == ["expert1"]
    assert changes.iloc[0]["old_points"] == {"innovation": 60.0, "impact": 40.0}
    assert changes.iloc[0]["new_points"] == {"innovation": 50.0, "impact": 40.0}

    assert database.write(lambda s: close_rounds(s, scene["organiser"], campaign, ["B-1"])) == 1
    _save(database, two, entry_id, {"innovation": 31, "impact": 20}, version=second)
    with database.read() as session:
        assert open_codes(session, campaign) == []
        assert sheet_view(session, one, campaign, "B-1").spread is None
        # A change after the round closed is not a meeting revision.
        assert list(revisions(session, scene["organiser"], campaign)["reviewer"]) == ["expert1"]


def test_a_round_is_only_for_shortlisted_entries(database, scene):
    def demote(session):
        session.get(Entry, scene["ids"]["B-9"]).status = "accepted"

    database.write(demote)
    with database.read() as session:
        campaign = _campaign(session, scene)
    with pytest.raises(ValidationFailed):
        database.write(lambda s: open_rounds(s, scene["organiser"], campaign, ["B-9"]))
