"""Logging in: each role sees its own pages, in Chinese or English; logging out sticks."""

from __future__ import annotations

import re

import pytest
from browser_helpers import (
    LOGIN_LABELS,
    alerts,
    choose,
    login,
    login_form,
    main_area,
    nav_labels,
    open_app,
    screenshot,
    sidebar,
    titles,
    wait_for_app,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ORGANISER_PAGES = [
    "活动概览",
    "活动设置",
    "作品导入与审核",
    "添加/编辑作品",
    "网上展厅与投票",
    "作品库",
    "材料下载",
    "评审分配",
    "评审进度",
    "实时排名",
    "评审会",
    "定稿与导出",
    "结果发布",
    "用户管理",
    "审计日志",
    "我的账号",
]
REVIEWER_PAGES = ["作品库", "我的进度", "我的评分", "我的账号"]
DEMO_CAMPAIGNS = {"2020青岛信息化典型案例评选", "2020数字政府创新人物评选"}


def test_organiser_sees_the_organiser_pages_and_the_chosen_campaign(page, demo_server):
    open_app(page, demo_server.base_url)
    form = login_form(page)
    expect(form.locator("h3")).to_have_text("登录评审台")
    screenshot(page, "login-zh")

    login(page, "organiser")

    expect(nav_labels(page)).to_have_text(ORGANISER_PAGES)
    expect(sidebar(page).get_by_text("主办方管理员", exact=True)).to_be_visible()
    expect(sidebar(page).get_by_text("组织者", exact=True)).to_be_visible()
    picker = sidebar(page).get_by_role("combobox", name="评选活动")
    selected = picker.input_value()
    assert selected in DEMO_CAMPAIGNS
    expect(titles(page)).to_have_text([selected])
    expect(main_area(page).get_by_text("作品总数", exact=True)).to_be_visible()
    screenshot(page, "organiser-overview")

    other = (DEMO_CAMPAIGNS - {selected}).pop()
    choose(page, picker, other)
    expect(picker).to_have_value(other)
    expect(titles(page)).to_have_text([other])
    screenshot(page, "organiser-overview-other-campaign")


def test_expert_sees_only_the_reviewer_pages_and_the_assigned_entries(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "expert1")

    expect(nav_labels(page)).to_have_text(REVIEWER_PAGES)
    expect(page.get_by_text("实时排名")).to_have_count(0)
    expect(page.get_by_text("用户管理")).to_have_count(0)
    expect(sidebar(page).get_by_text("评审专家", exact=True)).to_be_visible()
    expect(titles(page)).to_have_text(["作品库"])
    # The progress bar counts the assigned entries; expert1 has submitted them all.
    progress = main_area(page).get_by_text(re.compile(r"^已提交 (\d+) / \1，草稿 0$"))
    expect(progress).to_be_visible()

    state_filter = main_area(page).get_by_role("combobox", name="我的状态")
    choose(page, state_filter, "已提交")
    page.keyboard.press("Escape")
    wait_for_app(page)
    cards = main_area(page).get_by_test_id("stColumn").filter(has=page.get_by_test_id("stImage"))
    expect(cards.first).to_be_visible()
    card_texts = cards.all_inner_texts()
    assert all(re.match(r"^(QD2020|DGP2020)-\d+\n", text) for text in card_texts), card_texts[:3]
    assert all("已提交" in text for text in card_texts)
    screenshot(page, "expert-my-entries")


def test_media_reviewer_sees_the_media_role_label(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "media1")

    expect(nav_labels(page)).to_have_text(REVIEWER_PAGES)
    expect(sidebar(page).get_by_text("媒体评测员1", exact=True)).to_be_visible()
    expect(sidebar(page).get_by_text("媒体评测", exact=True)).to_be_visible()
    expect(titles(page)).to_have_text(["作品库"])
    expect(main_area(page).get_by_text(re.compile(r" · 媒体评测$"))).to_be_visible()
    screenshot(page, "media-my-entries")


def test_english_interface_from_the_login_page_on(page, demo_server):
    open_app(page, demo_server.base_url)
    sidebar(page).get_by_text("English", exact=True).click()
    wait_for_app(page)

    form = login_form(page, "en")
    expect(form.locator("h3")).to_have_text(LOGIN_LABELS["en"]["title"])
    expect(page.get_by_text("登录评审台")).to_have_count(0)
    assert "lang=en" in page.url
    screenshot(page, "login-en")

    login(page, "organiser", lang="en")
    expect(nav_labels(page)).to_have_text(
        [
            "Overview",
            "Campaign set-up",
            "Intake and pre-check",
            "Add/edit entry",
            "Public gallery and vote",
            "Entries",
            "Materials",
            "Assignments",
            "Review progress",
            "Live standings",
            "Review meeting",
            "Finalise and export",
            "Announcement",
            "Users",
            "Audit log",
            "My account",
        ]
    )
    expect(sidebar(page).get_by_text("Organiser", exact=True)).to_be_visible()
    expect(sidebar(page).get_by_role("button", name="Sign out", exact=True)).to_be_visible()
    expect(main_area(page).get_by_text("Entries", exact=True)).to_be_visible()
    screenshot(page, "organiser-overview-en")


def test_logout_shows_the_login_form_and_a_reload_stays_logged_out(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    expect(nav_labels(page)).to_have_text(ORGANISER_PAGES)
    assert "reviewdesk_session" in {c["name"] for c in page.context.cookies()}

    sidebar(page).get_by_role("button", name="退出登录", exact=True).click()
    wait_for_app(page)
    expect(login_form(page)).to_be_visible()
    expect(titles(page)).to_have_count(0)
    expect(sidebar(page).get_by_role("button", name="退出登录")).to_have_count(0)
    expect(alerts(page)).to_have_count(0)
    screenshot(page, "after-logout")

    page.reload()
    wait_for_app(page)
    page.wait_for_timeout(1000)  # a cookie login would rerun the script once more
    wait_for_app(page)
    expect(login_form(page)).to_be_visible()
    expect(nav_labels(page)).to_have_count(0)
    expect(titles(page)).to_have_count(0)
    assert "reviewdesk_session" not in {c["name"] for c in page.context.cookies()}
    screenshot(page, "after-logout-reload")


def test_logout_removes_the_previous_users_page_links(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    sidebar(page).get_by_role("button", name="退出登录", exact=True).click()
    wait_for_app(page)
    expect(login_form(page)).to_be_visible()
    expect(nav_labels(page)).to_have_count(0, timeout=3000)


def test_back_returns_to_the_previous_page_in_one_press(page, demo_server):
    """A reviewer goes gallery → my scores → my progress and presses Back twice: each press
    shows the page before, with its campaign and language kept in the address. (The app's
    address writes once made three history entries per page, so Back seemed to do nothing.)
    """
    open_app(page, demo_server.base_url)
    login(page, "expert1")
    for title in ("我的评分", "我的进度"):
        sidebar(page).get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
        wait_for_app(page)
        expect(titles(page).first).to_have_text(title)
    for title in ("我的评分", "作品库"):
        page.go_back()
        wait_for_app(page)
        expect(titles(page).first).to_have_text(title)
        assert "campaign=qd-2020" in page.url and "lang=zh" in page.url, page.url
    page.go_forward()
    wait_for_app(page)
    expect(titles(page).first).to_have_text("我的评分")
