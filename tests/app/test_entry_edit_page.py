"""The 添加/编辑作品 page in AppTest: a new entry, a refused field, an edit, a stale tab."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from scoring import context
from scoring.storage.models import AuditEvent, Campaign, Entry
from tests.app.test_pages import _app, app_data  # noqa: F401  (a fixture, used by name)

pytestmark = pytest.mark.usefixtures("app_data")
PAGE = "pages/entry_edit.py"


def _page(code: str | None = None):
    at = _app("boss", "organiser")
    if code:
        at.query_params["code"] = code
    return at.switch_page(PAGE).run()


def _field(at, label: str):
    return next(w for w in at.text_input if w.label == label)


def _select(at, label: str):
    return next(w for w in at.selectbox if w.label == label)


def _entry(code: str) -> Entry | None:
    with context.database().read() as session:
        return session.exec(select(Entry).where(Entry.code == code)).first()


def _save(at):
    return at.button[-1].click().run()


def test_an_organiser_adds_an_entry_and_the_form_then_edits_it():
    at = _page()
    assert not at.exception
    assert [t.value for t in at.title] == ["添加/编辑作品"]
    _field(at, "编号").input("N-001")
    _field(at, "名称").input("新加的作品")
    _field(at, "申报主体").input("某区")
    _select(at, "类别").set_value("数字经济")
    _select(at, "领域").set_value("大数据")
    at = _save(at)
    assert not at.exception and not at.error
    entry = _entry("N-001")
    assert entry is not None and entry.title == "新加的作品"
    assert [s.value for s in at.success][-1].endswith("已添加作品 N\\-001。")
    # The page now edits the new entry: its code in the address and in the heading.
    assert at.query_params["code"] in ("N-001", ["N-001"])
    assert "编辑作品 N\\-001" in [h.value for h in at.subheader]


def test_a_bad_field_is_named_under_itself_and_nothing_is_written():
    at = _page()
    _field(at, "编号").input("=SUM(A1)")
    _field(at, "名称").input("x")
    _field(at, "申报主体").input("某区")
    _select(at, "类别").set_value("数字经济")
    _select(at, "领域").set_value("大数据")
    at = _save(at)
    errors = [e.value for e in at.error]
    assert "未保存：请修改标出的问题（编号）。" in errors
    assert any(e.startswith("编号：") for e in errors), errors
    assert _entry("=SUM(A1)") is None


def test_an_edit_is_saved_and_audited_with_old_and_new():
    at = _page("T-001")
    assert [h.value for h in at.subheader] == ["编辑作品 T\\-001"]
    assert _field(at, "名称").value == "测试作品"
    # T-001 has an assignment: its code is fixed, the box is disabled.
    assert _field(at, "编号").disabled
    _field(at, "名称").input("改过的名称")
    at = _save(at)
    assert not at.error
    assert _entry("T-001").title == "改过的名称"
    with context.database().read() as session:
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "entry.update")).one()
    assert (event.old_value["title"], event.new_value["title"]) == ("测试作品", "改过的名称")


def test_a_stale_tab_is_told_and_does_not_overwrite_the_other_save():
    at = _page("T-002")
    _field(at, "名称").input("这个标签页的修改")

    def other_tab(session):
        session.exec(select(Entry).where(Entry.code == "T-002")).one().title = "另一标签页的修改"

    context.database().write(other_tab)
    at = _save(at)
    assert any("已被他人修改" in e.value for e in at.error)
    assert _entry("T-002").title == "另一标签页的修改"
    at.button(key="entry_edit_reload").click().run()
    assert _field(at, "名称").value == "另一标签页的修改"


def test_a_finalised_campaign_shows_no_form():
    def finalise(session):
        session.exec(select(Campaign)).one().finalised_at = datetime.now(UTC)

    context.database().write(finalise)
    at = _page("T-001")
    assert not at.exception
    assert [i.value for i in at.info] == ["本活动已定稿，作品不能再添加或修改。"]
    assert not [w for w in at.text_input if w.label == "名称"]


def test_reviewers_are_not_given_the_page():
    at = _app("expert1", "expert")
    with pytest.raises(ValueError):
        at.switch_page(PAGE)
