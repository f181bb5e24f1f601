"""The audit page in both languages: actions in words, changes as lines, hostile data as typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from scoring import context
from scoring.beijing_time import in_beijing
from scoring.services.audit import record
from scoring.storage.models import AuditEvent
from tests.factories import ORGANISER, make_account, make_campaign

ROOT = Path(__file__).parents[2]
HOSTILE = "![x](http://evil.test/a.png) [登录](http://evil.test/p) <b>b</b> $x$"


@pytest.fixture
def logged(app_env):
    """A campaign, an organiser, and two events: a role change and a hostile title change."""

    def setup(session):
        campaign = make_campaign(session)
        make_account(session, "boss", "organiser")
        record(session, ORGANISER, "account.role", target="carol", old="expert", new="organiser")
        record(
            session,
            ORGANISER,
            "campaign.update",
            target="T-001",
            old={"title": "旧", "year": 2026},
            new={"title": HOSTILE, "year": 2026},
            campaign_id=campaign.id,
        )

    context.database().write(setup)


def _audit(lang: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/audit.py"), default_timeout=30)
    for key, value in {
        "authentication_status": True,
        "username": "boss",
        "name": "boss",
        "roles": ["organiser"],
        "logout": False,
        "lang": lang,
    }.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception
    at.radio[0].set_value("all").run()
    return at


@pytest.mark.parametrize(
    ("lang", "action", "change", "role", "entry", "when"),
    [
        ("zh", "操作", "变更", "更改角色", "作品编号", "时间（北京时间）"),
        ("en", "Action", "Change", "Role changed", "Entry code", "When (Beijing time)"),
    ],
)
def test_actions_in_words_changes_as_lines_and_hostile_values_as_typed(
    logged, lang, action, change, role, entry, when
):
    at = _audit(lang)
    table = at.dataframe[0].value
    assert list(table[action])[:2] == [action_words(lang), role]
    assert list(table[change])[:2] == [f"title: 旧 → {HOSTILE}", "expert → organiser"]
    # Times are Beijing wall-clock time, as the date filters are (UTC+8, no offset text).
    recorded = audit_times()[0]
    assert table[when].iloc[0] == in_beijing(recorded).strftime("%Y-%m-%d %H:%M:%S")
    # Filtering by entry code keeps only the event about that entry.
    next(w for w in at.text_input if w.label == entry).set_value("t-001").run()
    assert list(at.dataframe[0].value[action]) == [action_words(lang)]
    # Data never reaches a Markdown element unescaped.
    assert all("evil.test/a.png)" not in str(m.value) for m in [*at.markdown, *at.caption])


def audit_times() -> list:
    """Stored times of the events, newest first."""
    with context.database().read() as session:
        rows = session.exec(select(AuditEvent.at).order_by(col(AuditEvent.id).desc()))
        return list(rows)


def action_words(lang: str) -> str:
    return {"zh": "修改评选设置", "en": "Campaign settings changed"}[lang]


def test_a_start_after_the_end_is_refused_by_name(logged):
    from datetime import date

    at = _audit("en")
    at.date_input[0].set_value(date(2026, 3, 2)).run()
    at.date_input[1].set_value(date(2026, 3, 1)).run()
    assert [e.value for e in at.error] == [
        "The start date 2026-03-02 is after the end date 2026-03-01."
    ]
