"""Data and query parameters on the common pages show as the characters typed, never rendered.

Overview, gallery, progress, users, audit, the sidebar and the campaign picker. A campaign,
category, domain, entry, display name and conflict reason each carry an image, a link, HTML
and maths syntax. Markdown elements must receive them escaped, and once only (a second
escape would show backslashes); plain elements (st.text, dataframe cells, selectbox
options) must receive them as typed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from scoring import context
from scoring.literal import markdown_literal
from scoring.services.audit import record
from scoring.services.review import declare_conflict
from tests.factories import ORGANISER, actor_of, assigned, make_account, make_campaign, make_entry

ROOT = Path(__file__).parents[2]


def hostile(label: str) -> str:
    """A value that fetches an outside image and shows an outside link if rendered."""
    return f"{label} ![x](http://evil.test/{label}.png) [再次登录](http://evil.test/p) <b>b</b> $x$"


CAMPAIGN = hostile("活动")
CATEGORY = hostile("类别")
DOMAIN = hostile("领域")
TITLE = hostile("作品")
REASON = hostile("回避")
DISPLAY = hostile("专家")


@pytest.fixture
def hostile_data(app_env):
    """One campaign whose every name is hostile; an expert with one entry and one conflict."""

    def setup(session):
        campaign = make_campaign(session, name=CAMPAIGN, categories=[CATEGORY], domains=[DOMAIN])
        kept = make_entry(session, campaign, "A-01", title=TITLE)
        declared = make_entry(session, campaign, "A-02", title=TITLE)
        make_account(session, "boss", "organiser")
        expert = make_account(session, "expert1", "expert")
        expert.display_name = DISPLAY
        assigned(session, kept, expert)
        assigned(session, declared, expert)
        declare_conflict(session, actor_of(expert), campaign, "A-02", REASON)
        record(session, ORGANISER, "entry.edit", target="A-01", new=TITLE, campaign_id=campaign.id)

    context.database().write(setup)
    yield


def _app(username: str, role: str, name: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = username
    at.session_state["name"] = name or username
    at.session_state["roles"] = [role]
    at.session_state["logout"] = False
    at.session_state["lang"] = "zh"
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _markdown_texts(at: AppTest) -> list[str]:
    """Every text a Markdown renderer receives on the page (main area and sidebar)."""
    elements = [*at.title, *at.header, *at.subheader, *at.markdown, *at.caption]
    elements += [*at.error, *at.warning, *at.info, *at.success]
    return [str(e.value) for e in elements]


def _assert_literal(texts: list[str]) -> None:
    """No image, link or tag survives, and nothing was escaped twice."""
    for text in texts:
        assert "](" not in text and "<b>" not in text, text
        assert "\\\\" not in text, text  # a doubly escaped value shows its backslashes


def _shows(texts: list[str], value: str) -> bool:
    """``value`` reaches some Markdown element escaped exactly once."""
    return any(markdown_literal(value) in text for text in texts)


def test_the_overview_names_the_campaign_literally(hostile_data):
    at = _app("boss", "organiser")
    assert not at.exception
    assert at.title[0].value == markdown_literal(CAMPAIGN)
    _assert_literal(_markdown_texts(at))


def test_the_gallery_shows_campaign_category_and_domain_literally(hostile_data):
    at = _app("expert1", "expert")
    assert not at.exception
    texts = _markdown_texts(at)
    assert _shows(texts, CAMPAIGN)
    assert _shows(texts, CATEGORY) and _shows(texts, DOMAIN)
    _assert_literal(texts)
    assert [t.value for t in at.text] == [f"A-01\n{TITLE}"]  # plain text: as typed
    # The filter options are plain text too: a backslash there would be shown.
    assert at.multiselect[0].options == [CATEGORY]


def test_the_progress_page_shows_a_declared_reason_once_escaped(hostile_data):
    at = _app("expert1", "expert")
    at.switch_page("pages/progress.py").run()
    assert not at.exception
    texts = _markdown_texts(at)
    assert _shows(texts, CAMPAIGN) and _shows(texts, REASON)
    _assert_literal(texts)
    assert [t.value for t in at.text] == ["A-01", TITLE, "A-02", TITLE]


def test_the_sidebar_shows_a_display_name_literally(hostile_data):
    at = _app("expert1", "expert", name=DISPLAY)
    assert not at.exception
    shown = [str(m.value) for m in at.sidebar.markdown]
    assert f"**{markdown_literal(DISPLAY)}**" in shown
    _assert_literal(shown)


def test_a_campaign_in_the_address_is_echoed_literally_in_the_refusal(hostile_data):
    slug = "![x](http://evil.test/q.png)"
    at = _app("boss", "organiser", campaign=slug)
    assert not at.exception
    errors = [str(e.value) for e in at.error]
    assert any(markdown_literal(slug) in e for e in errors), errors
    _assert_literal(errors)


def test_the_campaign_picker_lists_the_name_without_backslashes(hostile_data):
    at = _app("boss", "organiser")
    picker = at.sidebar.selectbox(key="campaign_picker")
    assert picker.value == "test-2020"
    assert picker.format_func("test-2020") == CAMPAIGN


def test_the_audit_log_shows_typed_values_as_typed(hostile_data):
    at = _app("boss", "organiser")
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    changes = list(at.dataframe[0].value["变更"])
    # Cells are plain text: the values exactly as typed, no backslash added.
    assert TITLE in changes
    assert f"+ reason: {REASON}" in changes
    _assert_literal(_markdown_texts(at))


def test_users_page_lists_a_display_name_as_typed(hostile_data):
    at = _app("boss", "organiser")
    at.switch_page("pages/users.py").run()
    assert not at.exception
    assert DISPLAY in list(at.dataframe[0].value["姓名"])
    _assert_literal(_markdown_texts(at))
