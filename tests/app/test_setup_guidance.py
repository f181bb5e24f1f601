"""The set-up page edits score guidance: level boxes per criterion, the comment-at-extremes
switch and the stage dates, and refuses a box it cannot read, naming the criterion."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from scoring import context
from scoring.services.campaigns import get_campaign
from scoring.storage.models import Criterion
from tests.factories import make_account, make_campaign

ROOT = Path(__file__).parents[2]


@pytest.fixture
def organiser_app(app_env):
    def setup(session):
        make_campaign(session, intake_opens_on="2020-08-01")
        make_account(session, "boss", "organiser")

    context.database().write(setup)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "boss"
    at.session_state["name"] = "boss"
    at.session_state["roles"] = ["organiser"]
    at.session_state["logout"] = False
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("pages/setup.py").run()
    assert not at.exception
    return at


def _labelled(widgets, label):
    return next(w for w in widgets if w.label == label)


def _levels_box(at, name):
    return next(w for w in at.text_input if name in w.label)


def test_levels_switch_and_dates_are_saved_from_the_page(organiser_app):
    at = organiser_app
    assert _labelled(at.date_input, "征集开始日期").value == date(2020, 8, 1)
    assert _labelled(at.date_input, "征集截止日期").value is None
    _labelled(at.toggle, "极端分须写打分理由").set_value(True)
    _labelled(at.date_input, "征集截止日期").set_value(date(2020, 9, 30))
    _levels_box(at, "创新性").set_value("优 54-60; 良 40-53；差 0-39")
    _labelled(at.button, "保存修改").click().run()
    assert not at.error, [e.value for e in at.error]
    with context.database().read() as session:
        campaign = get_campaign(session, "test-2020")
        assert campaign.comment_at_extremes is True
        assert (campaign.intake_opens_on, campaign.intake_closes_on) == (
            "2020-08-01",
            "2020-09-30",
        )
        innovation = session.exec(select(Criterion).where(Criterion.key == "innovation")).one()
        assert [lv["label"] for lv in innovation.levels] == ["优", "良", "差"]
    at.run()  # the form shows what was stored
    assert _levels_box(at, "创新性").value == "优 54-60; 良 40-53; 差 0-39"
    assert _labelled(at.toggle, "极端分须写打分理由").value is True


def test_a_box_that_cannot_be_read_or_a_bad_range_saves_nothing(organiser_app):
    at = organiser_app
    _levels_box(at, "成效性").set_value("好 30-40; 很好")
    _labelled(at.toggle, "极端分须写打分理由").set_value(True)
    _labelled(at.button, "保存修改").click().run()
    assert any("成效性" in e.value and "很好" in e.value for e in at.error), at.error
    _levels_box(at, "成效性").set_value("好 30-41")
    _labelled(at.button, "保存修改").click().run()
    problems = " ".join(t.value for t in at.text)
    assert "成效性" in problems and "0–40" in problems, problems
    with context.database().read() as session:
        assert get_campaign(session, "test-2020").comment_at_extremes is False
        impact = session.exec(select(Criterion).where(Criterion.key == "impact")).one()
        assert impact.levels == []


def test_dates_out_of_order_are_refused_naming_both(organiser_app):
    at = organiser_app
    _labelled(at.date_input, "评审开始日期").set_value(date(2020, 7, 1))
    _labelled(at.button, "保存修改").click().run()
    problems = " ".join(t.value for t in at.text)
    assert "评审开始日期（2020-07-01）" in problems and "征集开始日期（2020-08-01）" in problems
    with context.database().read() as session:
        assert get_campaign(session, "test-2020").review_opens_on is None
