"""Reminder e-mails, sent to a real SMTP server (aiosmtpd) listening on this machine.

The server accepts every recipient but one address, which it refuses at RCPT the way a mail
server refuses an unknown mailbox; what it receives is parsed back as a mail client would.
"""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from scoring.errors import PermissionDenied
from scoring.services.reminders import (
    RESULT_ACTION,
    SEND_ACTION,
    SmtpConfig,
    missing_settings,
    plan_reminders,
    send_reminders,
    smtp_config,
)
from scoring.settings import Settings, get_settings
from scoring.storage.models import AuditEvent
from tests.services.reminder_scene import DEADLINE, REFUSED, build, campaign_of

PASSWORD = "pa55-never-in-the-log"


class Inbox:
    """An aiosmtpd handler keeping what it received; refuses ``REFUSED`` at RCPT."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def messages(self):
        return [message_from_bytes(content, policy=policy.default) for *_, content in self.received]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    inbox.config = SmtpConfig(
        host="127.0.0.1",
        port=controller.port,
        sender="评审办公室 <office@example.org>",
        password=PASSWORD,  # no user: no login, but it must never reach a log either
        starttls=False,
    )
    yield inbox
    controller.stop()


@pytest.fixture
def scene(database, monkeypatch):
    monkeypatch.setenv("REVIEWDESK_APP_URL", "https://review.example.org/")
    get_settings.cache_clear()
    yield {"db": database, **build(database)}
    get_settings.cache_clear()


def _send(scene, config, **options):
    with scene["db"].read() as session:
        campaign = campaign_of(session, scene)
    return send_reminders(scene["db"], scene["organiser"], campaign, config=config, **options)


def _reminder_events(scene) -> list[AuditEvent]:
    with scene["db"].read() as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.action.in_([SEND_ACTION, RESULT_ACTION]))
                .order_by(AuditEvent.id)
            )
        )


def test_each_behind_reviewer_with_an_address_gets_one_message_in_chinese(scene, smtp_server):
    report = _send(scene, smtp_server.config)

    assert [(to) for _, to, _ in smtp_server.received] == [["zhangsan@example.org"]]
    assert smtp_server.received[0][0] == "office@example.org"
    (message,) = smtp_server.messages()
    assert message["Subject"] == "【测试评选】您还有 2 件作品待提交评分"
    assert message["To"].addresses[0].display_name == "张三"
    assert message["From"].addresses[0].display_name == "评审办公室"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert body.startswith("张三，您好：")
    assert "还有 2 件等待您提交评分（其中草稿 1 件）" in body
    assert f"评审截止日期：{DEADLINE}。" in body
    assert "https://review.example.org/" in body

    # The refused address is reported with the server's reason; the others still went.
    assert [d.username for d in report.sent] == ["expert1"]
    assert [(d.username, d.email) for d in report.failed] == [("expert2", REFUSED)]
    assert "550" in report.failed[0].error
    assert [r.username for r in report.without_email] == ["expert3"]


def test_a_refused_first_recipient_does_not_stop_the_next(scene, smtp_server):
    """李四 (3 missing) is tried before 张三 (2 missing): the refusal must not end the run."""
    report = _send(scene, smtp_server.config)
    assert [d.username for d in report.deliveries] == ["expert2", "expert1"]
    assert len(smtp_server.received) == 1


def test_each_sending_is_audited_without_the_password(scene, smtp_server):
    _send(scene, smtp_server.config)
    claim, result = _reminder_events(scene)
    assert claim.action == SEND_ACTION and claim.target == scene["campaign"]
    assert claim.new_value["to"] == ["expert2", "expert1"] and claim.new_value["count"] == 2
    assert result.new_value["sent"] == ["expert1"]
    assert list(result.new_value["failed"]) == ["expert2"]
    logged = json.dumps([e.new_value for e in (claim, result)], ensure_ascii=False)
    assert PASSWORD not in logged
    assert PASSWORD not in repr(smtp_server.config)


def test_a_second_click_sends_nothing_twice_but_retries_a_failure(scene, smtp_server):
    _send(scene, smtp_server.config)
    again = _send(scene, smtp_server.config)
    assert [r.username for r in again.recently_reminded] == ["expert1"]
    assert [d.username for d in again.deliveries] == ["expert2"]  # failed before: tried again
    assert len(smtp_server.received) == 1


def test_two_sendings_at_once_deliver_each_message_once(scene, smtp_server):
    reports = []
    threads = [
        threading.Thread(target=lambda: reports.append(_send(scene, smtp_server.config)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(reports) == 2
    assert [to for _, to, _ in smtp_server.received] == [["zhangsan@example.org"]]
    assert sorted(len(r.sent) for r in reports) == [0, 1]


def test_english_messages_on_request(scene, smtp_server):
    _send(scene, smtp_server.config, lang="en")
    (message,) = smtp_server.messages()
    assert message["Subject"] == "[测试评选] 2 entries are waiting for your scores"
    assert "Dear 张三," in message.get_content()
    assert f"The review closes on {DEADLINE}." in message.get_content()


def test_an_unreachable_server_fails_every_recipient_and_raises_nothing(scene):
    config = SmtpConfig(host="127.0.0.1", port=_free_port(), sender="o@example.org", timeout=5)
    report = _send(scene, config)
    assert report.configured and not report.sent
    assert [d.username for d in report.failed] == ["expert2", "expert1"]
    assert all(d.error for d in report.failed)
    # and the failure is recorded, so the next click may try them again
    assert _reminder_events(scene)[-1].new_value["sent"] == []


def test_without_smtp_settings_nothing_is_sent_and_the_settings_are_named(scene, monkeypatch):
    for name in ("HOST", "FROM", "PORT", "USER", "PASSWORD"):
        monkeypatch.delenv(f"REVIEWDESK_SMTP_{name}", raising=False)
    get_settings.cache_clear()
    assert smtp_config() is None
    assert missing_settings() == ["REVIEWDESK_SMTP_HOST", "REVIEWDESK_SMTP_FROM"]
    report = _send(scene, None)
    assert not report.configured and not report.deliveries
    assert _reminder_events(scene) == []
    with pytest.raises(PermissionDenied):  # and a reviewer is refused, not told "not set up"
        send_reminders(scene["db"], scene["actors"]["expert1"], _campaign(scene))


def test_settings_make_the_config():
    settings = Settings(
        smtp_host="smtp.example.org", smtp_from="o@example.org", smtp_ssl=True, smtp_password="x"
    )
    config = smtp_config(settings)
    assert (config.host, config.port, config.use_ssl, config.password) == (
        "smtp.example.org",
        465,
        True,
        "x",
    )
    assert smtp_config(Settings(smtp_host="smtp.example.org")) is None
    assert missing_settings(Settings(smtp_host="smtp.example.org")) == ["REVIEWDESK_SMTP_FROM"]


def test_the_plan_names_who_would_get_what_and_changes_nothing(scene):
    with scene["db"].read() as session:
        plan = plan_reminders(session, scene["organiser"], campaign_of(session, scene))
    assert [(r.username, r.missing) for r in plan.reminders] == [("expert2", 3), ("expert1", 2)]
    assert [r.username for r in plan.without_email] == ["expert3"]
    assert _reminder_events(scene) == []


def test_a_reviewer_may_not_send_reminders(scene, smtp_server):
    with pytest.raises(PermissionDenied):
        send_reminders(
            scene["db"],
            scene["actors"]["expert1"],
            _campaign(scene),
            config=smtp_server.config,
        )
    assert smtp_server.received == []


def _campaign(scene):
    with scene["db"].read() as session:
        return campaign_of(session, scene)
