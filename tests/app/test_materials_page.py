"""The materials page (材料下载): filters, choosing entries, the size limit, who may open it."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import scoring.services.materials as materials
from scoring import context
from scoring.storage.models import EntryAsset
from tests.app.test_pages import _app
from tests.factories import assigned, make_account, make_campaign, make_entry


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def page_data(app_env):
    store = context.asset_store()

    def setup(session):
        campaign = make_campaign(session)
        one = make_entry(session, campaign, "T-001", title="测试作品")
        make_entry(session, campaign, "T-002", title="另一作品", status="accepted")
        data = _png()
        for position in range(2):
            session.add(
                EntryAsset(
                    entry_id=one.id,
                    role="image",
                    position=position,
                    filename=f"{position}.png",
                    sha256=store.put(data),
                    mime="image/png",
                    size_bytes=len(data),
                )
            )
        make_account(session, "boss", "organiser")
        assigned(session, one, make_account(session, "expert1", "expert"))

    context.database().write(setup)


def _buttons(at) -> dict[str, bool]:
    """Download button label -> disabled."""
    return {b.proto.label: b.proto.disabled for b in at.get("download_button")}


def test_the_organiser_filters_chooses_and_gets_both_downloads(page_data):
    at = _app("boss", "organiser").switch_page("pages/materials.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["材料下载"]
    assert list(at.dataframe[0].value["编号"]) == ["T-001", "T-002"]
    assert _buttons(at) == {"下载材料压缩包（zip）": True, "下载材料汇编（PDF）": False}

    at.multiselect(key="materials_status").select("shortlisted").run()
    assert list(at.dataframe[0].value["编号"]) == ["T-001"]
    at.checkbox[0].check().run()
    assert not at.exception
    assert any("已选 1 个作品，共 2 个文件" in m.value for m in at.markdown)
    assert _buttons(at)["下载材料压缩包（zip）"] is False
    assert at.selectbox[0].value == "T-001"


def test_a_choice_over_the_page_limit_is_refused_with_the_reason(page_data, monkeypatch):
    monkeypatch.setattr(materials, "MAX_DOWNLOAD_BYTES", 10)
    at = _app("boss", "organiser").switch_page("pages/materials.py").run()
    at.multiselect[3].select("T-001").run()
    assert not at.exception
    assert any("超过页面下载上限" in e.value for e in at.error)
    assert _buttons(at)["下载材料压缩包（zip）"] is True


def test_an_empty_filter_result_says_so(page_data):
    at = _app("boss", "organiser").switch_page("pages/materials.py").run()
    at.multiselect(key="materials_status").select("accepted").run()
    at.multiselect(key="materials_category").select("数字经济").run()
    assert not at.exception
    assert [i.value for i in at.info] == ["没有符合筛选条件的作品。"]


def test_a_reviewer_has_no_materials_page(page_data):
    at = _app("expert1", "expert")
    with pytest.raises(ValueError):
        at.switch_page("pages/materials.py")


def _entry_page(username: str, role: str):
    at = _app(username, role)
    at.query_params["code"] = "T-001"
    return at.switch_page("pages/entry.py").run()


def test_the_entry_page_offers_its_dossier_and_organisers_its_form(page_data):
    """Reviewers read an entry's dossier where they score it; organisers edit it from there."""
    organiser = _entry_page("boss", "organiser")
    assert not organiser.exception
    assert _buttons(organiser).get("下载材料汇编（PDF）") is False
    links = {link.proto.label: link.proto.page for link in organiser.get("page_link")}
    assert links.get("编辑此作品", "").endswith("entry_edit")

    expert = _entry_page("expert1", "expert")
    assert not expert.exception
    assert _buttons(expert).get("下载材料汇编（PDF）") is False
    assert "编辑此作品" not in {link.proto.label for link in expert.get("page_link")}
