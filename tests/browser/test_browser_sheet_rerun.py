"""A save reruns the score sheet alone: the images, the PDF viewer and the details stay drawn.

A run of the whole entry page took 1–3 s after each save. Whether a run was the whole page
or the sheet's fragment is read from what the server tells the browser: every run ends with
a ``script_finished`` message on Streamlit's websocket, whose status says "finished" for
the page and "fragment run finished" for a fragment. The test decodes those frames with
Streamlit's own protobuf classes, so the page carries no test-only code. A DOM marker would
prove nothing: a run of the whole page keeps the nodes that did not change.

This module has a demo server of its own (its writes change expert5's counts). In the demo
expert5 has QD2020-001..018 submitted, 019 as a draft and 020..036 to score.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import (
    RUN_TIMEOUT_MS,
    criterion_input,
    login,
    main_area,
    metric,
    open_app,
    open_logged_in,
    set_number,
    titles,
    wait_for_app,
)
from playwright.sync_api import Locator, Page, WebSocket, expect
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

pytestmark = pytest.mark.browser

EXPERT = "expert5"
SHEET = "专家评审评分表"
ENTRY = "QD2020-024"  # to score for expert5
POINTS = {"创新性": 20, "成效性": 21, "实用性": 13, "示范推广价值": 11}
TOTAL = "65.00"
PROGRESS = re.compile(r"已提交 (\d+) / (\d+)，草稿 (\d+)")
BADGE_NEW = "尚未评分"
BADGE_DRAFT = "草稿（未提交，不计入排名）"
BADGE_SUBMITTED = "已提交"


@pytest.fixture(scope="module")
def demo_server(module_demo_server):
    """This module's own server (see the module docstring)."""
    return module_demo_server


class RunLog:
    """The end of every script run the server reports to this page, in order."""

    def __init__(self, page: Page) -> None:
        self.ends: list[int] = []
        page.on("websocket", self._watch)

    def _watch(self, socket: WebSocket) -> None:
        socket.on("framereceived", self._frame)

    def _frame(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        message = ForwardMsg.FromString(payload)
        if message.WhichOneof("type") == "script_finished":
            self.ends.append(message.script_finished)

    def mark(self) -> int:
        return len(self.ends)

    def page_runs_since(self, mark: int) -> int:
        """Runs of the whole page (a run cut short by a rerun counts as the rerun it asked)."""
        return self.ends[mark:].count(ForwardMsg.FINISHED_SUCCESSFULLY)

    def sheet_runs_since(self, mark: int) -> int:
        return self.ends[mark:].count(ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)


def score_sheet(page: Page) -> Locator:
    return (
        main_area(page)
        .get_by_test_id("stColumn")
        .filter(has=page.get_by_role("heading", name=SHEET))
    )


def submit_confirmation(page: Page) -> Locator:
    return main_area(page).locator("[class*='st-key-confirm_box_']")


def progress(sheet: Locator) -> tuple[int, int, int]:
    """(submitted, assigned, drafts) from the progress bar drawn in the sheet."""
    bar = sheet.get_by_test_id("stProgress")
    expect(bar).to_contain_text(PROGRESS)
    found = PROGRESS.search(bar.inner_text())
    assert found, bar.inner_text()
    submitted, assigned, drafts = (int(n) for n in found.groups())
    return submitted, assigned, drafts


def expect_progress(sheet: Locator, submitted: int, assigned: int, drafts: int) -> None:
    expect(sheet.get_by_test_id("stProgress")).to_contain_text(
        f"已提交 {submitted} / {assigned}，草稿 {drafts}"
    )


def test_save_submit_revise_and_discard_rerun_only_the_sheet(page, demo_server):
    runs = RunLog(page)
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    open_logged_in(page, demo_server.base_url, f"entry?code={ENTRY}")
    expect(titles(page)).to_have_text([re.compile(rf"^{ENTRY} · ")])
    sheet = score_sheet(page)
    expect(sheet.get_by_text(BADGE_NEW, exact=True)).to_be_visible()
    submitted, assigned, drafts = progress(sheet)
    assert runs.page_runs_since(0) > 0  # the observation works: opening the page ran it
    mark = runs.mark()

    for name, points in POINTS.items():
        set_number(page, criterion_input(sheet, name), points)
    expect(metric(sheet, "合计（折算百分制）").get_by_test_id("stMetricValue")).to_have_text(TOTAL)

    # A draft: the badge and the progress in the sheet follow, the page does not run.
    sheet.get_by_role("button", name="保存草稿").click()
    wait_for_app(page)
    expect(sheet.get_by_text(BADGE_DRAFT, exact=True)).to_be_visible()
    expect_progress(sheet, submitted, assigned, drafts + 1)
    assert runs.page_runs_since(mark) == 0, runs.ends[mark:]

    # The submission is confirmed first, inside the sheet; the boxes are locked meanwhile.
    sheet.get_by_role("button", name="提交评分").click()
    wait_for_app(page)
    confirmation = submit_confirmation(page)
    expect(confirmation).to_contain_text(f"提交作品“{ENTRY}”的评分，合计 {TOTAL} 分")
    expect(criterion_input(sheet, "创新性")).to_be_disabled()
    confirmation.get_by_role("button", name="取消").click()
    wait_for_app(page)
    expect(submit_confirmation(page)).to_have_count(0)
    expect(criterion_input(sheet, "创新性")).to_be_enabled()
    expect(sheet.get_by_text(BADGE_DRAFT, exact=True)).to_be_visible()  # cancelled: still a draft

    sheet.get_by_role("button", name="提交评分").click()
    wait_for_app(page)
    submit_confirmation(page).get_by_role("button", name="确认提交").click()
    wait_for_app(page)
    expect(submit_confirmation(page)).to_have_count(0)
    expect(sheet.get_by_text(BADGE_SUBMITTED, exact=True)).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect_progress(sheet, submitted + 1, assigned, drafts)
    assert runs.page_runs_since(mark) == 0, runs.ends[mark:]

    # A change to the submission: discarded, then revised and confirmed.
    field = criterion_input(sheet, "实用性")
    set_number(page, field, 14)
    sheet.get_by_role("button", name="放弃修改").click()
    wait_for_app(page)
    expect(criterion_input(sheet, "实用性")).to_have_value(str(POINTS["实用性"]))
    set_number(page, criterion_input(sheet, "实用性"), 14)
    sheet.get_by_role("button", name="提交修改").click()
    wait_for_app(page)
    expect(submit_confirmation(page)).to_contain_text("合计 66.00 分")
    submit_confirmation(page).get_by_role("button", name="确认提交").click()
    wait_for_app(page)
    expect(submit_confirmation(page)).to_have_count(0)
    expect(sheet.get_by_text(BADGE_SUBMITTED, exact=True)).to_be_visible()
    expect(criterion_input(sheet, "实用性")).to_have_value("14")
    expect_progress(sheet, submitted + 1, assigned, drafts)

    # Every one of those clicks and keystrokes ran the sheet, none ran the page.
    assert runs.page_runs_since(mark) == 0, runs.ends[mark:]
    assert runs.sheet_runs_since(mark) >= 12, runs.ends[mark:]

    # And what was saved is stored: a fresh load of the page shows it.
    open_logged_in(page, demo_server.base_url, f"entry?code={ENTRY}")
    sheet = score_sheet(page)
    expect(sheet.get_by_text(BADGE_SUBMITTED, exact=True)).to_be_visible()
    expect(criterion_input(sheet, "实用性")).to_have_value("14")
    expect_progress(sheet, submitted + 1, assigned, drafts)


STALE_ENTRY = "QD2020-025"  # to score for expert5
OTHER_TAB_POINTS = {"创新性": 18, "成效性": 17, "实用性": 10, "示范推广价值": 9}


def test_a_stale_save_and_its_reload_rerun_only_the_sheet(page, demo_server, browser):
    runs = RunLog(page)
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    open_logged_in(page, demo_server.base_url, f"entry?code={STALE_ENTRY}")
    sheet = score_sheet(page)
    expect(sheet.get_by_text(BADGE_NEW, exact=True)).to_be_visible()
    submitted, assigned, drafts = progress(sheet)
    mark = runs.mark()
    for name, points in POINTS.items():
        set_number(page, criterion_input(sheet, name), points)

    # The same reviewer saves the sheet in another tab meanwhile.
    other = browser.new_context(
        viewport={"width": 1400, "height": 900},
        locale="zh-CN",
        storage_state=page.context.storage_state(),
    )
    try:
        tab = other.new_page()
        open_logged_in(tab, demo_server.base_url, f"entry?code={STALE_ENTRY}")
        other_sheet = score_sheet(tab)
        for name, points in OTHER_TAB_POINTS.items():
            set_number(tab, criterion_input(other_sheet, name), points)
        other_sheet.get_by_role("button", name="保存草稿").click()
        wait_for_app(tab)
        expect(other_sheet.get_by_text(BADGE_DRAFT, exact=True)).to_be_visible()
    finally:
        other.close()

    # This tab is told, keeps what was typed, and loads the newer sheet on request.
    sheet.get_by_role("button", name="保存草稿").click()
    wait_for_app(page)
    expect(sheet.get_by_text(f"作品“{STALE_ENTRY}”的评分表已在其他页面修改")).to_be_visible()
    expect(criterion_input(sheet, "创新性")).to_have_value(str(POINTS["创新性"]))
    sheet.get_by_role("button", name="载入最新版本").click()
    wait_for_app(page)
    for name, points in OTHER_TAB_POINTS.items():
        expect(criterion_input(sheet, name)).to_have_value(str(points))
    expect(sheet.get_by_text(BADGE_DRAFT, exact=True)).to_be_visible()
    expect_progress(sheet, submitted, assigned, drafts + 1)
    assert runs.page_runs_since(mark) == 0, runs.ends[mark:]
