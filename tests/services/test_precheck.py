"""Pre-check: every flag exactly when it applies, linked applicants, audited decisions.

Files are real: PNGs written by Pillow into a temporary AssetStore, then truncated, deleted or
altered on disk the way a damaged data folder would be.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image
from sqlmodel import Session, func, select

from scoring.assets import AssetStore
from scoring.errors import PermissionDenied, ReviewDeskError, StateRefused, ValidationFailed
from scoring.permissions import Actor
from scoring.services.precheck import (
    applicant_links,
    decide,
    flag_messages,
    link_applicants,
    precheck_flags,
    unlink_applicants,
)
from scoring.storage.models import AuditEvent, Campaign, Category, Domain, Entry, EntryAsset
from tests.factories import ORGANISER, actor_of, make_account, make_campaign

GOV, DATA = "政务服务", "大数据"


def png(seed: int, side: int = 48) -> bytes:
    """A real PNG of random pixels (so that it barely compresses and truncation bites)."""
    pixels = os.urandom(side * side * 3) if seed < 0 else bytes([seed % 256]) * (side * side * 3)
    image = Image.frombytes("RGB", (side, side), pixels)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def noisy_png() -> bytes:
    return png(-1, side=64)


PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def add_entry(
    session: Session,
    store: AssetStore,
    campaign: Campaign,
    code: str,
    *,
    title: str | None = None,
    applicant: str = "青岛市大数据局",
    domain: str = GOV,
    category: str | None = None,
    status: str = "submitted",
    images: list[bytes] | None = None,
    materials: list[bytes] | None = None,
) -> Entry:
    """An entry with its files stored for real; two good images of its own unless told otherwise."""
    categories = select(Category).where(Category.campaign_id == campaign.id)
    if category is not None:
        categories = categories.where(Category.name == category)
    cat = session.exec(categories.order_by(Category.position)).first()
    dom = session.exec(
        select(Domain).where(Domain.campaign_id == campaign.id, Domain.name == domain)
    ).one()
    entry = Entry(
        campaign_id=campaign.id,
        code=code,
        title=f"案例 {code}" if title is None else title,
        applicant=applicant,
        category_id=cat.id,
        domain_id=dom.id,
        status=status,
    )
    session.add(entry)
    session.flush()
    files = [("image", d) for d in (images if images is not None else [png(-1), png(-1)])]
    files += [("material", d) for d in materials or []]
    for position, (role, data) in enumerate(files):
        session.add(
            EntryAsset(
                entry_id=entry.id,
                role=role,
                position=position,
                filename=f"{code}-{position}.{'png' if role == 'image' else 'pdf'}",
                sha256=store.put(data),
                mime="image/png" if role == "image" else "application/pdf",
                size_bytes=len(data),
            )
        )
    session.flush()
    return entry


@pytest.fixture
def campaign(database) -> Campaign:
    return database.write(lambda s: make_campaign(s, min_images=2))


def flags_of(database, store: AssetStore, campaign: Campaign, **options: Any) -> dict:
    with database.read() as session:
        frame = precheck_flags(session, ORGANISER, campaign, store, **options)
    return dict(zip(frame["code"], frame["flags"], strict=True))


def keys(flags: list) -> list[str]:
    return [key for key, _ in flags]


def audit_count(database, action: str | None = None) -> int:
    with database.read() as session:
        query = select(func.count()).select_from(AuditEvent)
        if action:
            query = query.where(AuditEvent.action == action)
        return session.exec(query).one()


def statuses(database, campaign: Campaign) -> dict[str, tuple[str, str]]:
    with database.read() as session:
        entries = session.exec(select(Entry).where(Entry.campaign_id == campaign.id)).all()
        return {e.code: (e.status, e.status_reason) for e in entries}


# --- flags -----------------------------------------------------------------------------------


def test_a_complete_entry_has_no_flags_and_the_frame_has_its_columns(database, store, campaign):
    database.write(lambda s: add_entry(s, store, campaign, "B-2", materials=[PDF]))
    database.write(lambda s: add_entry(s, store, campaign, "A-1", applicant="另一单位"))
    with database.read() as session:
        frame = precheck_flags(session, ORGANISER, campaign, store)
    assert list(frame.columns) == [
        "code",
        "title",
        "applicant",
        "category",
        "domain",
        "status",
        "status_reason",
        "flags",
    ]
    assert list(frame["code"]) == ["A-1", "B-2"]
    assert list(frame["flags"]) == [[], []]
    assert frame.iloc[0]["domain"] == GOV


def test_an_empty_campaign_gives_an_empty_frame_with_the_columns(database, store, campaign):
    with database.read() as session:
        frame = precheck_flags(session, ORGANISER, campaign, store)
    assert frame.empty and "flags" in frame.columns


def test_missing_required_fields_are_flagged_one_by_one(database, store, campaign):
    def setup(session):
        add_entry(session, store, campaign, "A-1", title="  ")
        add_entry(session, store, campaign, "A-2", applicant="")
        blank = Domain(campaign_id=campaign.id, name=" ", position=9)
        session.add(blank)
        session.flush()
        add_entry(session, store, campaign, "A-3", domain=" ", applicant="别的单位")
        session.add(Category(campaign_id=campaign.id, name="", position=9))
        session.flush()
        add_entry(session, store, campaign, "A-4", category="", applicant="第四单位")

    database.write(setup)
    flags = flags_of(database, store, campaign)
    assert keys(flags["A-1"]) == ["precheck.missing_title"]
    assert keys(flags["A-2"]) == ["precheck.missing_applicant"]
    assert keys(flags["A-3"]) == ["precheck.missing_domain"]
    assert keys(flags["A-4"]) == ["precheck.missing_category"]


def test_a_file_shared_by_two_entries_is_flagged_for_both(database, store, campaign):
    shared = noisy_png()
    database.write(lambda s: add_entry(s, store, campaign, "A-1", images=[png(-1), shared]))
    database.write(
        lambda s: add_entry(s, store, campaign, "A-2", applicant="乙", images=[shared, png(-1)])
    )
    _stored_path(database, store, "A-1", 1).unlink()
    flags = flags_of(database, store, campaign)
    assert flags["A-1"] == [("precheck.file_missing", {"name": "A-1-1.png"})]
    assert flags["A-2"] == [("precheck.file_missing", {"name": "A-2-0.png"})]


def test_fewer_images_than_required_is_flagged_and_enough_is_not(database, store, campaign):
    database.write(lambda s: add_entry(s, store, campaign, "A-1", images=[png(1)]))
    database.write(lambda s: add_entry(s, store, campaign, "A-2", applicant="乙", images=[]))
    database.write(lambda s: add_entry(s, store, campaign, "A-3", applicant="丙"))
    flags = flags_of(database, store, campaign)
    assert flags["A-1"] == [("precheck.too_few_images", {"count": 1, "minimum": 2})]
    assert flags["A-2"] == [("precheck.too_few_images", {"count": 0, "minimum": 2})]
    assert flags["A-3"] == []


def test_no_image_needed_when_the_campaign_requires_none(database, store):
    campaign = database.write(lambda s: make_campaign(s, min_images=0))
    database.write(lambda s: add_entry(s, store, campaign, "A-1", images=[]))
    assert flags_of(database, store, campaign) == {"A-1": []}


def _stored_path(database, store: AssetStore, code: str, position: int):
    with database.read() as session:
        asset = session.exec(
            select(EntryAsset)
            .join(Entry, Entry.id == EntryAsset.entry_id)
            .where(Entry.code == code, EntryAsset.position == position)
        ).one()
    return store.path(asset.sha256)


def test_unreadable_files_are_flagged_each_with_its_reason(database, store, campaign):
    good = noisy_png()
    truncated = noisy_png()[:-200]
    cut_pdf = PDF[: PDF.index(b"%%EOF")]
    database.write(lambda s: add_entry(s, store, campaign, "A-1", applicant="甲"))
    database.write(lambda s: add_entry(s, store, campaign, "A-2", applicant="乙"))
    database.write(
        lambda s: add_entry(s, store, campaign, "A-3", applicant="丙", images=[good, truncated])
    )
    database.write(
        lambda s: add_entry(s, store, campaign, "A-4", applicant="丁", materials=[cut_pdf])
    )
    database.write(lambda s: add_entry(s, store, campaign, "A-5", applicant="戊"))
    before = flags_of(database, store, campaign)
    assert before["A-1"] == before["A-2"] == before["A-5"] == []

    _stored_path(database, store, "A-1", 1).unlink()  # lost from the data folder
    altered = _stored_path(database, store, "A-2", 0)
    data = bytearray(altered.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    altered.write_bytes(bytes(data))
    grown = _stored_path(database, store, "A-5", 1)
    grown.write_bytes(grown.read_bytes() + b"\x00")

    flags = flags_of(database, store, campaign)
    assert flags["A-1"] == [("precheck.file_missing", {"name": "A-1-1.png"})]
    assert flags["A-2"] == [("precheck.file_changed", {"name": "A-2-0.png"})]
    assert flags["A-3"] == [("asset.unreadable", {"name": "A-3-1.png", "found": "PNG"})]
    assert flags["A-4"] == [("asset.unreadable", {"name": "A-4-2.pdf", "found": "PDF"})]
    assert flags["A-5"] == [("precheck.file_changed", {"name": "A-5-1.png"})]

    # The quick check looks at presence and size only: what needs the bytes is not seen.
    quick = flags_of(database, store, campaign, verify_content=False)
    assert keys(quick["A-1"]) == ["precheck.file_missing"]
    assert keys(quick["A-5"]) == ["precheck.file_changed"]
    assert quick["A-2"] == quick["A-3"] == quick["A-4"] == []


def test_an_unreadable_image_still_counts_as_attached(database, store, campaign):
    database.write(
        lambda s: add_entry(s, store, campaign, "A-1", images=[png(1), noisy_png()[:-200]])
    )
    assert keys(flags_of(database, store, campaign)["A-1"]) == ["asset.unreadable"]


def test_an_applicant_over_the_domain_limit_is_flagged_naming_the_others(database, store, campaign):
    def setup(session):
        for code in ("A-1", "A-2", "A-3"):
            add_entry(session, store, campaign, code, applicant="青岛市大数据局")
        add_entry(session, store, campaign, "B-1", applicant="青岛市大数据局", domain=DATA)
        add_entry(session, store, campaign, "B-2", applicant="青岛市大数据局", domain=DATA)
        add_entry(session, store, campaign, "C-1", applicant="青岛市 大数据局 ", domain=DATA)

    database.write(setup)
    flags = flags_of(database, store, campaign)
    assert flags["A-1"] == [
        (
            "precheck.too_many_entries",
            {
                "applicant": "青岛市大数据局",
                "domain": GOV,
                "count": 3,
                "limit": 2,
                "codes": "A-2, A-3",
            },
        )
    ]
    assert flags["A-3"][0][1]["codes"] == "A-1, A-2"
    # The spelling with spaces is the same applicant: three in 大数据 too.
    assert flags["C-1"][0][1]["codes"] == "B-1, B-2"
    assert all(keys(flags[c]) == ["precheck.too_many_entries"] for c in ("B-1", "B-2"))

    # Rejecting the surplus entry clears the flag of the rest.
    database.write(lambda s: decide(s, ORGANISER, campaign, ["A-3", "C-1"], "rejected", "超额"))
    flags = flags_of(database, store, campaign)
    assert all(flags[c] == [] for c in ("A-1", "A-2", "A-3", "B-1", "B-2", "C-1"))


def test_linked_applicants_count_as_one(database, store, campaign):
    def setup(session):
        add_entry(session, store, campaign, "A-1", applicant="海尔集团")
        add_entry(session, store, campaign, "A-2", applicant="海尔集团(青岛)分公司")
        add_entry(session, store, campaign, "A-3", applicant="海尔集团济南分公司")
        add_entry(session, store, campaign, "B-1", applicant="海尔集团济南分公司", domain=DATA)

    database.write(setup)
    assert all(f == [] for f in flags_of(database, store, campaign).values())

    linked = database.write(
        lambda s: link_applicants(
            s,
            ORGANISER,
            campaign,
            "海尔集团",
            ["海尔集团（青岛）分公司", " 海尔集团济南分公司", "海尔集团"],
        )
    )
    assert linked == 2
    flags = flags_of(database, store, campaign)
    assert flags["A-1"] == [
        (
            "precheck.too_many_entries",
            {"applicant": "海尔集团", "domain": GOV, "count": 3, "limit": 2, "codes": "A-2, A-3"},
        )
    ]
    assert flags["A-3"] == [
        (
            "precheck.too_many_entries_linked",
            {
                "applicant": "海尔集团济南分公司",
                "group": "海尔集团",
                "domain": GOV,
                "count": 3,
                "limit": 2,
                "codes": "A-1, A-2",
            },
        )
    ]
    assert keys(flags["A-2"]) == ["precheck.too_many_entries_linked"]
    assert flags["B-1"] == []  # another domain
    assert audit_count(database, "applicant.link") == 2

    assert (
        database.write(lambda s: unlink_applicants(s, ORGANISER, campaign, ["海尔集团济南分公司"]))
        == 1
    )
    assert all(f == [] for f in flags_of(database, store, campaign).values())
    with database.read() as session:
        assert applicant_links(session, ORGANISER, campaign) == {
            "海尔集团（青岛）分公司": "海尔集团"
        }


def test_links_are_one_level_deep_and_can_be_moved(database, campaign):
    database.write(lambda s: link_applicants(s, ORGANISER, campaign, "集团", ["甲公司", "乙公司"]))
    with pytest.raises(ValidationFailed) as chain:
        database.write(lambda s: link_applicants(s, ORGANISER, campaign, "甲公司", ["丙公司"]))
    assert (chain.value.key, chain.value.params) == (
        "precheck.link_chain",
        {"group": "甲公司", "parent": "集团"},
    )
    with pytest.raises(ValidationFailed) as head:
        database.write(lambda s: link_applicants(s, ORGANISER, campaign, "总集团", ["集团"]))
    assert head.value.key == "precheck.link_member_is_group"
    with pytest.raises(ValidationFailed) as empty:
        database.write(lambda s: link_applicants(s, ORGANISER, campaign, "集团", [" ", "集团"]))
    assert empty.value.key == "precheck.link_no_members"

    moved = database.write(
        lambda s: link_applicants(s, ORGANISER, campaign, "新集团", ["乙公司", "甲公司"])
    )
    assert moved == 2
    assert (
        database.write(lambda s: link_applicants(s, ORGANISER, campaign, "新集团", ["乙公司"])) == 0
    )
    with database.read() as session:
        assert applicant_links(session, ORGANISER, campaign) == {
            "甲公司": "新集团",
            "乙公司": "新集团",
        }
        last = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "applicant.link")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert (last.target, last.old_value, last.new_value) == ("甲公司", "集团", "新集团")


def test_duplicate_titles_ignore_case_and_whitespace(database, store, campaign):
    def setup(session):
        add_entry(session, store, campaign, "A-1", title="智慧 城市大脑", applicant="甲")
        add_entry(session, store, campaign, "A-2", title="智慧城市大脑 ", applicant="乙")
        add_entry(session, store, campaign, "A-3", title="Smart City", applicant="丙")
        add_entry(session, store, campaign, "A-4", title="smart  CITY", applicant="丁")
        add_entry(session, store, campaign, "A-5", title="Smart Cities", applicant="戊")
        add_entry(
            session, store, campaign, "A-6", title="智慧城市大脑", applicant="己", status="rejected"
        )

    database.write(setup)
    flags = flags_of(database, store, campaign)
    assert flags["A-1"] == [("precheck.duplicate_title", {"codes": "A-2"})]
    assert flags["A-2"] == [("precheck.duplicate_title", {"codes": "A-1"})]
    assert flags["A-3"] == [("precheck.duplicate_title", {"codes": "A-4"})]
    assert flags["A-4"] == [("precheck.duplicate_title", {"codes": "A-3"})]
    assert flags["A-5"] == flags["A-6"] == []


def test_flag_messages_are_translated(database, store, campaign):
    flags = [
        ("precheck.too_few_images", {"count": 1, "minimum": 4}),
        ("precheck.duplicate_title", {"codes": "A-2"}),
        ("asset.unreadable", {"name": "a.png", "found": "PNG"}),
    ]
    en = flag_messages(flags, "en")
    zh = flag_messages(flags, "zh")
    assert en[0] == "1 image(s); at least 4 are required."
    assert "A-2" in en[1] and "A-2" in zh[1]
    assert "a.png" in en[2] and "a.png" in zh[2]
    assert zh[0] == "只有 1 张图片，至少需要 4 张。"
    assert flag_messages([], "zh") == []


# --- decisions -------------------------------------------------------------------------------


@pytest.fixture
def three(database, store, campaign) -> Campaign:
    def setup(session):
        add_entry(session, store, campaign, "A-1", applicant="甲")
        add_entry(session, store, campaign, "A-2", applicant="乙")
        add_entry(session, store, campaign, "A-3", applicant="丙", status="shortlisted")

    database.write(setup)
    return campaign


def test_bulk_accept_and_reject_are_audited_one_event_each(database, three):
    accepted = database.write(
        lambda s: decide(s, ORGANISER, three, ["A-1", "A-2", "A-1"], "accepted", "")
    )
    assert accepted == 2
    assert statuses(database, three)["A-1"] == ("accepted", "")
    assert (
        database.write(lambda s: decide(s, ORGANISER, three, ["A-1", "A-2"], "accepted", "")) == 0
    )

    rejected = database.write(
        lambda s: decide(s, ORGANISER, three, ["A-2"], "rejected", "  图片不足 ")
    )
    assert rejected == 1
    assert statuses(database, three)["A-2"] == ("rejected", "图片不足")
    with database.read() as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "entry.status").order_by(AuditEvent.id)
        ).all()
    assert [(e.target, e.actor) for e in events] == [("A-1", "cli"), ("A-2", "cli"), ("A-2", "cli")]
    assert events[2].old_value == {"status": "accepted", "reason": ""}
    assert events[2].new_value == {"status": "rejected", "reason": "图片不足"}
    assert events[2].campaign_id == three.id

    # Accepting again replaces the rejection's reason; the audit log keeps it.
    assert database.write(lambda s: decide(s, ORGANISER, three, ["A-2"], "accepted", "已补")) == 1
    assert statuses(database, three)["A-2"] == ("accepted", "已补")


def _refused_and_nothing_written(
    database, campaign, *args, error=ValidationFailed
) -> ReviewDeskError:
    """Call decide, then commit whatever it left in the session: nothing may have changed."""
    before = (statuses(database, campaign), audit_count(database))

    def attempt(session):
        with pytest.raises(error) as refused:
            decide(session, ORGANISER, campaign, *args)
        return refused.value

    error = database.write(attempt)
    assert (statuses(database, campaign), audit_count(database)) == before
    return error


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_rejecting_without_a_reason_is_refused_and_nothing_written(database, three, reason):
    error = _refused_and_nothing_written(database, three, ["A-1", "A-2"], "rejected", reason)
    assert error.key == "precheck.reason_required"


def test_unknown_codes_are_all_named_and_nothing_written(database, three):
    error = _refused_and_nothing_written(
        database, three, ["A-1", "X-9", "A-2", "Y-1"], "accepted", ""
    )
    assert (error.key, error.params) == ("precheck.unknown_codes", {"codes": "X-9, Y-1"})


def test_a_shortlisted_entry_is_not_rejected_here(database, three):
    error = _refused_and_nothing_written(database, three, ["A-1", "A-3"], "rejected", "重复")
    assert (error.key, error.params) == ("precheck.shortlisted", {"codes": "A-3"})
    # Accepting leaves it on the shortlist, unchanged and uncounted.
    assert (
        database.write(lambda s: decide(s, ORGANISER, three, ["A-1", "A-3"], "accepted", "")) == 1
    )
    assert statuses(database, three)["A-3"] == ("shortlisted", "")


def test_a_bad_decision_and_a_finalised_campaign_are_refused(database, three):
    error = _refused_and_nothing_written(database, three, ["A-1"], "maybe", "")
    assert error.key == "precheck.bad_decision"

    def finalise(session):
        campaign = session.get(Campaign, three.id)
        campaign.finalised_at = datetime.now(UTC)
        session.add(campaign)
        return campaign

    finalised = database.write(finalise)
    error = _refused_and_nothing_written(
        database, finalised, ["A-1"], "accepted", "", error=StateRefused
    )
    assert error.key == "campaign_state.finalised"


@pytest.mark.parametrize("role", ["expert", "media"])
def test_non_organisers_are_refused_everything(database, store, three, role):
    reviewer: Actor = actor_of(database.write(lambda s: make_account(s, f"{role}1", role)))
    before = (statuses(database, three), audit_count(database))
    with database.read() as session, pytest.raises(PermissionDenied):
        precheck_flags(session, reviewer, three, store)
    with database.read() as session, pytest.raises(PermissionDenied):
        applicant_links(session, reviewer, three)
    calls = [
        lambda s: decide(s, reviewer, three, ["A-1"], "accepted", ""),
        lambda s: decide(s, reviewer, three, ["A-1"], "rejected", "x"),
        lambda s: link_applicants(s, reviewer, three, "集团", ["甲"]),
        lambda s: unlink_applicants(s, reviewer, three, ["甲"]),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            database.write(call)
    assert (statuses(database, three), audit_count(database)) == before
