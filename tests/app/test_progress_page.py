"""The organisers' progress page in AppTest: every reviewer, who is behind, and reminders."""

from __future__ import annotations

import pytest

from scoring import context
from scoring.settings import get_settings
from tests.app.test_pages import _app
from tests.services.reminder_scene import build

SMTP = ("HOST", "PORT", "USER", "PASSWORD", "FROM", "STARTTLS", "SSL")


@pytest.fixture
def scene(app_env, monkeypatch):
    for name in SMTP:
        monkeypatch.delenv(f"REVIEWDESK_SMTP_{name}", raising=False)
    get_settings.cache_clear()
    return build(context.database())


def _page(lang: str = "zh"):
    at = _app("boss", "organiser")
    at.session_state["lang"] = lang
    return at.switch_page("pages/progress.py").run()


def test_without_smtp_the_page_says_which_settings_and_offers_the_list(scene):
    at = _page()
    assert not at.exception
    assert [t.value for t in at.title] == ["评审进度"]
    (warning,) = at.warning
    assert "未配置邮件服务器" in warning.value
    assert "`REVIEWDESK_SMTP_HOST`（邮件服务器）和 `REVIEWDESK_SMTP_FROM`" in warning.value
    assert not [b for b in at.button if "发送提醒" in b.label]
    (listing,) = at.code
    assert listing.value.splitlines() == [
        "李四，lisi@refused.example，未提交 3 件",
        "张三，zhangsan@example.org，未提交 2 件",
        "王五，无邮箱，未提交 1 件",
    ]
    assert "未完成的评审（3 位）" in [s.value for s in at.subheader]


def test_the_table_has_one_row_per_active_reviewer_with_their_counts(scene):
    at = _page()
    (table,) = at.dataframe
    frame = table.value.set_index("评审")
    assert sorted(frame.index) == sorted(["张三", "李四", "王五", "赵六"])
    assert frame.loc["张三", ["已分配", "草稿", "已提交", "未提交", "回避"]].tolist() == [
        3,
        1,
        1,
        2,
        0,
    ]
    assert frame.loc["赵六", ["已分配", "已提交", "回避"]].tolist() == [1, 1, 1]
    assert frame.loc["王五", "邮箱"] == "无邮箱"
    assert frame.loc["李四", "最近活动（北京时间）"] == "尚无"
    assert frame.loc["张三", "最近活动（北京时间）"].startswith("20")


def test_with_smtp_the_page_names_the_recipients_and_who_has_no_address(scene, monkeypatch):
    monkeypatch.setenv("REVIEWDESK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REVIEWDESK_SMTP_FROM", "office@example.org")
    get_settings.cache_clear()
    at = _page()
    assert not at.exception
    assert not at.warning
    texts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert "将收到提醒的评审：2 位" in texts
    assert "无邮箱、不会收到邮件（1 位）：王五" in texts
    assert [b.label for b in at.button if "发送提醒" in b.label] == ["发送提醒…"]


def test_in_english_the_list_says_no_e_mail(scene):
    at = _page(lang="en")
    assert at.code[0].value.splitlines()[-1] == "王五, no e-mail, 1 not submitted"


def test_a_reviewer_still_gets_their_own_progress(scene):
    at = _app("expert1", "expert").switch_page("pages/progress.py").run()
    assert not at.exception
    assert [t.value for t in at.title] == ["我的进度"]
    assert not at.code


def test_a_campaign_nobody_is_assigned_to_says_so(app_env):
    from tests.factories import make_account, make_campaign

    def setup(session):
        make_campaign(session)
        make_account(session, "boss", "organiser")

    context.database().write(setup)
    at = _page()
    assert not at.exception
    assert [i.value for i in at.info] == ["本活动还没有分配给评审的作品。"]
    assert not at.code and not at.dataframe
