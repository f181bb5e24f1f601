"""What the public sees of a campaign (SPEC §8): accepted entries, public fields only, nothing else.

A field the organisers did not mark public must not reach the visitor by any road: not on a
card, not on the entry view, and not through the search (finding an entry by a hidden
applicant's name would tell that the applicant is behind it).
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from scoring.errors import NotFound, StateRefused
from scoring.permissions import Actor
from scoring.services.public_gallery import (
    HallFilters,
    hall_view,
    public_campaigns,
    public_entry,
)
from scoring.storage.database import Database
from scoring.storage.models import Campaign, EntryAsset
from tests.factories import make_campaign, make_entry

PUBLIC = Actor.public_visitor()
SLUG = "test-2020"
HIDDEN_APPLICANT = "隐名申报单位"


@pytest.fixture
def hall(database: Database) -> Database:
    def build(session: Session) -> None:
        campaign = make_campaign(session)
        campaign.public_gallery = True
        campaign.public_fields = ["code", "category", "domain"]  # no applicant, no summary
        session.add(campaign)
        make_campaign(session, slug="closed-2020", name="未开放的评选")
        first = make_entry(session, campaign, "C-1", title="一网通办", applicant=HIDDEN_APPLICANT)
        make_entry(session, campaign, "C-2", status="accepted", title="城市大脑")
        make_entry(session, campaign, "C-3", status="rejected", title="被驳回的作品")
        make_entry(session, campaign, "C-4", status="submitted", title="未审核的作品")
        first.summary = "只有组织者能看到的简介"
        first.status_reason = "内部审核意见"
        session.add(first)
        for position, role in enumerate(("image", "image", "material")):
            session.add(
                EntryAsset(
                    entry_id=first.id,
                    role=role,
                    position=position,
                    filename=f"{HIDDEN_APPLICANT}-{position}.jpg",
                    sha256=f"{position}" * 64,
                    mime="image/jpeg" if role == "image" else "application/pdf",
                    size_bytes=10,
                )
            )

    database.write(build)
    return database


def _view(database: Database):
    with database.read() as session:
        return hall_view(session, PUBLIC, SLUG)


def test_the_hall_shows_accepted_and_shortlisted_entries_with_their_first_image(hall):
    view = _view(hall)
    assert list(view.entries["code"]) == ["C-1", "C-2"]
    assert list(view.entries["title"]) == ["一网通办", "城市大脑"]
    assert list(view.entries["image"]) == ["0" * 64, None]
    assert view.fields == ("code", "category", "domain")


def test_a_hidden_field_is_in_no_card_and_no_search_finds_it(hall):
    view = _view(hall)
    assert "applicant" not in view.entries and "summary" not in view.entries
    assert HIDDEN_APPLICANT not in view.entries.to_string()
    assert view.shown(HallFilters(query=HIDDEN_APPLICANT)).empty
    assert view.shown(HallFilters(query="只有组织者")).empty
    assert list(view.shown(HallFilters(query="一网"))["code"]) == ["C-1"]
    assert list(view.shown(HallFilters(query="c-2"))["code"]) == ["C-2"]  # the code is public


def test_a_search_does_not_find_a_field_once_it_is_hidden(hall):
    def show_applicant(session: Session) -> None:
        campaign = session.exec(select(Campaign).where(Campaign.slug == SLUG)).one()
        campaign.public_fields = ["applicant"]
        session.add(campaign)

    assert _view(hall).shown(HallFilters(query=HIDDEN_APPLICANT)).empty
    hall.write(show_applicant)
    view = _view(hall)
    assert list(view.shown(HallFilters(query=HIDDEN_APPLICANT))["code"]) == ["C-1"]
    assert view.categories == () and view.domains == ()  # filtering would reveal them
    assert view.shown(HallFilters(categories=["数字政府"])).equals(view.entries)


def test_filters_by_category_and_domain(hall):
    view = _view(hall)
    assert view.categories == ("数字政府", "数字经济")
    assert len(view.shown(HallFilters(categories=["数字政府"]))) == 2
    assert view.shown(HallFilters(categories=["数字经济"])).empty
    assert len(view.shown(HallFilters(domains=["政务服务"]))) == 2


def test_the_entry_view_has_every_image_and_no_material_reason_or_hidden_field(hall):
    with hall.read() as session:
        entry = public_entry(session, PUBLIC, SLUG, "C-1")
    assert entry.title == "一网通办"
    assert entry.images == ("0" * 64, "1" * 64)  # the material is not among them
    assert entry.fields == (("code", "C-1"), ("category", "数字政府"), ("domain", "政务服务"))
    shown = repr(entry)
    for secret in (HIDDEN_APPLICANT, "只有组织者", "内部审核意见", "2" * 64):
        assert secret not in shown


@pytest.mark.parametrize("code", ["C-3", "C-4", "NOPE"])
def test_a_rejected_or_unchecked_entry_is_as_unknown_as_a_missing_one(hall, code):
    with hall.read() as session, pytest.raises(NotFound) as refused:
        public_entry(session, PUBLIC, SLUG, code)
    assert refused.value.key == "hall.no_such_entry"


def test_a_campaign_whose_hall_is_off_shows_nothing_and_is_not_listed(hall):
    with hall.read() as session:
        listed = [c.slug for c in public_campaigns(session, PUBLIC)]
        with pytest.raises(StateRefused) as refused:
            hall_view(session, PUBLIC, "closed-2020")
    assert listed == [SLUG]
    assert refused.value.key == "public_state.gallery_closed"
