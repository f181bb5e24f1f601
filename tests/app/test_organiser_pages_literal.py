"""Organiser pages show data as typed (issue point 11): intake, set-up, assignment, finalise.

Campaign and category names, titles, reasons and whatever an uploaded file holds are put
where Streamlit renders Markdown: captions, alerts, subheaders, confirmation dialogs. A value
such as ``![x](http://evil.test/t.png)`` must reach the browser escaped (so no image is
fetched and no link is drawn), and escaped once only (so "A-01" does not show as "A\\-01").
Plain sinks (table cells, headers) must get it unescaped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from scoring import context
from scoring.literal import markdown_literal
from tests.factories import ORGANISER, assigned, make_account, make_campaign, make_entry

ROOT = Path(__file__).parents[2]

IMAGE = "![x](http://evil.test/t.png)"
LINK = "[再次登录](http://evil.test/p)"
CAMPAIGN = f"评选 {IMAGE} **粗** <b>b</b>"
CATEGORY = f"数字政府 {LINK}"
TITLE = f"A-01 {IMAGE} 1.5"
REASON = f"评委会 {LINK} _斜_"


@pytest.fixture
def hostile_data(app_env):
    """A campaign whose name, first category and entry titles are Markdown and HTML."""

    def setup(session):
        campaign = make_campaign(session, name=CAMPAIGN, categories=[CATEGORY, "数字经济"])
        entry = make_entry(session, campaign, "T-001", title=TITLE)
        make_entry(session, campaign, "T-002", title="另一作品")
        make_account(session, "boss", "organiser")
        assigned(session, entry, make_account(session, "expert1", "expert"))

    context.database().write(setup)
    yield


def _page(script: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "boss"
    at.session_state["name"] = "boss"
    at.session_state["roles"] = ["organiser"]
    at.session_state["logout"] = False
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page(script).run()
    assert not at.exception, at.exception
    return at


def _shows_literally(text: str, value: str) -> bool:
    """``value`` is in the Markdown ``text`` escaped exactly once."""
    return markdown_literal(value) in text and markdown_literal(markdown_literal(value)) != text


def _no_double_escape(texts: list[str]) -> None:
    assert not [t for t in texts if "\\\\" in t], texts


@pytest.mark.parametrize(
    "script",
    [
        "pages/intake.py",
        "pages/setup.py",
        "pages/assign.py",
        "pages/finalise.py",
        "pages/public_admin.py",
    ],
)
def test_the_campaign_name_heading_each_organiser_page_is_shown_as_typed(hostile_data, script):
    at = _page(script)
    shown = [c.value for c in at.caption] + [s.value for s in at.subheader]
    assert any(markdown_literal(CAMPAIGN) in text for text in shown), shown
    assert not any(CAMPAIGN in text for text in shown)  # never the raw, renderable form
    _no_double_escape(shown)


def test_an_uploaded_files_header_shows_literally_and_its_cells_as_typed(hostile_data):
    header = f"备注 {IMAGE}"
    workbook = f"编号,名称,申报主体,类别,领域,{header}\nN-1,{TITLE},某局,数字经济,政务服务,x\n"
    at = _page("pages/intake.py")
    at.get("file_uploader")[0].upload("entries.csv", workbook.encode("utf-8"), "text/csv")
    at.run()
    assert not at.exception, at.exception
    # The unknown column is named in a caption (Markdown): escaped, so no image is fetched.
    warnings = [c.value for c in at.caption if "未识别的列" in c.value]
    assert len(warnings) == 1 and markdown_literal(header) in warnings[0], warnings
    # The preview is a table: its cells are plain text and keep the title as typed.
    preview = at.dataframe[0].value
    assert list(preview["名称"]) == [TITLE]


def test_the_problem_report_of_a_refused_file_quotes_its_values_as_typed(hostile_data):
    value = "A-01 [x](http://evil.test/c)"
    workbook = f"编号,名称,申报主体,类别,领域\nN-1,新作品,某局,{value},政务服务\n"
    at = _page("pages/intake.py")
    at.get("file_uploader")[0].upload("entries.csv", workbook.encode("utf-8"), "text/csv")
    at.run()
    assert not at.exception, at.exception
    reasons = list(at.dataframe[0].value["原因"])
    # A table cell is plain text: no backslashes in front of "-", "[" or ".".
    assert any(f"类别“{value}”不属于本活动" in r for r in reasons), reasons


def test_a_bulk_rejection_names_campaign_codes_and_reason_literally(hostile_data):
    at = _page("pages/intake.py")
    next(m for m in at.multiselect if m.label == "要处理的作品（可多选）").set_value(["T-001"])
    next(r for r in at.radio if r.label == "审核结果").set_value("rejected")
    next(i for i in at.text_input if i.label == "原因").set_value(REASON)
    next(b for b in at.button if b.label == "应用").click().run()
    assert not at.exception, at.exception
    body = next(w.value for w in at.warning if "标记为不通过" in w.value)
    assert _shows_literally(body, CAMPAIGN) and _shows_literally(body, REASON), body
    _no_double_escape([body])


def test_removing_assignments_names_the_campaign_literally(hostile_data):
    at = _page("pages/assign.py")
    tab = at.tabs[0]  # 专家评审
    next(s for s in tab.selectbox if s.label == "评审人").set_value("expert1")
    next(m for m in tab.multiselect if m.label == "作品").set_value(["T-001"])
    next(b for b in tab.button if b.label == "取消分配").click().run()
    assert not at.exception, at.exception
    body = next(w.value for w in at.warning if "取消" in w.value)
    assert _shows_literally(body, CAMPAIGN), body
    _no_double_escape([body])


def test_finalise_shows_reasons_titles_and_groups_escaped_once(hostile_data):
    from scoring.services.campaigns import get_campaign
    from scoring.services.finalise import set_override, set_panel_lock

    def decide(session):
        campaign = get_campaign(session, "test-2020")
        set_override(session, ORGANISER, campaign, "T-001", True, REASON)
        set_panel_lock(session, ORGANISER, campaign, "media", True, REASON)

    context.database().write(decide)
    at = _page("pages/finalise.py")
    lines = [m.value for m in at.markdown]
    override = next(line for line in lines if "T\\-001" in line)
    assert _shows_literally(override, TITLE) and _shows_literally(override, REASON), override
    lock = next(line for line in lines if "已锁定" in line)
    assert _shows_literally(lock, REASON), lock
    _no_double_escape(lines)

    at.button(key="finalise").click().run()  # the confirmation dialog
    assert not at.exception, at.exception
    dialog = [m.value for m in at.markdown]
    assert any(_shows_literally(line, CAMPAIGN) for line in dialog), dialog
    group = next(line for line in dialog if "名额" in line and markdown_literal(CATEGORY) in line)
    assert markdown_literal(f"T-001 {TITLE}") in group, group  # the winner, by the override
    assert not any(IMAGE in line or LINK in line for line in dialog)
    _no_double_escape(dialog)
