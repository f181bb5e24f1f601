"""Score guidance in the browser, at desktop and phone sizes, on a demo server of this
module's own (it edits the campaign): the set-up page's level boxes, switch and stage dates,
and the score sheet's levels under each input with the comment an extreme score needs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from browser_helpers import (
    RUN_TIMEOUT_MS,
    criterion_input,
    go_to,
    login,
    main_area,
    open_app,
    open_logged_in,
    screenshot,
    screenshot_of,
    set_number,
    wait_for_app,
)
from playwright.sync_api import Page, expect
from sqlmodel import select

from scoring.storage.database import Database
from scoring.storage.models import Campaign

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/h2")
SIZES = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def demo_server(module_demo_server):
    return module_demo_server


def _keep(shot: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SHOTS / f"{name}.png")


@pytest.fixture(params=list(SIZES))
def sized_page(request, browser, demo_server) -> Page:
    context = browser.new_context(viewport=SIZES[request.param], locale="zh-CN")
    context.set_default_timeout(RUN_TIMEOUT_MS)
    page = context.new_page()
    page.size_name = request.param  # type: ignore[attr-defined]
    yield page
    context.close()


def test_set_up_shows_levels_switch_and_stage_dates(sized_page: Page, demo_server):
    page = sized_page
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    if page.size_name == "desktop":  # type: ignore[attr-defined]
        go_to(page, "活动设置")
    else:  # the phone's sidebar is folded away: the page's address does the same
        open_app(page, demo_server.base_url, "setup")
    main = main_area(page)
    innovation = main.get_by_label("专家评审 · 创新性 (0–30)")
    expect(innovation).to_have_value("优 26-30; 良 20-25; 中 12-19; 差 0-11")
    for label, day in (("征集开始日期", r"2020\D+08\D+03"), ("征集截止日期", r"2020\D+09\D+30")):
        expect(main.get_by_role("group", name=label)).to_have_text(re.compile(day))
    expect(main.get_by_text("极端分须写打分理由")).to_be_visible()
    name = f"setup-guidance-{page.size_name}"  # type: ignore[attr-defined]
    form = main.get_by_test_id("stForm").filter(has_text="阶段日期")
    _keep(screenshot_of(form, name), name)
    # A box that cannot be read is refused on save, naming the criterion; nothing is saved.
    innovation.fill("优 26-30; 很好")
    main.get_by_role("button", name="保存修改").click()
    expect(main.get_by_test_id("stAlert").filter(has_text="很好")).to_contain_text("创新性")
    _keep(screenshot(page, f"{name}-refused"), f"{name}-refused")


def _ask_comments_at_extremes(data_dir: Path) -> None:
    database = Database(f"sqlite:///{(data_dir / 'reviewdesk.db').resolve()}")
    try:

        def switch_on(session):
            campaign = session.exec(select(Campaign).where(Campaign.slug == "qd-2020")).one()
            campaign.comment_at_extremes = True
            session.add(campaign)

        database.write(switch_on)
    finally:
        database.dispose()


# expert5 leaves QD2020-020..036 to score (scoring/demo/builder.py); one entry per size.
ENTRIES = {"desktop": "QD2020-033", "phone": "QD2020-034"}


def test_the_sheet_shows_levels_beside_the_input_and_asks_for_a_comment(
    sized_page: Page, demo_server
):
    page = sized_page
    size = page.size_name  # type: ignore[attr-defined]
    _ask_comments_at_extremes(demo_server.data_dir)
    open_app(page, demo_server.base_url)
    login(page, "expert5")
    open_logged_in(page, demo_server.base_url, f"entry?code={ENTRIES[size]}&campaign=qd-2020")
    main = main_area(page)
    field = criterion_input(main, "创新性")
    set_number(page, field, 28)
    guide = main.get_by_test_id("stCaptionContainer").filter(has_text="评分档次：")
    expect(guide.first).to_contain_text("优 26–30 · 良 20–25 · 中 12–19 · 差 0–11")
    expect(guide.first.locator("strong")).to_have_text("优 26–30")
    box = main.get_by_label("“创新性”打分理由（必填）")
    expect(box).to_be_visible()
    expect(main.get_by_text("28 分在最高或最低的十分之一", exact=False)).to_be_visible()
    name = f"sheet-guidance-{size}"
    _keep(screenshot(page, name), name)
    for criterion, points in (("成效性", 24), ("实用性", 16), ("示范推广价值", 15)):
        set_number(page, criterion_input(main, criterion), points)
    # Submitting without the comment is refused, naming the criterion; with it, it counts.
    main.get_by_role("button", name="提交评分").click()
    wait_for_app(page)
    main.get_by_role("button", name="确认提交").click()
    wait_for_app(page)
    expect(main.get_by_test_id("stAlert").filter(has_text="须写打分理由")).to_contain_text("创新性")
    _keep(screenshot(page, f"{name}-refused"), f"{name}-refused")
    main.get_by_role("button", name="取消").click()
    wait_for_app(page)
    box.fill("技术路线全国首创")
    box.press("Enter")
    wait_for_app(page)
    main.get_by_role("button", name="提交评分").click()
    wait_for_app(page)
    main.get_by_role("button", name="确认提交").click()
    wait_for_app(page)
    expect(main.get_by_text("已提交", exact=True).first).to_be_visible()
    expect(main.get_by_label("“创新性”打分理由（必填）")).to_have_value("技术路线全国首创")
    _keep(screenshot(page, f"{name}-submitted"), f"{name}-submitted")
