"""The results notice (结果公示) end to end: an organiser publishes a finalised result on
定稿与导出, and a visitor who never signed in reads it on a phone.

The module's own server runs on a planted data folder: the small two-group campaign of
tests/services/test_notice.py, finalised, with real images for the winners and only code and
category public (every applicant is a secret one that must never reach the public page).
Screenshots (phone and desktop, Chinese and English) go to /tmp/shots/notice/.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from browser_helpers import go_to, login, main_area, open_app, titles, wait_for_app
from PIL import Image
from playwright.sync_api import Page, expect

from tests.services.test_notice import SECRET_APPLICANT, SLUG

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/notice")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "review2020"
VIEWS = [
    (lang, view, name)
    for name, view in (("phone", PHONE), ("desktop", DESKTOP))
    for lang in ("zh", "en")
]
WINNERS = {"数字政府": "作品A-1", "数字经济": "作品B-1"}


def _picture(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 420), colour).save(out, "PNG")
    return out.getvalue()


def plant(data_dir: Path) -> None:
    """The notice scene, finalised, with an organiser account and real winner images."""
    from sqlmodel import select

    from scoring import context
    from scoring.services.campaigns import get_campaign
    from scoring.settings import Settings
    from scoring.storage.models import Entry, EntryAsset
    from tests.factories import make_account
    from tests.services.test_notice import _freeze, _scene

    settings = Settings(data_dir=data_dir, database_url=None)
    store = context.asset_store(settings)

    def work(session) -> None:
        _scene(session)
        make_account(session, "organiser", "organiser", password=PASSWORD)
        campaign = get_campaign(session, SLUG)
        for code, colour in (("A-1", (180, 40, 30)), ("B-1", (30, 90, 160))):
            entry = session.exec(
                select(Entry).where(Entry.campaign_id == campaign.id, Entry.code == code)
            ).one()
            for asset in session.exec(select(EntryAsset).where(EntryAsset.entry_id == entry.id)):
                session.delete(asset)
            session.flush()
            data = _picture(colour)
            sha, mime = store.put_image(f"{code}.png", data)
            session.add(
                EntryAsset(
                    entry_id=entry.id,
                    role="image",
                    position=0,
                    filename=f"{code}.png",
                    sha256=sha,
                    mime=mime,
                    size_bytes=len(data),
                )
            )

    database = context.database(settings)
    database.write(work)
    database.write(_freeze)


@pytest.fixture(scope="module")
def server(planted_server):
    return planted_server


def _sha(server) -> str:
    from scoring import context
    from scoring.services.campaigns import get_campaign
    from scoring.services.finalise import active_snapshot
    from scoring.settings import Settings

    settings = Settings(data_dir=server.data_dir, database_url=None)
    with context.database(settings).read() as session:
        return active_snapshot(session, get_campaign(session, SLUG)).sha256


def _published(server) -> None:
    from scoring import context
    from scoring.services.campaigns import get_campaign
    from scoring.services.notice import publish_notice
    from scoring.settings import Settings
    from tests.factories import ORGANISER

    settings = Settings(data_dir=server.data_dir, database_url=None)
    context.database(settings).write(lambda s: publish_notice(s, ORGANISER, get_campaign(s, SLUG)))


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _visitor(browser, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(30_000)
    return context.new_page()


def test_before_publishing_the_visitor_is_told_nothing_is_published(browser, server):
    visitor = _visitor(browser, PHONE)
    try:
        open_app(visitor, server.base_url, f"notice?campaign={SLUG}")
        expect(titles(visitor)).to_have_text(["结果公示"])
        expect(main_area(visitor).get_by_test_id("stAlert")).to_have_text(
            "本活动尚未发布结果公示（或公示已撤回）。"
        )
        expect(main_area(visitor).get_by_test_id("stCode")).to_have_count(0)
    finally:
        visitor.context.close()


def test_the_organiser_publishes_and_a_phone_visitor_reads_winners_and_hash(browser, server):
    organiser = _visitor(browser, DESKTOP)
    try:
        open_app(organiser, server.base_url)
        login(organiser, "organiser", PASSWORD)
        go_to(organiser, "定稿与导出")
        section = main_area(organiser)
        expect(section.get_by_text("尚未公示：获奖名单目前不对公众显示。")).to_be_visible()
        section.get_by_role("button", name="发布结果公示…").click()
        wait_for_app(organiser)
        dialog = organiser.get_by_role("dialog")
        expect(dialog).to_contain_text("公开的字段：名称、图片、编号、类别")
        expect(dialog).to_contain_text("作品A-1")
        expect(dialog).not_to_contain_text(SECRET_APPLICANT)
        _shot(organiser, "finalise-publish-dialog-desktop-zh")
        dialog.get_by_role("button", name="确认发布").click()
        wait_for_app(organiser)
        expect(organiser.get_by_role("dialog")).to_have_count(0)
        expect(section.get_by_text(re.compile(r"^已公示："))).to_be_visible()
        link = section.get_by_role("link", name=re.compile("打开公示页面"))
        expect(link).to_have_attribute("href", f"notice?campaign={SLUG}")
        _shot(organiser, "finalise-published-desktop-zh")
    finally:
        organiser.context.close()

    sha = _sha(server)
    for lang, viewport, size in VIEWS:
        visitor = _visitor(browser, viewport)
        try:
            open_app(visitor, server.base_url, f"notice?campaign={SLUG}&lang={lang}")
            main = main_area(visitor)
            expect(titles(visitor)).to_have_text(["结果公示" if lang == "zh" else "Results notice"])
            expect(main.get_by_role("heading", level=3)).to_have_text(list(WINNERS))
            for title in WINNERS.values():
                expect(main.get_by_text(title)).to_be_visible()
            expect(main.get_by_test_id("stCode")).to_have_text(sha)
            expect(main.get_by_test_id("stImage")).to_have_count(2)
            assert SECRET_APPLICANT not in main.inner_text()
            assert "作品A-2" not in main.inner_text()
            if size == "phone":  # nothing wider than the screen: the hash wraps
                width = visitor.evaluate("document.documentElement.scrollWidth")
                assert width <= PHONE["width"]
            _shot(visitor, f"notice-{size}-{lang}")
            main.get_by_test_id("stCode").scroll_into_view_if_needed()
            _shot(visitor, f"notice-{size}-{lang}-hash")
            if size == "desktop" and lang == "zh":  # posted on paper too: no app chrome
                visitor.emulate_media(media="print")
                expect(visitor.get_by_test_id("stSidebar")).to_be_hidden()
                expect(main.get_by_role("button", name="全部结果公示")).to_be_hidden()
                expect(main.get_by_test_id("stCode")).to_have_text(sha)
                visitor.pdf(path=str(SHOTS / "notice-print-zh.pdf"))
        finally:
            visitor.context.close()


def test_the_landing_list_leads_to_the_notice(browser, server):
    _published(server)  # whether or not the test above ran
    visitor = _visitor(browser, PHONE)
    try:
        open_app(visitor, server.base_url, "notice")
        main = main_area(visitor)
        expect(main.get_by_role("button", name="测试评选（2020）")).to_be_visible()
        _shot(visitor, "notice-landing-phone-zh")
        main.get_by_role("button", name="测试评选（2020）").click()
        wait_for_app(visitor)
        expect(main.get_by_test_id("stCode")).to_have_text(_sha(server))
        assert f"campaign={SLUG}" in visitor.url
        _shot(visitor, "notice-landing-opened-phone-zh")
    finally:
        visitor.context.close()
