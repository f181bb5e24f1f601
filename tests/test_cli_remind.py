"""`reviewdesk remind CAMPAIGN [--dry-run]`: the page's reminders, headless (SPEC §4)."""

from __future__ import annotations

import pytest

from scoring import context
from scoring.settings import get_settings
from tests.services.reminder_scene import build
from tests.services.test_reminders import Inbox, _free_port

SMTP = ("HOST", "PORT", "USER", "PASSWORD", "FROM", "STARTTLS", "SSL")


@pytest.fixture
def scene(cli, monkeypatch):
    for name in SMTP:
        monkeypatch.delenv(f"REVIEWDESK_SMTP_{name}", raising=False)
    get_settings.cache_clear()
    return build(context.database())


@pytest.fixture
def inbox(monkeypatch):
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    for name, value in {
        "HOST": "127.0.0.1",
        "PORT": str(controller.port),
        "FROM": "office@example.org",
        "STARTTLS": "false",
    }.items():
        monkeypatch.setenv(f"REVIEWDESK_SMTP_{name}", value)
    get_settings.cache_clear()
    yield handler
    controller.stop()


def test_a_dry_run_prints_the_messages_and_sends_nothing(cli, scene):
    code, out, err = cli("remind", scene["campaign"], "--dry-run")
    assert (code, err) == (0, "")
    assert "2 reminder e-mails would be sent" in out
    assert "— to 李四 <lisi@refused.example>, 3 not submitted —" in out
    assert "张三，您好：" in out and "评审截止日期：2020-11-20。" in out
    assert "No e-mail: 王五 (1 not submitted)" in out


def test_without_smtp_settings_it_names_them_and_fails(cli, scene):
    code, _, err = cli("remind", scene["campaign"])
    assert code == 1
    assert "REVIEWDESK_SMTP_HOST, REVIEWDESK_SMTP_FROM" in err


def test_it_sends_reports_the_refused_one_and_exits_non_zero(cli, scene, inbox):
    code, out, err = cli("remind", scene["campaign"])
    assert [to for _, to, _ in inbox.received] == [["zhangsan@example.org"]]
    assert "1 sent, 1 failed." in out
    assert "Not sent: 李四 <lisi@refused.example>: 550" in err
    assert code == 1
    # run again at once: 张三 was just reminded, only the failed one is tried again
    code, out, err = cli("remind", scene["campaign"])
    assert len(inbox.received) == 1
    assert "skipped: 张三" in out
