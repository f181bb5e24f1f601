"""Entry, announcement, standings and meeting pages show data and the address as typed.

Titles, names and codes come from applicants' workbooks and from the address bar; on these
pages none of them may turn into an image fetched from another host, a link or markup.
AppTest hands over what the page gave Streamlit, so each check is on the escaped form that
the browser then shows character for character.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from scoring import context
from scoring.literal import html_literal, markdown_literal
from scoring.services.campaigns import get_campaign
from scoring.services.finalise import decide_tie, finalise, set_override, set_panel_lock
from scoring.storage.models import Category, Entry
from tests.app.test_pages import _app, app_data  # noqa: F401  (the fixture is used by name)
from tests.factories import ORGANISER

HOSTILE = "![x](http://evil.test/t.png) [Sign in again](http://evil.test/p) <b>b</b>"
CAMPAIGN = f"评选 {HOSTILE}"
CATEGORY = "数字政府 **b** <i>i</i>"
TITLE = f"测试作品 {HOSTILE}"
BROKEN_TITLE = "第一行\n\n![x](http://evil.test/s.png) <b>b</b>"
"""A blank line in HTML would end the stage's HTML block, and Markdown would follow it."""


@pytest.fixture
def hostile(app_data):  # noqa: F811
    """The scene of tests.app.test_pages with hostile names in the campaign and T-001."""

    def rename(session):
        campaign = get_campaign(session, "test-2020")
        campaign.name = CAMPAIGN
        session.add(campaign)
        category = session.exec(
            select(Category).where(Category.campaign_id == campaign.id, Category.name == "数字政府")
        ).one()
        category.name = CATEGORY
        session.add(category)
        entry = session.exec(select(Entry).where(Entry.code == "T-001")).one()
        entry.title = TITLE
        session.add(entry)

    context.database().write(rename)


def _entry_page(code: str):
    at = _app("expert1", "expert")
    at.query_params["code"] = code
    return at.switch_page("pages/entry.py").run()


def _organiser_page(page: str):
    return _app("boss", "organiser").switch_page(page).run()


def _write(work) -> None:
    context.database().write(lambda s: work(s, get_campaign(s, "test-2020")))


def _grant_both(session, campaign) -> None:
    set_override(session, ORGANISER, campaign, "T-001", True, f"评委会 {HOSTILE}")
    set_override(session, ORGANISER, campaign, "T-002", True, "评委会")


def test_a_code_from_the_address_is_echoed_literally(hostile):
    at = _entry_page(HOSTILE)
    assert not at.exception
    assert [e.value for e in at.error] == [f"找不到作品“{markdown_literal(HOSTILE)}”。"]


def test_the_entry_page_shows_title_category_and_campaign_literally(hostile):
    at = _entry_page("T-001")
    assert not at.exception
    assert [t.value for t in at.title] == [markdown_literal(f"T-001 · {TITLE}")]
    assert f"{markdown_literal(CATEGORY)} · " in "\n".join(c.value for c in at.caption)
    # Ordinary numbers keep their look (and the input's aria-label has no backslash).
    assert [n.label for n in at.number_input] == ["0–60 分，步长 1", "0–40 分，步长 0.5"]


def test_the_submit_confirmation_names_the_code_escaped_once(hostile):
    at = _entry_page("T-001")
    at.number_input[0].set_value(45)
    at.number_input[1].set_value(30.5).run()
    at.button(key="submit_T-001").click().run()
    assert not at.exception
    said = [m.value for m in at.markdown if "提交作品" in m.value]
    assert said == ["提交作品“T\\-001”的评分，合计 75.50 分？提交后在评审组锁定前仍可修改。"]


def test_the_stage_shows_titles_and_the_campaign_as_text(hostile):
    def retitle(session, campaign):
        entry = session.exec(select(Entry).where(Entry.code == "T-002")).one()
        entry.title = BROKEN_TITLE
        session.add(entry)
        _grant_both(session, campaign)

    _write(retitle)
    at = _organiser_page("pages/announce.py")
    assert not at.exception
    assert markdown_literal(CAMPAIGN) in [c.value for c in at.caption]
    at.button[0].click().run()  # start
    at.button(key="announce_next").click().run()  # the first winner: T-001
    markup = "".join(m.value for m in at.markdown)
    assert f"<div class='rd-campaign'>{html_literal(CAMPAIGN)}</div>" in markup
    assert f"<div class='rd-title'>{html_literal(TITLE)}</div>" in markup
    at.button(key="announce_next").click().run()  # T-002
    winner = next(m.value for m in at.markdown if "<div class='rd-title'>" in m.value)
    # One line, tags escaped: the title never leaves the HTML block as Markdown.
    assert "\n" not in winner
    assert (
        "<div class='rd-title'>第一行  ![x](http://evil.test/s.png) &lt;b&gt;b&lt;/b&gt;</div>"
        in (winner)
    )


def test_standings_name_sections_literally_and_keep_a_reason_as_typed(hostile):
    _write(_grant_both)
    at = _organiser_page("pages/standings.py")
    assert not at.exception
    assert markdown_literal(CAMPAIGN) in [c.value for c in at.caption]
    assert markdown_literal(CATEGORY) in [s.value for s in at.subheader]
    table = next(df.value for df in at.dataframe if "标记" in df.value)
    markers = dict(zip(table["编号"], table["标记"], strict=True))
    assert markers["T-001"].endswith(f" · 评委会调整：评委会 {HOSTILE}")  # a cell is plain text


def test_the_meeting_page_names_the_campaign_literally(hostile):
    at = _organiser_page("pages/meeting.py")
    assert not at.exception
    assert markdown_literal(CAMPAIGN) in [c.value for c in at.caption]


def test_the_finalised_banner_shows_the_digest_in_monospace(app_data):  # noqa: F811
    def freeze(session, campaign):
        for panel in ("expert", "media"):
            set_panel_lock(session, ORGANISER, campaign, panel, True, "结束")
        decide_tie(session, ORGANISER, campaign, "T-001", True, "评委会表决")
        decide_tie(session, ORGANISER, campaign, "T-002", False, "评委会表决")
        return finalise(session, ORGANISER, campaign).sha256

    sha = context.database().write(lambda s: freeze(s, get_campaign(s, "test-2020")))
    at = _organiser_page("pages/meeting.py")
    assert not at.exception
    banner = [s.value for s in at.success]
    assert len(banner) == 1 and f"SHA-256：`{sha}`" in banner[0]
