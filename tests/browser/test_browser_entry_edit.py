"""添加/编辑作品 in the browser: a new entry with an image, a refused file, a removal confirmed.

The module's server runs on a planted folder: one campaign, an organiser, and entry A-1
(shortlisted, four images). Screenshots at desktop (1400x900) and phone (390x844) size go to
/tmp/shots/h4/.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from browser_helpers import go_to, login, main_area, open_app, wait_for_app
from PIL import Image
from playwright.sync_api import Page, expect
from test_browser_intake import open_options

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/h4")
PASSWORD = "review2020"
DOUBLE_CLICK_GAP_MS = 400


def png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (seed * 50 % 256, 120, 200 - seed * 30)).save(out, "PNG")
    return out.getvalue()


def plant(data_dir: Path) -> None:
    from sqlmodel import select

    from scoring import context
    from scoring.services.entry_edit import check_upload, save_entry
    from scoring.settings import Settings
    from scoring.storage.models import Campaign, Entry
    from tests.factories import ORGANISER, make_account, make_campaign

    settings = Settings(data_dir=data_dir, database_url=None)

    def work(session) -> None:
        make_campaign(session)
        make_account(session, "organiser", "organiser", password=PASSWORD)
        campaign = session.exec(select(Campaign)).one()
        form = {
            "code": "A-1",
            "title": "城市大脑",
            "applicant": "某市大数据局",
            "category": "数字政府",
            "domain": "政务服务",
            "summary": "一张图管全城。",
        }
        uploads = [check_upload("image", f"图{n}.png", png(n)) for n in range(4)]
        save_entry(
            session,
            ORGANISER,
            campaign,
            form,
            store=context.asset_store(settings),
            uploads=uploads,
        )
        session.exec(select(Entry)).one().status = "shortlisted"

    context.database(settings).write(work)


@pytest.fixture(scope="module")
def server(planted_server):
    return planted_server


def _form(page: Page):
    return main_area(page).get_by_test_id("stForm")


def _save(page: Page) -> None:
    _form(page).get_by_role("button", name="保存", exact=True).click()
    wait_for_app(page)


def _shoot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", [(1400, 900), (390, 844)], ids=["desktop", "phone"])
def test_add_an_entry_refuse_a_fake_image_and_confirm_a_removal(browser, server, tmp_path, size):
    SHOTS.mkdir(parents=True, exist_ok=True)
    width, height = size
    tag = "desktop" if width > 1000 else "phone"
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        open_app(page, server.base_url)
        login(page, "organiser", PASSWORD)
        if tag == "desktop":
            go_to(page, "添加/编辑作品")
        else:  # the phone's sidebar is folded away: the page's address does the same
            open_app(page, server.base_url, "entry_edit")
        _shoot(page, f"{tag}-1-new-form")
        form = _form(page)
        code = f"N-{tag}"
        form.get_by_label("编号", exact=True).fill(code)
        form.get_by_label("名称", exact=True).fill("新建的作品")
        form.get_by_label("申报主体", exact=True).fill(f"某区 {tag}")
        for label, option in (("类别", "数字经济"), ("领域", "大数据")):
            box = form.get_by_role("combobox", name=label)
            box.scroll_into_view_if_needed()
            wanted = page.get_by_role("option", name=option, exact=True)
            open_options(box, wanted)
            wanted.click()
        fake = tmp_path / "fake.png"
        fake.write_text("this is text, not a picture", encoding="utf-8")
        real = tmp_path / "real.png"
        real.write_bytes(png(7))
        images = form.get_by_test_id("stFileUploader").filter(has_text="上传图片")
        images.locator("input[type='file']").set_input_files([str(fake), str(real)])
        wait_for_app(page)
        _save(page)
        expect(main_area(page).get_by_text("未保存", exact=False).first).to_be_visible()
        expect(main_area(page).get_by_text("fake.png", exact=False).first).to_be_visible()
        _shoot(page, f"{tag}-2-fake-image-refused")
        images.get_by_role("button", name="Remove fake.png").click()  # the uploader's own ×
        wait_for_app(page)
        _save(page)
        expect(main_area(page).get_by_text(f"已添加作品 {code}", exact=False)).to_be_visible()
        expect(main_area(page).get_by_text("real.png", exact=False).first).to_be_visible()
        _shoot(page, f"{tag}-3-added")

        # Open A-1 by its address, as a link from its entry page would.
        open_app(page, server.base_url, "entry_edit?code=A-1")
        expect(main_area(page).get_by_text("编辑作品 A-1")).to_be_visible()
        form = _form(page)
        victim = "图0.png" if tag == "desktop" else "图1.png"  # desktop removes its own
        form.get_by_text(f"删除 {victim}").click()
        _save(page)
        expect(main_area(page).get_by_text(f"将删除图片“{victim}”", exact=False)).to_be_visible()
        expect(main_area(page).get_by_text("少于要求的 4 张", exact=False)).to_be_visible()
        expect(main_area(page).get_by_text("状态为“入围”", exact=False)).to_be_visible()
        _shoot(page, f"{tag}-4-confirm-removal")
        if tag == "desktop":
            _form(page).get_by_text("我已确认以上提示").click()
            _save(page)
            expect(main_area(page).get_by_text("已保存作品 A-1", exact=False)).to_be_visible()
            expect(main_area(page).get_by_text("图0.png", exact=False)).to_have_count(0)
            _shoot(page, f"{tag}-5-removed")
    finally:
        context.close()


@pytest.mark.parametrize("gap_ms", [0, 300], ids=["double-click", "two-clicks"])
def test_a_double_click_on_save_saves_once_and_says_saved(page, server, tmp_path, gap_ms):
    """A hurried organiser clicks 保存 twice: one save, and its message stays on screen.

    The second click carries the same form. On the form the first was made on it is stale
    (the first save changed the entry), on the redrawn form it changes nothing: neither may
    say "changed by somebody else" or "nothing changed", nor store the new file twice.
    """
    from sqlmodel import select

    from scoring import context
    from scoring.services.entry_edit import entry_edit_view
    from scoring.settings import Settings
    from scoring.storage.models import Campaign
    from tests.factories import ORGANISER

    open_app(page, server.base_url)
    login(page, "organiser", PASSWORD)
    open_app(page, server.base_url, "entry_edit?code=A-1")
    expect(main_area(page).get_by_text("编辑作品 A-1")).to_be_visible()
    form = _form(page)
    title = f"城市大脑（点两下 {gap_ms}）"
    form.get_by_label("名称", exact=True).fill(title)
    extra = tmp_path / f"extra-{gap_ms}.png"
    extra.write_bytes(png(9))
    materials = form.get_by_test_id("stFileUploader").filter(has_text="上传材料")
    materials.locator("input[type='file']").set_input_files([str(extra)])
    wait_for_app(page)
    save = form.get_by_role("button", name="保存", exact=True)
    if gap_ms:
        save.click()
        page.wait_for_timeout(gap_ms)
        save.click()
    else:
        save.dblclick()
    wait_for_app(page)
    expect(main_area(page).get_by_text("已保存作品 A-1（2 项修改）", exact=False)).to_be_visible()
    expect(main_area(page).get_by_text("已被他人修改", exact=False)).to_have_count(0)
    expect(main_area(page).get_by_text("没有任何修改", exact=False)).to_have_count(0)
    _shoot(page, f"saved-after-{gap_ms}ms")
    with context.database(Settings(data_dir=server.data_dir, database_url=None)).read() as s:
        view = entry_edit_view(s, ORGANISER, s.exec(select(Campaign)).one(), "A-1")
    assert view.values["title"] == title
    assert [a.filename for a in view.of_role("material")].count(extra.name) == 1
