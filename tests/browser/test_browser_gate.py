"""The outcome is safe on screen: nothing before login, the campaign in the address, and a
deactivated account signed out on its next click or refresh, fragments included.

Accounts are changed from outside the browser, the way another organiser's click would
change them: a short script against the demo server's data folder. Every account that a
test deactivates is made active again at its end (expert2 is shared with other modules);
the second organiser ``gate-boss`` exists for this file only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from browser_helpers import (
    DEMO_PASSWORD,
    REPO,
    RUN_TIMEOUT_MS,
    alerts,
    choose,
    go_to,
    login,
    login_form,
    main_area,
    nav_labels,
    open_app,
    open_logged_in,
    refresh_docs_screenshot,
    screenshot,
    sidebar,
    titles,
    wait_for_app,
    wait_for_logged_in_page,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

QD = ("qd-2020", "2020青岛信息化典型案例评选")
DG = ("dg-person-2020", "2020数字政府创新人物评选")
INACTIVE = "该账号已停用，请联系组织者。"


def _as_organiser(data_dir: Path, code: str) -> None:
    """Run ``code`` in a write transaction as the command line (``session`` and ``CLI``)."""
    script = textwrap.dedent(
        """
        from scoring import context
        from scoring.permissions import Actor
        from scoring.services import accounts
        CLI = Actor.command_line()
        def work(session):
        """
    ) + textwrap.indent(textwrap.dedent(code), "    ")
    script += "\ncontext.database().write(work)\n"
    env = dict(os.environ, REVIEWDESK_DATA_DIR=str(data_dir))
    env.pop("REVIEWDESK_DATABASE_URL", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def _set_active(data_dir: Path, username: str, active: bool) -> None:
    _as_organiser(data_dir, f"accounts.set_active(session, CLI, {username!r}, {active!r})")


def _query(page: Page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def _picker(page: Page):
    return sidebar(page).get_by_role("combobox", name="评选活动")


def _expect_sign_in_page(page: Page, reason: str | None = None) -> None:
    """Only the login form (and the reason, when one is given): no page, no page list."""
    # Signing out can take two runs: for a moment the first run's form may still be on
    # screen, stale, beside the next run's. Exactly one stays.
    expect(login_form(page)).to_have_count(1, timeout=RUN_TIMEOUT_MS)
    expect(login_form(page)).to_be_visible()
    wait_for_app(page)
    expect(nav_labels(page)).to_have_count(0)
    expect(titles(page)).to_have_count(0)
    expect(main_area(page).get_by_test_id("stException")).to_have_count(0)
    if reason is None:
        expect(alerts(page)).to_have_count(0)
    else:
        expect(alerts(page)).to_have_text([reason])


# --- 1. nothing but the login form before login --------------------------------------------------
@pytest.mark.parametrize("path", ["", "audit", "shared", "users", "entry?code=QD2020-001"])
def test_a_visitor_reaches_only_the_login_form_whatever_the_address(page, demo_server, path):
    open_app(page, demo_server.base_url, path)
    page.wait_for_timeout(500)  # a page script that ran would have drawn by now
    wait_for_app(page)
    _expect_sign_in_page(page)  # not 请先登录 from a page's own guard: no page ran
    expect(sidebar(page).get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_text("请先登录")).to_have_count(0)
    screenshot(page, f"gate-visitor-{path.split('?')[0] or 'root'}")


def test_the_login_page_looks_right_on_desktop_and_phone(page, demo_server):
    open_app(page, demo_server.base_url)
    _expect_sign_in_page(page)
    expect(login_form(page).locator("h3")).to_have_text("登录评审台")
    refresh_docs_screenshot(screenshot(page, "gate-login-desktop"), "login.png")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    wait_for_app(page)
    form = login_form(page)
    expect(form).to_be_visible()
    box = form.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    expect(nav_labels(page)).to_have_count(0)
    screenshot(page, "gate-login-phone")


def test_a_deep_link_opens_its_page_right_after_login(page, demo_server):
    open_app(page, demo_server.base_url, "audit")
    _expect_sign_in_page(page)
    login(page, "organiser")
    expect(titles(page).first).to_have_text("审计日志")
    assert urlparse(page.url).path == "/audit"


def test_after_logout_none_of_the_previous_users_pages_is_listed(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    expect(nav_labels(page)).to_have_count(16)
    sidebar(page).get_by_role("button", name="退出登录", exact=True).click()
    wait_for_app(page)
    _expect_sign_in_page(page)
    screenshot(page, "gate-after-logout")


# --- 8. the campaign lives in the address --------------------------------------------------------
def test_the_campaign_stays_across_reload_page_switch_and_a_new_tab(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    choose(page, _picker(page), DG[1])
    expect(titles(page)).to_have_text([DG[1]])
    assert _query(page).get("campaign") == DG[0]

    page.reload()
    wait_for_logged_in_page(page)
    expect(_picker(page)).to_have_value(DG[1])
    expect(titles(page)).to_have_text([DG[1]])

    go_to(page, "实时排名")
    expect(_picker(page)).to_have_value(DG[1])
    expect(main_area(page).get_by_text(DG[1], exact=True)).to_be_visible()
    assert _query(page).get("campaign") == DG[0]
    link = page.url

    other_tab = page.context.new_page()  # same browser, so the login cookie comes along
    try:
        open_logged_in(other_tab, demo_server.base_url, link.removeprefix(demo_server.base_url))
        expect(_picker(other_tab)).to_have_value(DG[1])
        expect(main_area(other_tab).get_by_text(DG[1], exact=True)).to_be_visible()
        screenshot(other_tab, "gate-campaign-new-tab")
    finally:
        other_tab.close()


def test_an_unknown_campaign_in_the_address_is_named_not_replaced(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    open_logged_in(page, demo_server.base_url, "?campaign=no-such-campaign")
    expect(alerts(page)).to_have_text(
        ["找不到评选活动“no-such-campaign”（或您无权查看）。请在左侧选择一个评选活动。"]
    )
    expect(titles(page)).to_have_count(0)
    for name in (QD[1], DG[1]):
        expect(main_area(page).get_by_text(name)).to_have_count(0)
    screenshot(page, "gate-unknown-campaign")


def test_an_entry_link_carries_the_campaign_into_a_new_tab(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "expert2")
    expect(titles(page)).to_have_text(["作品库"])
    link = main_area(page).get_by_test_id("stPageLink").first.locator("a")
    href = link.get_attribute("href") or ""
    query = parse_qs(urlparse(href).query)
    assert query.get("campaign") == [_query(page)["campaign"]], href


# --- 12. deactivated: signed out on the next click or refresh -----------------------------------
def test_a_deactivated_reviewer_is_signed_out_by_the_next_edit_of_the_score_sheet(
    page, demo_server
):
    open_app(page, demo_server.base_url)
    login(page, "expert2")
    main_area(page).get_by_test_id("stPageLink").first.click()
    wait_for_app(page)
    sheet_input = main_area(page).get_by_test_id("stNumberInput").first.locator("input")
    expect(sheet_input).to_be_visible()
    try:
        _set_active(demo_server.data_dir, "expert2", False)
        # A field of the score sheet: only its fragment reruns, not the page.
        sheet_input.fill("1")
        sheet_input.press("Enter")
        wait_for_app(page)
        _expect_sign_in_page(page, INACTIVE)
        screenshot(page, "gate-deactivated-sheet")
    finally:
        _set_active(demo_server.data_dir, "expert2", True)
    # Signed out for good: the reason does not come back, nor does the old page.
    page.reload()
    wait_for_app(page)
    page.wait_for_timeout(1000)  # a cookie login would rerun the script once more
    wait_for_app(page)
    _expect_sign_in_page(page)


def test_a_deactivated_organiser_is_signed_out_by_the_standings_refresh(page, demo_server):
    _as_organiser(
        demo_server.data_dir,
        f"""
        if accounts.find_account(session, "gate-boss") is None:
            accounts.create_account(session, CLI, username="gate-boss", display_name="第二组织者",
                                    role="organiser", password={DEMO_PASSWORD!r})
        accounts.set_active(session, CLI, "gate-boss", True)
        """,
    )
    open_app(page, demo_server.base_url)
    login(page, "gate-boss")
    open_logged_in(page, demo_server.base_url, f"standings?campaign={QD[0]}")
    expect(titles(page)).to_have_text(["实时排名"])
    _set_active(demo_server.data_dir, "gate-boss", False)
    # No click: the live panel refreshes by itself every few seconds.
    # The refresh, then two runs to sign out (see _expect_sign_in_page), on a loaded machine.
    expect(login_form(page)).to_have_count(1, timeout=30_000)
    wait_for_app(page)
    _expect_sign_in_page(page, INACTIVE)
    screenshot(page, "gate-deactivated-standings")


def test_a_deactivated_organiser_is_signed_out_by_the_next_click(page, demo_server):
    _as_organiser(
        demo_server.data_dir,
        f"""
        if accounts.find_account(session, "gate-boss") is None:
            accounts.create_account(session, CLI, username="gate-boss", display_name="第二组织者",
                                    role="organiser", password={DEMO_PASSWORD!r})
        accounts.set_active(session, CLI, "gate-boss", True)
        """,
    )
    open_app(page, demo_server.base_url)
    login(page, "gate-boss")
    go_to(page, "用户管理")
    _set_active(demo_server.data_dir, "gate-boss", False)
    go_to(page, "审计日志")
    _expect_sign_in_page(page, INACTIVE)
