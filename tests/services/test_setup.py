"""Editing a campaign: validated like a campaign file, confirmed once scoring started, audited."""

from __future__ import annotations

import copy

import pytest
from sqlmodel import select

from scoring.errors import PermissionDenied, StaleEdit, ValidationFailed
from scoring.services.campaigns import method_for
from scoring.services.setup import setup_view, update_campaign
from scoring.services.sheets import save_own_sheet
from scoring.storage.models import AuditEvent, Campaign, Category
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry


@pytest.fixture
def scene(database):
    def setup(session):
        campaign = make_campaign(session)
        entry = make_entry(session, campaign, "S-1")
        expert = make_account(session, "expert1", "expert")
        assigned(session, entry, expert)
        return {"slug": campaign.slug, "expert": actor_of(expert), "entry": entry.id}

    return database.write(setup)


def _edit(database, scene, change, confirmed=False):
    def work(session):
        campaign = session.exec(select(Campaign).where(Campaign.slug == scene["slug"])).one()
        view = setup_view(session, ORGANISER, campaign)
        data = copy.deepcopy(view.definition)
        change(data)
        return update_campaign(
            session, ORGANISER, campaign, data, expected_version=view.version, confirmed=confirmed
        )

    return database.write(work)


def _method(database, scene):
    with database.read() as session:
        campaign = session.exec(select(Campaign).where(Campaign.slug == scene["slug"])).one()
        return method_for(session, campaign)


def _weights(data, votes, expert, media):
    for component, weight in zip(data["components"], (votes, expert, media), strict=True):
        component["weight"] = weight


def test_weights_must_sum_to_100(database, scene):
    with pytest.raises(ValidationFailed) as refused:
        _edit(database, scene, lambda d: _weights(d, 50, 30, 30))
    assert "campaign.weights_sum" in {p.key for p in refused.value.problems}
    assert [c.weight for c in _method(database, scene).components] == [50, 30, 20]


def test_before_scoring_weights_change_without_confirmation_and_are_audited(database, scene):
    assert _edit(database, scene, lambda d: _weights(d, 40, 40, 20)) == ["components"]
    assert [c.weight for c in _method(database, scene).components] == [40, 40, 20]
    with database.read() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "campaign.update")).one()
    assert event.old_value["components"][0]["weight"] == 50
    assert event.new_value["components"][0]["weight"] == 40


def test_after_scoring_started_a_rubric_change_needs_confirmation(database, scene):
    database.write(
        lambda s: save_own_sheet(
            s,
            scene["expert"],
            entry_id=scene["entry"],
            points={"innovation": 30},
            comment="",
            submit=False,
            expected_version=None,
        )
    )

    def rename(d):
        d["criteria"][0]["name"] = "创新与突破"

    with pytest.raises(ValidationFailed) as refused:
        _edit(database, scene, rename)
    assert refused.value.key == "setup.confirm_needed"
    assert _edit(database, scene, rename, confirmed=True) == ["criteria"]
    # Settings that do not touch results need no confirmation.
    assert _edit(database, scene, lambda d: d.update(blind_review=True)) == ["blind_review"]

    def shrink(d):
        d["criteria"][0]["max_points"] = 20  # an existing score is 30

    with pytest.raises(ValidationFailed) as refused:
        _edit(database, scene, shrink, confirmed=True)
    assert refused.value.key == "setup.scores_outside"

    def drop(d):
        d["criteria"] = [c for c in d["criteria"] if c["key"] != "innovation"]

    with pytest.raises(ValidationFailed) as refused:
        _edit(database, scene, drop, confirmed=True)
    assert refused.value.key == "setup.criterion_in_use"


def test_a_category_in_use_cannot_be_removed_but_others_can_be_added(database, scene):
    with pytest.raises(ValidationFailed) as refused:
        _edit(database, scene, lambda d: d.update(categories=["数字经济"]))
    assert refused.value.key == "setup.name_in_use"
    _edit(database, scene, lambda d: d.update(categories=["数字社会", *d["categories"]]))
    with database.read() as session:
        names = [c.name for c in session.exec(select(Category).order_by(Category.position))]
    assert names == ["数字社会", "数字政府", "数字经济"]


def test_reviewers_cannot_edit_a_campaign(database, scene):
    def work(session):
        campaign = session.exec(select(Campaign).where(Campaign.slug == scene["slug"])).one()
        view = setup_view(session, ORGANISER, campaign)
        return update_campaign(
            session, scene["expert"], campaign, view.definition, expected_version=view.version
        )

    with pytest.raises(PermissionDenied):
        database.write(work)


def test_a_stale_set_up_edit_is_refused_and_the_first_edit_stays(database, scene):
    """Two organisers open set-up; one changes the quota, the other the weights, later."""

    def open_view(session):
        campaign = session.exec(select(Campaign).where(Campaign.slug == scene["slug"])).one()
        return setup_view(session, ORGANISER, campaign)

    first, second = database.write(open_view), database.write(open_view)

    def save(view, change):
        def work(session):
            campaign = session.exec(select(Campaign).where(Campaign.slug == scene["slug"])).one()
            data = copy.deepcopy(view.definition)
            change(data)
            return update_campaign(
                session, ORGANISER, campaign, data, expected_version=view.version
            )

        return database.write(work)

    save(first, lambda d: d.update(award_quota=2))

    def new_weights(data):
        data["components"][0]["weight"], data["components"][1]["weight"] = 40, 40

    with pytest.raises(StaleEdit) as refused:
        save(second, new_weights)
    assert refused.value.key == "setup.stale"
    with database.read() as session:
        campaign = session.exec(select(Campaign).where(Campaign.slug == scene["slug"])).one()
        assert campaign.award_quota == 2  # the first edit did not silently revert
        assert [c.weight for c in method_for(session, campaign).components] == [50, 30, 20]
    fresh = database.write(open_view)
    save(fresh, new_weights)  # on the newer version the second organiser's edit goes through
    with database.read() as session:
        campaign = session.exec(select(Campaign).where(Campaign.slug == scene["slug"])).one()
        assert campaign.award_quota == 2
        assert [c.weight for c in method_for(session, campaign).components] == [40, 40, 20]
