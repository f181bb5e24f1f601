"""网上展厅与投票 end to end: an organiser sees a ballot-stuffing burst with its evidence and
voids it only after the confirmation dialog got a reason; the tally drops by exactly the burst.

The module's own server runs on a planted data folder: a small campaign whose first entry
(with a hostile title) got 200 votes from one network within a minute, voting open now.
Screenshots (desktop 1280 and phone 390, Chinese and English) go to /tmp/shots/watch/.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from browser_helpers import (
    as_shown,
    login,
    main_area,
    open_app,
    open_logged_in,
    titles,
    wait_for_app,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/watch")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "review2020"
SLUG = "test-2020"
EMPTY = "empty-2020"
STUFFER = "ab12cd34" + "0" * 56
HOSTILE = "![x](http://evil.test/t.png) <b>刷票</b>"
REASON = "同一网段一分钟内 200 票"


def plant(data_dir: Path) -> None:
    """The campaign, an organiser, an open vote, honest votes and one burst."""
    from scoring import context
    from scoring.beijing_time import BEIJING
    from scoring.services.public_settings import configure_public
    from scoring.settings import Settings
    from scoring.storage.models import utcnow
    from tests.factories import ORGANISER, cast_votes, make_account, make_campaign, make_entry

    settings = Settings(data_dir=data_dir, database_url=None)

    def work(session) -> None:
        make_campaign(session, slug=EMPTY, name="空白评选")
        campaign = make_campaign(session)
        make_account(session, "organiser", "organiser", password=PASSWORD)
        stuffed = make_entry(session, campaign, "T-1", title=HOSTILE)
        quiet = make_entry(session, campaign, "T-2", title="智慧社区“邻里通”平台")
        now = utcnow().replace(minute=0, second=0, microsecond=0)
        start = now - timedelta(hours=5)
        for i in range(40):  # honest votes: one network each, every seven minutes
            cast_votes(
                session, stuffed, 1, network_key=f"{i:064x}", start=start + timedelta(minutes=7 * i)
            )
            cast_votes(
                session,
                quiet,
                1,
                network_key=f"{i + 99:064x}",
                start=start + timedelta(minutes=7 * i + 3),
            )
        cast_votes(
            session,
            stuffed,
            200,
            network_key=STUFFER,
            start=now - timedelta(hours=2),
            spacing=timedelta(milliseconds=300),
        )
        local = now.astimezone(BEIJING).replace(tzinfo=None)
        configure_public(
            session,
            ORGANISER,
            campaign,
            gallery=True,
            public_fields=["code", "category"],
            vote_opens=local - timedelta(days=1),
            vote_closes=local + timedelta(days=6),
        )

    context.database(settings).write(work)


@pytest.fixture(scope="module")
def server(planted_server):
    return planted_server


def _tally(server, code: str) -> int:
    from sqlmodel import select

    from scoring import context
    from scoring.settings import Settings
    from scoring.storage.models import Entry, VoteTally

    settings = Settings(data_dir=server.data_dir, database_url=None)
    with context.database(settings).read() as session:
        entry = session.exec(select(Entry).where(Entry.code == code)).one()
        return session.get(VoteTally, entry.id).votes


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _organiser(browser, server, viewport: dict[str, int], lang: str = "zh") -> Page:
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    context.set_default_timeout(30_000)
    page = context.new_page()
    open_app(page, server.base_url)
    login(page, "organiser", PASSWORD)
    open_logged_in(page, server.base_url, f"public_admin?campaign={SLUG}&lang={lang}")
    return page


@pytest.mark.parametrize(
    ("lang", "size"), [("zh", "desktop"), ("en", "desktop"), ("zh", "phone"), ("en", "phone")]
)
def test_the_page_shows_the_burst_with_its_evidence_on_desktop_and_phone(
    browser, server, lang, size
):
    page = _organiser(browser, server, DESKTOP if size == "desktop" else PHONE, lang)
    try:
        main = main_area(page)
        expect(titles(page)).to_have_text(
            ["网上展厅与投票" if lang == "zh" else "Public gallery and vote"]
        )
        expect(main.get_by_test_id("stPlotlyChart")).to_have_count(1)
        line = main.get_by_test_id("stMarkdown").filter(has_text="ab12cd34").first
        expect(line).to_contain_text(as_shown(HOSTILE))  # the title as typed: no image, no bold
        assert main.locator("img[src*='evil.test'], a[href*='evil.test'], b").count() == 0
        link = main.get_by_role(
            "link", name="打开网上展厅" if lang == "zh" else "Open the public hall"
        )
        expect(link).to_have_attribute("href", f"hall?campaign={SLUG}")
        if size == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        _shot(page, f"public-admin-{size}-{lang}")
        # Streamlit scrolls inside its main area: a tall window shows the whole page at once.
        page.set_viewport_size({"width": page.viewport_size["width"], "height": 3400})
        wait_for_app(page)
        _shot(page, f"public-admin-{size}-{lang}-whole")
    finally:
        page.context.close()


def test_a_campaign_without_votes_says_so_on_a_phone(browser, server):
    page = _organiser(browser, server, PHONE)
    try:
        open_logged_in(page, server.base_url, f"public_admin?campaign={EMPTY}&lang=zh")
        main = main_area(page)
        expect(main.get_by_text("本活动尚无网上投票。")).to_be_visible()
        expect(main.get_by_text("未发现集中投票。")).to_be_visible()
        expect(main.get_by_test_id("stPlotlyChart")).to_have_count(0)
        page.set_viewport_size({"width": PHONE["width"], "height": 2000})
        wait_for_app(page)
        _shot(page, "public-admin-empty-phone-zh")
    finally:
        page.context.close()


def test_a_burst_is_voided_only_after_the_dialog_got_a_reason(browser, server):
    page = _organiser(browser, server, DESKTOP)
    try:
        main = main_area(page)
        before = _tally(server, "T-1")
        main.get_by_role("button", name="作废…").click()
        wait_for_app(page)
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("200")
        expect(dialog).to_contain_text("ab12cd34")
        expect(dialog).to_contain_text(as_shown(HOSTILE))
        _shot(page, "void-dialog-desktop-zh")
        dialog.get_by_role("button", name="作废 200 票").click()
        wait_for_app(page)
        expect(dialog.get_by_test_id("stAlert").filter(has_text="请填写作废")).to_be_visible()
        assert _tally(server, "T-1") == before  # refused: nothing voided
        dialog.get_by_label("理由（必填）").fill(REASON)
        dialog.get_by_role("button", name="作废 200 票").click()
        wait_for_app(page)
        expect(page.get_by_role("dialog")).to_have_count(0)
        assert _tally(server, "T-1") == before - 200
        assert _tally(server, "T-2") == 40
        expect(main.get_by_role("button", name="作废…")).to_have_count(0)
        expect(
            main.locator("[data-testid='stCaptionContainer']", has_text="已作废")
        ).to_be_visible()
        _shot(page, "voided-desktop-zh")
    finally:
        page.context.close()
