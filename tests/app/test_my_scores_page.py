"""The own-scores page and the overview's stage box in AppTest (issue 14, points 5 and 8)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from scoring import context
from scoring.beijing_time import BEIJING
from scoring.services.accounts import actor_for
from scoring.services.sheets import save_own_sheet
from scoring.storage.models import Campaign, Entry
from tests.app.test_pages import _app, app_data  # noqa: F401  (a fixture, used by name)
from tests.factories import assigned, make_account

pytestmark = pytest.mark.usefixtures("app_data")


def _today() -> date:
    from datetime import datetime

    return datetime.now(BEIJING).date()


def _set_dates(**dates) -> None:
    def change(session):
        campaign = session.exec(select(Campaign)).one()
        for name, value in dates.items():
            setattr(campaign, name, value)

    context.database().write(change)


def _submit(username: str, code: str, points: dict) -> None:
    def save(session):
        actor = actor_for(session, username)
        entry = session.exec(select(Entry).where(Entry.code == code)).one()
        save_own_sheet(
            session,
            actor,
            entry_id=entry.id,
            points=points,
            comment="",
            submit=True,
            expected_version=None,
        )

    context.database().write(save)


def _table(at):
    (frame,) = [d.value for d in at.dataframe]
    return frame


def test_a_reviewer_sees_their_own_sheets_spread_and_time_left():
    today = _today()
    _set_dates(
        review_opens_on=(today - timedelta(days=3)).isoformat(),
        review_closes_on=(today + timedelta(days=3)).isoformat(),
    )

    def second_expert(session):
        entry = session.exec(select(Entry).where(Entry.code == "T-001")).one()
        assigned(session, entry, make_account(session, "expert2", "expert"))

    context.database().write(second_expert)
    _submit("expert1", "T-001", {"innovation": 45, "impact": 30.5})
    _submit("expert2", "T-001", {"innovation": 10, "impact": 10})
    at = _app("expert1", "expert")
    at.switch_page("pages/my_scores.py").run()
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["我的评分"]
    frame = _table(at)
    assert list(frame["code"]) == ["T-001"]  # expert2's sheet on the same entry is not here
    assert list(frame["total"]) == [75.5]
    assert list(frame["status"]) == ["已提交"]
    assert frame["open"][0].startswith("entry?code=T-001&campaign=test-2020")
    shown = [m.value.replace("\\", "") for m in at.markdown]
    assert "已提交 **1** 份 · 平均分 **75.50** · 最低 **75.50** · 最高 **75.50**" in shown
    (deadline,) = [i.value.replace("\\", "") for i in at.info]  # data arrives escaped
    closes = (today + timedelta(days=3)).isoformat()
    assert deadline.startswith(f"评审截止：{closes} 24:00（北京时间） · 还剩 3 天")


def test_a_reviewer_without_sheets_after_the_deadline_is_told_so():
    _set_dates(review_opens_on="2020-11-02", review_closes_on="2020-11-20")
    at = _app("expert1", "expert")
    at.switch_page("pages/my_scores.py").run()
    assert not at.exception
    assert len(at.dataframe) == 0
    assert [i.value for i in at.info] == ["你在本次评选中还没有评分表。"]
    assert [w.value for w in at.warning] == ["评审截止：2020\\-11\\-20 24:00（北京时间） · 已截止"]


def test_the_page_is_not_given_to_organisers():
    at = _app("boss", "organiser")
    with pytest.raises(ValueError):
        at.switch_page("pages/my_scores.py").run()


def test_the_overview_shows_the_stages_the_current_one_and_what_is_late():
    today = _today()
    _set_dates(
        review_opens_on=(today - timedelta(days=10)).isoformat(),
        review_closes_on=(today - timedelta(days=1)).isoformat(),
    )
    at = _app("boss", "organiser")
    assert not at.exception and not at.error
    texts = [m.value for m in at.markdown]
    assert any("当前阶段：**阶段之间**" in t for t in texts)
    (timeline,) = [m.value for m in at.markdown if "badge[" in m.value]
    assert ":blue-badge[:material/radio_button_checked: 评审] 2020" not in timeline
    assert ":green-badge[:material/check: 评审]" in timeline  # closed yesterday
    assert timeline.count("未设置") == 3  # intake, the vote and the announcement have no dates
    (late,) = [w.value.split("\n") for w in at.warning]  # one box, one line per item
    # 2 shortlisted × 2 expert reviews, none submitted; media (1 each) has no reviewer at all.
    assert any("专家评审还缺 4 份评分表（已提交 0 / 4）" in w for w in late), late
    assert any("媒体评测还没有分配评审" in w for w in late), late


def test_the_overview_of_a_campaign_without_dates_says_not_set_and_nothing_late():
    at = _app("boss", "organiser")
    assert not at.exception
    assert any("当前阶段：**未设置日期**" in m.value for m in at.markdown)
    assert "没有逾期事项。" in [c.value for c in at.caption]
    assert len(at.warning) == 0


def test_the_overview_highlights_the_stage_the_campaign_is_in():
    today = _today()
    _set_dates(
        review_opens_on=(today - timedelta(days=1)).isoformat(),
        review_closes_on=(today + timedelta(days=1)).isoformat(),
    )
    at = _app("boss", "organiser")
    assert not at.exception
    (timeline,) = [m.value for m in at.markdown if "badge[" in m.value]
    assert ":blue-badge[:material/radio_button_checked: 评审 · 当前]" in timeline
    assert timeline.count("当前") == 1
    assert any("当前阶段：**评审**" in m.value for m in at.markdown)
    # Nothing is due yet; only the media panel, with nobody assigned, is late already.
    (late,) = [w.value for w in at.warning]
    assert "媒体评测还没有分配评审" in late and "还缺" not in late
