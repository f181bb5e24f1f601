"""The online exhibition hall page, run as a visitor who never signed in: no login form."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from scoring import context
from scoring.storage.models import utcnow
from tests.factories import make_campaign, make_entry

ROOT = Path(__file__).parents[2]
SLUG = "test-2020"
HIDDEN = "隐名申报单位"


def _scene(session: Session) -> None:
    campaign = make_campaign(session)
    campaign.public_gallery = True
    campaign.public_fields = ["code", "category", "domain"]
    campaign.vote_opens_at = utcnow() - timedelta(hours=1)
    campaign.vote_closes_at = utcnow() + timedelta(days=1)
    session.add(campaign)
    make_entry(session, campaign, "C-1", title="![x](http://evil.example/t.png)", applicant=HIDDEN)
    make_entry(session, campaign, "C-2", title="城市大脑")
    make_entry(session, campaign, "C-3", status="rejected", title="被驳回的作品")


@pytest.fixture
def hall(app_env, monkeypatch):
    monkeypatch.setenv("REVIEWDESK_VOTE_KEY", "test-vote-key")
    context.database().write(_scene)


def _visitor(lang: str = "zh", **params: str) -> AppTest:
    """The hall as a visitor who never signed in opens it, through app.py's gate."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/hall.py")
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def _texts(at: AppTest) -> str:
    parts = [
        e.value for e in (*at.title, *at.subheader, *at.markdown, *at.caption, *at.info, *at.text)
    ]
    return "\n".join(str(p) for p in parts)


def test_the_hall_shows_public_cards_only_with_titles_as_typed(hall):
    at = _visitor(campaign=SLUG)
    assert not at.exception
    assert [t.value for t in at.title] == ["网上展厅"]
    texts = _texts(at)
    assert "**\\!\\[x\\]\\(http\\:" in texts.replace("\u2060", "")  # a title, not an image
    assert "城市大脑" in texts and "被驳回的作品" not in texts
    assert HIDDEN not in texts
    assert "每个IP每天限投1票" in texts
    assert "共 2 / 2 件作品" in texts


def test_a_search_for_a_hidden_applicant_finds_nothing(hall):
    at = _visitor(campaign=SLUG)
    at.text_input(key="hall_search").input(HIDDEN).run()
    assert not at.exception
    assert [i.value for i in at.info if "没有符合" in i.value] == ["没有符合条件的作品。"]


def test_a_vote_is_confirmed_and_another_tab_of_the_ip_is_told_before_a_click(hall):
    at = _visitor(campaign=SLUG, entry="C-2")
    assert not at.exception
    button = at.button(key="vote_test-2020_C-2")
    assert not button.disabled
    button.click().run()
    assert [s.value for s in at.success] == ["投票成功！您今天已为“城市大脑”投票，感谢参与。"]
    assert at.button(key="vote_test-2020_C-2").disabled
    assert list(at.error) == []  # (a double click is the browser test's: AppTest clicks once)

    again = _visitor(campaign=SLUG, entry="C-1")  # another tab, same IP
    assert [w.value for w in again.warning] == [
        "您所在的网络（IP）今天已为“城市大脑”投票；每个IP每天限投1票，请明天再来。"
    ]
    assert again.button(key="vote_test-2020_C-1").disabled


def test_the_hall_reads_in_english_and_an_unknown_entry_is_named(hall):
    at = _visitor("en", campaign=SLUG, entry="C-3")
    assert not at.exception
    assert [t.value for t in at.title] == ["Online exhibition hall"]
    assert [e.value for e in at.error] == ["This hall has no entry with the code “C\\-3”."]


def test_a_campaign_without_a_public_hall_is_refused(hall):
    at = _visitor(campaign="no-such")
    assert not at.exception
    assert [e.value for e in at.error] == ["找不到评选活动“no\\-such”的网上展厅（或展厅未开放）。"]
