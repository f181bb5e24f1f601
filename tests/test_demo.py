"""The demo campaigns of SPEC §7: complete, realistic, and idempotent."""

from __future__ import annotations

from sqlmodel import func, select

from scoring.demo.builder import DEMO_PASSWORD, DEMO_USERS, build_demo, ensure_demo
from scoring.permissions import Actor
from scoring.services.accounts import find_account
from scoring.services.campaigns import get_campaign
from scoring.services.standings import standings_frame
from scoring.storage.models import AuditEvent, Entry, EntryAsset


def test_demo_is_complete_and_a_second_run_changes_nothing(sqlite_database, store):
    assert ensure_demo(sqlite_database, store)[-2:] == ["qd-2020", "dg-person-2020"]
    with sqlite_database.read() as session:
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
        assert {u for u, _, _ in DEMO_USERS} == {
            "organiser",
            "expert1",
            "expert2",
            "expert3",
            "expert4",
            "expert5",
            "media1",
            "media2",
            "media3",
        }
        assert find_account(session, "expert1").password_hash != DEMO_PASSWORD
        qd = get_campaign(session, "qd-2020")
        shortlisted = session.exec(
            select(Entry).where(Entry.campaign_id == qd.id, Entry.status == "shortlisted")
        ).all()
        assert len(shortlisted) == 36
        for entry in shortlisted:
            roles = session.exec(
                select(EntryAsset.role, EntryAsset.mime).where(EntryAsset.entry_id == entry.id)
            ).all()
            assert sorted(roles) == [("image", "image/jpeg")] * 4 + [
                ("material", "application/pdf")
            ]
            assert store.path(
                session.exec(
                    select(EntryAsset.sha256).where(EntryAsset.entry_id == entry.id)
                ).first()
            ).exists()
        standings = standings_frame(session, Actor.command_line(), qd)
        assert standings["provisional"].any() and not standings["provisional"].all()
        assert standings["composite"].between(0, 100).all()
        person = get_campaign(session, "dg-person-2020")
        assert {
            e.kind for e in session.exec(select(Entry).where(Entry.campaign_id == person.id))
        } == {"person"}
    assert ensure_demo(sqlite_database, store) == []
    assert sqlite_database.write(lambda s: build_demo(s, store)) == []
    with sqlite_database.read() as session:
        assert session.exec(select(func.count()).select_from(AuditEvent)).one() == events
