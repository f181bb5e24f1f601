"""Score guidance in the browser: the set-up page's level boxes, switch and stage dates, at
desktop and phone sizes, on a demo server of this module's own (it edits the campaign)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from browser_helpers import (
    RUN_TIMEOUT_MS,
    go_to,
    login,
    main_area,
    open_app,
    screenshot,
    screenshot_of,
)
from playwright.sync_api import Page, expect

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
    expect(main.get_by_text("极端分须写评语")).to_be_visible()
    name = f"setup-guidance-{page.size_name}"  # type: ignore[attr-defined]
    form = main.get_by_test_id("stForm").filter(has_text="阶段日期")
    _keep(screenshot_of(form, name), name)
    # A box that cannot be read is refused on save, naming the criterion; nothing is saved.
    innovation.fill("优 26-30; 很好")
    main.get_by_role("button", name="保存修改").click()
    expect(main.get_by_test_id("stAlert").filter(has_text="很好")).to_contain_text("创新性")
    _keep(screenshot(page, f"{name}-refused"), f"{name}-refused")
