"""Chasing reviewers in the browser: the organisers' progress page and reminder e-mails.

The module's server runs on a planted folder (tests/services/reminder_scene.py: three
reviewers behind, one of them without e-mail, one whose address the mail server refuses) and
sends through a real SMTP server (aiosmtpd) started here. Screenshots at desktop (1400x900)
and phone (390x844) size go to /tmp/shots/h5/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser_helpers import (
    RUN_TIMEOUT_MS,
    login_form,
    main_area,
    open_app,
    submit_login,
    wait_for_app,
)
from playwright.sync_api import Page, expect

from tests.services.test_reminders import Inbox, _free_port

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/h5")
PASSWORD = "secret-pass"
SLUG = "test-2020"


def plant(data_dir: Path) -> None:
    from scoring import context
    from scoring.settings import Settings
    from tests.services.reminder_scene import build

    build(context.database(Settings(data_dir=data_dir, database_url=None)))


@pytest.fixture(scope="module")
def smtp_inbox():
    """A local SMTP server, named in the environment the app server is started with."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    wanted = {
        "REVIEWDESK_SMTP_HOST": "127.0.0.1",
        "REVIEWDESK_SMTP_PORT": str(controller.port),
        "REVIEWDESK_SMTP_FROM": "评审办公室 <office@example.org>",
        "REVIEWDESK_SMTP_STARTTLS": "false",
        "REVIEWDESK_APP_URL": "https://review.example.org/",
    }
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield inbox
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        controller.stop()


@pytest.fixture(scope="module")
def demo_server(smtp_inbox, planted_server):
    return planted_server


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _open(page: Page, base_url: str) -> None:
    open_app(page, base_url, f"progress?campaign={SLUG}")
    submit_login(page, "boss", PASSWORD)
    # login() waits 5 s for the form to go; a loaded machine (2 cores, six suites) needs more
    expect(login_form(page)).to_have_count(0, timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="评审进度")).to_be_visible()


def test_the_behind_list_and_a_double_clicked_sending_go_out_once(page, demo_server, smtp_inbox):
    _open(page, demo_server.base_url)
    main = main_area(page)
    listing = main.get_by_test_id("stCode")
    expect(listing).to_contain_text("李四，lisi@refused.example，未提交 3 件")
    expect(listing).to_contain_text("王五，无邮箱，未提交 1 件")
    expect(main.get_by_text("将收到提醒的评审：2 位")).to_be_visible()
    _shot(page, "progress-desktop")

    main.get_by_role("button", name="发送提醒…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("张三 <zhangsan@example.org>：未提交 2 件")
    expect(dialog.get_by_role("button", name="取消")).to_be_visible()
    wait_for_app(page)
    _shot(page, "progress-confirm-desktop")
    dialog.get_by_role("button", name="确认发送 2 封").dblclick()
    wait_for_app(page)
    expect(main.get_by_text(re.compile("已发送 1 封提醒邮件"))).to_be_visible(
        timeout=RUN_TIMEOUT_MS
    )
    expect(main.get_by_text("1 封发送失败：")).to_be_visible()
    expect(main.get_by_text(re.compile("李四 <lisi@refused.example>：550"))).to_be_visible()
    _shot(page, "progress-sent-desktop")
    assert [to for _, to, _ in smtp_inbox.received] == [["zhangsan@example.org"]]

    page.reload()  # a reload, then the button again: 张三 is not sent a second message
    wait_for_app(page)
    expect(main.get_by_text("10 分钟内已提醒过、本次跳过（1 位）：张三")).to_be_visible()
    assert len(smtp_inbox.received) == 1


def test_the_page_on_a_phone(browser, demo_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    context.set_default_timeout(RUN_TIMEOUT_MS)
    page = context.new_page()
    try:
        _open(page, demo_server.base_url)
        expect(main_area(page).get_by_test_id("stCode")).to_be_visible()
        _shot(page, "progress-phone")
        button = main_area(page).get_by_role("button", name="发送提醒…")
        button.scroll_into_view_if_needed()
        _shot(page, "progress-phone-send")
        button.click()
        expect(page.get_by_role("dialog").get_by_role("button", name="取消")).to_be_visible()
        wait_for_app(page)
        _shot(page, "progress-phone-confirm")
    finally:
        context.close()
