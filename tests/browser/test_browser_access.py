"""Access control as a user meets it: URLs of other roles' pages, and the login lockout."""

from __future__ import annotations

import pytest
from browser_helpers import (
    alerts,
    column_headers,
    login,
    login_form,
    main_area,
    nav_labels,
    open_app,
    screenshot,
    submit_login,
    titles,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

FAILED = "用户名或密码错误。"
LOCKED = "该账号因连续 5 次密码错误已被锁定 15 分钟，请稍后再试或联系组织者重置密码。"


@pytest.mark.parametrize("path", ["standings", "users", "audit"])
def test_expert_typing_an_organiser_url_lands_on_the_own_default_page(page, demo_server, path):
    open_app(page, demo_server.base_url)
    login(page, "expert1")

    # A new page load: the login comes back from the cookie, the page from the URL.
    open_app(page, demo_server.base_url, path)
    expect(titles(page)).to_have_text(["作品库"])
    expect(nav_labels(page)).to_have_text(["作品库", "我的进度", "我的评分", "我的账号"])
    expect(page.get_by_text("实时排名")).to_have_count(0)
    expect(page.get_by_text("用户管理")).to_have_count(0)
    expect(page.get_by_text("审计日志")).to_have_count(0)
    expect(page.get_by_text("综合得分")).to_have_count(0)
    for table in main_area(page).get_by_test_id("stDataFrame").all():
        expect(column_headers(table).filter(has_text="用户名")).to_have_count(0)
    expect(login_form(page)).to_have_count(0)
    screenshot(page, f"expert-url-{path}")


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(page, demo_server, browser):
    # media3 is used by this test only: the lock lasts 15 minutes.
    open_app(page, demo_server.base_url)
    for attempt in range(1, 5):
        submit_login(page, "media3", f"wrong-password-{attempt}")
        expect(alerts(page)).to_have_text([FAILED])
        expect(login_form(page)).to_be_visible()
    screenshot(page, "lockout-fourth-failure")

    submit_login(page, "media3", "wrong-password-5")
    expect(alerts(page)).to_have_text([LOCKED])
    assert "锁定" in LOCKED
    screenshot(page, "lockout-locked")

    submit_login(page, "media3", "review2020")
    expect(alerts(page)).to_have_text([LOCKED])
    expect(login_form(page)).to_be_visible()
    expect(nav_labels(page)).to_have_count(0)
    expect(titles(page)).to_have_count(0)

    # The lock lives in the database, not in this browser tab's session.
    fresh = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        other = fresh.new_page()
        open_app(other, demo_server.base_url)
        submit_login(other, "media3", "review2020")
        expect(alerts(other)).to_have_text([LOCKED])
        expect(nav_labels(other)).to_have_count(0)
        screenshot(other, "lockout-other-browser")
    finally:
        fresh.close()
