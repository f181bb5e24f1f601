"""The organiser's public gallery and vote page in AppTest: settings, warnings, the void dialog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from scoring import context
from scoring.beijing_time import BEIJING
from scoring.literal import markdown_literal
from scoring.services.campaigns import get_campaign
from scoring.storage.models import AuditEvent, Entry, VoteTally
from tests.app.test_pages import _app, app_data  # noqa: F401 (the fixture)
from tests.factories import cast_votes
from tests.test_publication import freeze

PAGE = "pages/public_admin.py"
STUFFER = "ab12cd34" + "0" * 56
HOSTILE = "![x](http://evil.test/t.png) <b>刷</b>"


def _page(username: str = "boss", role: str = "organiser"):
    at = _app(username, role)
    return at.switch_page(PAGE).run()


def _texts(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption]
    parts += [e.value for e in at.info] + [e.value for e in at.success]
    return "\n".join(str(p) for p in parts)


def _stuff(session) -> None:
    campaign = get_campaign(session, "test-2020")
    entry = session.exec(select(Entry).where(Entry.code == "T-001")).one()
    entry.title = HOSTILE
    session.add(entry)
    start = datetime(2026, 6, 1, 1, 30, tzinfo=UTC)
    cast_votes(session, entry, 200, network_key=STUFFER, start=start, spacing=timedelta(0, 0.3))
    other = session.exec(
        select(Entry).where(Entry.campaign_id == campaign.id, Entry.code == "T-002")
    ).one()
    cast_votes(session, other, 1, network_key="c" * 64, start=start)


def _tally(code: str) -> int:
    with context.database().read() as session:
        entry = session.exec(select(Entry).where(Entry.code == code)).one()
        return session.get(VoteTally, entry.id).votes


def test_a_campaign_without_votes_shows_settings_and_says_there_is_nothing_yet(app_data):  # noqa: F811
    at = _page()
    assert not at.exception
    assert [t.value for t in at.title] == ["网上展厅与投票"]
    texts = _texts(at)
    assert "本活动尚无网上投票。" in texts
    assert "未发现集中投票。" in texts
    assert "尚未作废任何投票。" in texts
    assert "未设置投票时间：投票关闭。" in texts
    assert [b.label for b in at.button] == ["保存设置"]  # no void button without a warning


def test_a_reviewer_is_refused_the_page(app_data):  # noqa: F811
    at = _app("expert1", "expert")
    try:
        at.switch_page(PAGE).run()
    except ValueError:  # not in the reviewer's navigation at all
        return
    assert "无权" in "".join(e.value for e in at.error)


def test_saving_the_gallery_switch_is_stored_and_audited(app_data):  # noqa: F811
    at = _page()
    at.toggle[0].set_value(True)
    at.button(key="FormSubmitter:public_settings_form-保存设置").click().run()
    assert not at.exception
    with context.database().read() as session:
        assert get_campaign(session, "test-2020").public_gallery is True
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "public.configure")
        ).one()
    assert event.new_value == {"public_gallery": True}
    assert "网上展厅**已开放**" in _texts(at) or "网上展厅已开放" in _texts(at)


def test_a_burst_is_listed_with_its_evidence_and_the_void_asks_first(app_data):  # noqa: F811
    context.database().write(_stuff)
    at = _page()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["编号"]) == ["T-001"]
    assert list(table["标题"]) == [HOSTILE]  # a cell is text, shown as typed
    assert list(table["网络"]) == ["ab12cd34"]
    assert list(table["窗口内票数"]) == [200]
    assert list(table["仍计入"]) == [200]
    assert list(table["时间窗口（北京时间）"]) == ["2026-06-01 09:30:00 – 2026-06-01 09:31:00"]
    line = next(m.value for m in at.markdown if "ab12cd34" in m.value)
    assert markdown_literal(HOSTILE) in line
    at.button(key="void_0").click().run()  # the confirmation dialog
    assert not at.exception
    body = next(w.value for w in at.warning if "ab12cd34" in w.value)
    assert "**200**" in body and "测试评选" in body
    assert markdown_literal("2026-06-01 09:30:00") in body
    assert markdown_literal(HOSTILE) in body  # the title as typed, never an image or bold
    assert [b.key for b in at.button if b.key and b.key.startswith("void_confirm")] == [
        "void_confirm"
    ]
    assert _tally("T-001") == 200  # opening the dialog changes nothing
    # The dialog's own buttons rerun as a fragment, which AppTest does not drive: the void
    # itself is confirmed in the browser (tests/browser/test_browser_vote_watch.py).


def test_a_save_that_opens_voting_now_asks_first_and_saves_nothing_yet(app_data):  # noqa: F811
    today = datetime.now(BEIJING).date()
    at = _page()
    at.date_input(key="vote_opens_day:test-2020").set_value(today - timedelta(days=1))
    at.date_input(key="vote_closes_day:test-2020").set_value(today + timedelta(days=3))
    at.button(key="FormSubmitter:public_settings_form-保存设置").click().run()
    assert not at.exception
    body = "".join(w.value for w in at.warning)
    assert "立即开放投票" in body and "测试评选" in body
    assert [b.key for b in at.button if b.key == "public_confirm"] == ["public_confirm"]
    with context.database().read() as session:
        assert get_campaign(session, "test-2020").vote_opens_at is None  # not before confirming


def test_a_half_given_window_is_refused_with_what_is_missing(app_data):  # noqa: F811
    at = _page()
    at.date_input(key="vote_opens_day:test-2020").set_value(datetime(2030, 6, 1).date())
    at.button(key="FormSubmitter:public_settings_form-保存设置").click().run()
    assert "请同时填写投票开始和截止时间" in "".join(e.value for e in at.error)


def test_a_finalised_campaign_says_votes_are_closed_and_offers_no_void(app_data):  # noqa: F811
    context.database().write(_stuff)
    context.database().write(lambda s: freeze(s, get_campaign(s, "test-2020")))
    at = _page()
    assert not at.exception
    assert "本活动已定稿：不再接受投票，也不能作废投票。" in _texts(at)
    assert at.button(key="void_0").disabled
