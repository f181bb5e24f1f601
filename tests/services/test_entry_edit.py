"""One entry added or edited by hand: the import's refusals, confirmations, audit, stale edits."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from sqlmodel import col, func, select

from scoring.errors import AssetError, PermissionDenied, StaleEdit, StateRefused, ValidationFailed
from scoring.importers.entries import plan_entries_import
from scoring.permissions import Actor
from scoring.services.accounts import set_active
from scoring.services.entry_edit import check_upload, entry_edit_view, save_entry
from scoring.storage.models import AuditEvent, Campaign, Entry, EntryAsset, ScoreSheet
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry
from tests.importers.import_helpers import write_csv


def png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (seed * 40 % 256, 90, 160)).save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

FORM = {
    "code": "H-01",
    "title": "一网通办",
    "kind": "case",
    "applicant": "某市政务局",
    "recommender": "某省",
    "category": "数字政府",
    "domain": "政务服务",
    "summary": "第一行\n第二行",
}


def _campaign(session) -> Campaign:
    return session.exec(select(Campaign).where(Campaign.slug == "test-2020")).one()


@pytest.fixture
def scene(database):
    database.write(lambda s: make_campaign(s, max_entries_per_applicant_per_domain=1))
    return database


def _save(database, store, form=None, *, code=None, version=None, **options):
    def work(session):
        campaign = _campaign(session)
        expected = version
        if expected is None and code is not None:
            expected = entry_edit_view(session, ORGANISER, campaign, code).version
        return save_entry(
            session,
            options.pop("actor", ORGANISER),
            campaign,
            {**FORM, **(form or {})},
            store=store,
            code=code,
            expected_version=expected or "",
            **options,
        )

    return database.write(work)


def _view(database, code):
    with database.read() as session:
        return entry_edit_view(session, ORGANISER, _campaign(session), code)


def _count(database, model=Entry):
    with database.read() as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _problems(error: ValidationFailed) -> dict[str, str]:
    return {p.column: p.key for p in error.problems}


def test_added_entry_is_stored_with_its_files_and_audited(scene, store):
    uploads = [check_upload("image", "a.png", png(1)), check_upload("material", "b.pdf", PDF)]
    result = _save(scene, store, uploads=uploads)
    assert result.created and result.code == "H-01"
    view = _view(scene, "H-01")
    assert view.values == FORM
    assert view.status == "submitted"
    assert [(a.role, a.filename, a.position) for a in view.assets] == [
        ("image", "a.png", 0),
        ("material", "b.pdf", 0),
    ]
    assert all(store.exists(a.sha256) for a in view.assets)
    with scene.read() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "entry.add")).one()
    assert event.target == "H-01" and event.old_value is None
    assert event.new_value["title"] == "一网通办"
    assert [f.split(":")[1] for f in event.new_value["files"]] == ["a.png", "b.pdf"]


@pytest.mark.parametrize(
    ("change", "column", "key"),
    [
        ({"code": "=1+1"}, "code", "imports.code_formula"),
        ({"code": "x" * 41}, "code", "imports.code_too_long"),
        ({"title": ""}, "title", "import.required"),
        ({"category": "没有的类别"}, "category", "entries.unknown_category"),
        ({"domain": "没有的领域"}, "domain", "entries.unknown_domain"),
        ({"kind": "robot"}, "kind", "import.bad_choice"),
        ({"applicant": "a\x00b"}, "applicant", "imports.control_character"),
    ],
)
def test_the_import_refusals_name_the_field_and_write_nothing(scene, store, change, column, key):
    upload = check_upload("image", "a.png", png(2))
    with pytest.raises(ValidationFailed) as refused:
        _save(scene, store, change, uploads=[upload])
    assert _problems(refused.value)[column] == key
    assert _count(scene) == 0
    assert not store.exists(upload.sha256)  # the file waits for the whole save


def test_the_same_row_is_refused_by_the_import_with_the_same_reason(scene, store, tmp_path):
    """One home: a workbook row and the form fail on the same rule with the same key."""
    header = ["编号", "名称", "申报主体", "类别", "领域"]
    path = write_csv(tmp_path / "e.csv", header, [["=1+1", "t", "a", "没有的类别", "政务服务"]])
    with scene.read() as session:
        plan = plan_entries_import(session, ORGANISER, _campaign(session), path, store=store)
    imported = {p.column: p.key for p in plan.report.problems}
    with pytest.raises(ValidationFailed) as refused:
        _save(scene, store, {"code": "=1+1", "category": "没有的类别"})
    assert _problems(refused.value) == imported


def test_a_code_already_taken_is_refused(scene, store):
    _save(scene, store)
    with pytest.raises(ValidationFailed) as refused:
        _save(scene, store, {"title": "另一个"})
    assert _problems(refused.value) == {"code": "entries.code_exists"}
    _save(scene, store, {"code": "H-02", "applicant": "别的单位"})
    with pytest.raises(ValidationFailed) as refused:
        _save(scene, store, {"code": "H-01"}, code="H-02")
    assert _problems(refused.value) == {"code": "entries.code_exists"}


def test_files_of_the_wrong_kind_are_refused_as_the_import_refuses_them():
    with pytest.raises(AssetError) as text:
        check_upload("image", "photo.png", b"just some text, not a picture")
    assert text.value.key == "asset.not_an_image_text"
    with pytest.raises(AssetError) as pdf:
        check_upload("image", "scan.png", PDF)
    assert pdf.value.key == "asset.not_an_image" and pdf.value.params["found"] == "PDF"
    with pytest.raises(AssetError) as unsafe:
        check_upload("material", "../x.pdf", PDF)
    assert unsafe.value.key == "asset.unsafe_name"


def test_more_than_four_images_are_refused(scene, store):
    uploads = [check_upload("image", f"{n}.png", png(n)) for n in range(5)]
    with pytest.raises(ValidationFailed) as refused:
        _save(scene, store, uploads=uploads)
    assert _problems(refused.value) == {"images": "entries.too_many_images"}
    assert _count(scene) == 0 and _count(scene, EntryAsset) == 0


def test_too_many_entries_of_an_applicant_need_a_confirmation(scene, store):
    _save(scene, store)
    with pytest.raises(ValidationFailed) as refused:
        _save(scene, store, {"code": "H-02"})
    assert refused.value.key == "entry_edit.confirm_needed"
    assert _problems(refused.value) == {"applicant": "entry_edit.too_many_entries"}
    assert refused.value.problems[0].params["codes"] == "H-01"
    assert _count(scene) == 1
    _save(scene, store, {"code": "H-02"}, confirmed=True)
    assert _count(scene) == 2


def test_edit_changes_fields_and_audits_old_and_new(scene, store):
    _save(scene, store)
    result = _save(scene, store, {"title": "新名称", "summary": "改过"}, code="H-01")
    assert result.changed == ("title", "summary")
    with scene.read() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "entry.update")).one()
    assert event.old_value["title"] == "一网通办" and event.new_value["title"] == "新名称"
    assert "code" not in event.new_value
    assert _view(scene, "H-01").values["title"] == "新名称"


def test_a_save_on_an_older_version_is_refused_not_overwriting(scene, store):
    _save(scene, store)
    old = _view(scene, "H-01").version
    _save(scene, store, {"title": "甲的修改"}, code="H-01", version=old)
    with pytest.raises(StaleEdit):
        _save(scene, store, {"title": "乙的修改"}, code="H-01", version=old)
    assert _view(scene, "H-01").values["title"] == "甲的修改"


def test_removing_and_reordering_files_asks_first_then_applies(scene, store):
    uploads = [check_upload("image", f"{n}.png", png(n)) for n in range(3)]
    _save(scene, store, uploads=uploads)
    view = _view(scene, "H-01")
    ids = [a.id for a in view.of_role("image")]
    keep = [ids[2], ids[0]]  # drop the middle one, put the last first
    with pytest.raises(ValidationFailed) as refused:
        _save(scene, store, code="H-01", keep=keep)
    assert [p.key for p in refused.value.problems] == ["entry_edit.removes_image"]
    assert len(_view(scene, "H-01").of_role("image")) == 3
    result = _save(scene, store, code="H-01", keep=keep, confirmed=True)
    assert result.removed == (f"image:1.png:{view.of_role('image')[1].sha256[:12]}",)
    after = _view(scene, "H-01").of_role("image")
    assert [(a.filename, a.position) for a in after] == [("2.png", 0), ("0.png", 1)]


def test_a_new_order_alone_is_a_change_the_save_reports(scene, store):
    """Putting the last image first is what the organiser asked: not "nothing changed"."""
    uploads = [check_upload("image", f"{n}.png", png(n)) for n in range(2)]
    _save(scene, store, uploads=uploads)
    ids = [a.id for a in _view(scene, "H-01").of_role("image")]
    result = _save(scene, store, code="H-01", keep=ids[::-1])
    assert result.reordered and result.changes == 1
    assert [a.filename for a in _view(scene, "H-01").of_role("image")] == ["1.png", "0.png"]
    assert _save(scene, store, code="H-01", keep=ids[::-1]).changes == 0


def test_shortlisted_entry_below_min_images_warns_on_removal(scene, store):
    uploads = [check_upload("image", f"{n}.png", png(n)) for n in range(4)]
    _save(scene, store, uploads=uploads)
    scene.write(
        lambda s: setattr(
            s.exec(select(Entry).where(Entry.code == "H-01")).one(), "status", "shortlisted"
        )
    )
    first = _view(scene, "H-01").of_role("image")[0].id
    with pytest.raises(ValidationFailed) as refused:
        _save(scene, store, code="H-01", keep=[first])
    keys = [p.key for p in refused.value.problems]
    assert "entry_edit.too_few_images" in keys and keys.count("entry_edit.removes_image") == 3


def test_code_is_fixed_once_the_entry_has_assignments(scene, store):
    def setup(session):
        entry = make_entry(session, _campaign(session), "S-1")
        assigned(session, entry, make_account(session, "expert1", "expert"))

    scene.write(setup)
    assert _view(scene, "S-1").code_fixed
    form = {**_view(scene, "S-1").values}
    with pytest.raises(ValidationFailed) as refused:
        _save(scene, store, {**form, "code": "S-9"}, code="S-1")
    assert _problems(refused.value) == {"code": "entry_edit.code_fixed"}
    _save(scene, store, {**form, "title": "改名"}, code="S-1")  # other fields still change


def test_category_change_after_scoring_started_needs_confirmation(scene, store):
    def setup(session):
        entry = make_entry(session, _campaign(session), "S-1")
        expert = make_account(session, "expert1", "expert")
        assigned(session, entry, expert)
        session.add(ScoreSheet(entry_id=entry.id, reviewer_id=expert.id, panel="expert"))

    scene.write(setup)
    form = {**_view(scene, "S-1").values, "category": "数字经济"}
    with pytest.raises(ValidationFailed) as refused:
        _save(scene, store, form, code="S-1")
    assert _problems(refused.value) == {"category": "entry_edit.group_moves"}
    _save(scene, store, form, code="S-1", confirmed=True)
    assert _view(scene, "S-1").values["category"] == "数字经济"


def test_finalised_campaign_refuses_and_reviewers_are_refused(scene, store):
    def setup(session):
        expert = make_account(session, "expert1", "expert")
        _campaign(session).finalised_at = datetime.now(UTC)
        return actor_of(expert)

    expert = scene.write(setup)
    with pytest.raises(StateRefused) as refused:
        _save(scene, store)
    assert refused.value.key == "campaign_state.finalised"
    scene.write(lambda s: setattr(_campaign(s), "finalised_at", None))
    with pytest.raises(PermissionDenied):
        _save(scene, store, actor=expert)
    with pytest.raises(PermissionDenied), scene.read() as session:
        entry_edit_view(session, expert, _campaign(session))
    assert _count(scene) == 0


def test_a_deactivated_organiser_is_refused(scene, store):
    def setup(session):
        make_account(session, "chief", "organiser")  # the last organiser cannot be deactivated
        return actor_of(make_account(session, "office", "organiser"))

    office: Actor = scene.write(setup)
    _save(scene, store, actor=office)
    scene.write(lambda s: set_active(s, ORGANISER, "office", False))
    with pytest.raises(PermissionDenied):
        _save(scene, store, {"title": "x"}, code="H-01", actor=office)
    with scene.read() as session:
        assert session.exec(select(col(Entry.title))).one() == FORM["title"]
