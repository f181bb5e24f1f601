"""The outcome is safe on screen: what a reviewer sees on the sheet is what is stored and counted.

This module has a demo server of its own (its writes change expert5's counts, which other
modules read). In the demo (``scoring/demo/builder.py``) expert5 has QD2020-001..018
submitted, 019 as a draft and 020..036 to score; each test below writes its own entry.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import (
    RUN_TIMEOUT_MS,
    alerts,
    criterion_input,
    dismiss_toasts,
    go_to,
    login,
    main_area,
    metric,
    open_app,
    open_logged_in,
    screenshot,
    screenshot_of,
    set_number,
    titles,
    wait_for_app,
)
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

EXPERT = "expert5"
SHEET = "专家评审评分表"
TOTAL = "合计（折算百分制）"
PROGRESS = re.compile(r"已提交 (\d+) / (\d+)，草稿 (\d+)")
BADGE_DRAFT = "草稿（未提交，不计入排名）"
BADGE_SUBMITTED = "已提交"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}

SUBMITTED_ENTRY = "QD2020-005"  # submitted by expert5 in the demo
DRAFT_ENTRY = "QD2020-020"  # to score; saved here as the draft below
DRAFT_POINTS = {"创新性": 23, "成效性": 22, "实用性": 12, "示范推广价值": 12}
DRAFT_TOTAL = "69.00"
FRESH_SESSIONS = 20
OFF_STEP_ENTRY = "QD2020-021"  # to score
CONFLICT_ENTRY = "QD2020-010"  # submitted by expert5 in the demo


# Records, from the first paint on, every distinct set of values the score boxes show.
RECORD_SHOWN_VALUES = """
window.shownValues = [];
setInterval(() => {
  const values = Array.from(
    document.querySelectorAll("[data-testid='stNumberInput'] input"), (i) => i.value);
  const last = window.shownValues[window.shownValues.length - 1];
  if (values.length && JSON.stringify(values) !== JSON.stringify(last)) {
    window.shownValues.push(values);
  }
}, 10);
"""


@pytest.fixture(scope="module")
def demo_server(module_demo_server):
    """This module's own server (see the module docstring)."""
    return module_demo_server


def score_sheet(page: Page) -> Locator:
    return (
        main_area(page)
        .get_by_test_id("stColumn")
        .filter(has=page.get_by_role("heading", name=SHEET))
    )


def sheet_box(sheet: Locator) -> Locator:
    return (
        sheet.get_by_test_id("stVerticalBlock")
        .filter(has=sheet.page.get_by_test_id("stNumberInput"))
        .last
    )


def in_order_within(shown: list[str], expected: list[str]) -> bool:
    """Whether the boxes drawn so far (some may not be drawn yet) show stored values only."""
    rest = iter(expected)
    return all(value in rest for value in shown)


def progress_counts(page: Page) -> tuple[int, int, int]:
    """(submitted, assigned, drafts) from the reviewer's progress bar."""
    bar = main_area(page).get_by_test_id("stProgress")
    expect(bar).to_contain_text(PROGRESS)
    found = PROGRESS.search(bar.inner_text())
    assert found, bar.inner_text()
    submitted, assigned, drafts = (int(n) for n in found.groups())
    return submitted, assigned, drafts


def submit_confirmation(page: Page) -> Locator:
    """The question the sheet asks before a submission counts (inside the sheet, no dialog)."""
    return main_area(page).locator("[class*='st-key-confirm_box_']")


def open_entry(page: Page, base_url: str, code: str) -> Locator:
    open_logged_in(page, base_url, f"entry?code={code}")
    expect(titles(page)).to_have_text([re.compile(rf"^{code} · ")])
    sheet = score_sheet(page)
    expect(sheet).to_have_count(1)
    return sheet


def test_changing_a_submitted_sheet_keeps_it_submitted_and_counted(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    before = progress_counts(page)
    sheet = open_entry(page, demo_server.base_url, SUBMITTED_ENTRY)
    expect(sheet.get_by_text(BADGE_SUBMITTED, exact=True)).to_be_visible()
    field = criterion_input(sheet, "实用性")
    changed = 20 if field.input_value() != "20" else 19
    set_number(page, field, changed)

    # A submitted sheet offers no way back to a draft: only the revision, confirmed.
    expect(sheet.get_by_role("button", name="保存草稿")).to_have_count(0)
    resubmit = sheet.get_by_role("button", name="提交修改")
    expect(resubmit).to_be_enabled()
    dismiss_toasts(page)
    screenshot_of(sheet_box(sheet), "safety-submitted-sheet-changed")
    total = metric(sheet, TOTAL).get_by_test_id("stMetricValue").inner_text().strip()
    resubmit.click()
    wait_for_app(page)
    confirmation = submit_confirmation(page)
    expect(confirmation).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(confirmation).to_contain_text(f"合计 {total} 分")
    confirmation.get_by_role("button", name="确认提交").click()
    wait_for_app(page)
    expect(submit_confirmation(page)).to_have_count(0)
    sheet = score_sheet(page)
    expect(sheet.get_by_text(BADGE_SUBMITTED, exact=True)).to_be_visible()
    expect(criterion_input(sheet, "实用性")).to_have_value(str(changed))

    # Still counted: the progress bar has not moved.
    go_to(page, "我的进度")
    assert progress_counts(page) == before
    open_entry(page, demo_server.base_url, SUBMITTED_ENTRY)
    expect(criterion_input(score_sheet(page), "实用性")).to_have_value(str(changed))


def test_a_stored_draft_opens_with_its_values_in_every_fresh_session(page, demo_server, browser):
    """Regression: a stored draft once opened as 0/0/0/0 in a fresh session.

    The boxes were drawn at their minimum and told the stored value afterwards, so a fresh
    session showed zeros first; a run in that moment could take them as typed. Every value
    the boxes show from the first paint on is recorded in the browser and checked.
    """
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    sheet = open_entry(page, demo_server.base_url, DRAFT_ENTRY)
    for name, points in DRAFT_POINTS.items():
        set_number(page, criterion_input(sheet, name), points)
    sheet.get_by_role("button", name="保存草稿").click()
    wait_for_app(page)
    expect(sheet.get_by_text(BADGE_DRAFT, exact=True)).to_be_visible()
    signed_in = page.context.storage_state()  # the login cookie, for new browser contexts
    expected = [str(p) for p in DRAFT_POINTS.values()]

    for attempt in range(FRESH_SESSIONS):
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN", storage_state=signed_in)
        context.add_init_script(RECORD_SHOWN_VALUES)
        try:
            fresh = context.new_page()
            sheet = open_entry(fresh, demo_server.base_url, DRAFT_ENTRY)
            expect(sheet.get_by_text(BADGE_DRAFT, exact=True)).to_be_visible()
            for name, points in DRAFT_POINTS.items():
                expect(criterion_input(sheet, name), f"session {attempt + 1}").to_have_value(
                    str(points)
                )
            expect(metric(sheet, TOTAL).get_by_test_id("stMetricValue")).to_have_text(DRAFT_TOTAL)
            fresh.wait_for_timeout(300)  # no later run may put other values in
            shown = fresh.evaluate("window.shownValues")
            wrong = [values for values in shown if not in_order_within(values, expected)]
            assert wrong == [], (attempt + 1, shown)
            if attempt == 0:
                screenshot_of(sheet_box(sheet), "safety-draft-fresh-session")
        finally:
            context.close()


def test_an_off_step_value_is_refused_with_the_criterion_and_its_step(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    sheet = open_entry(page, demo_server.base_url, OFF_STEP_ENTRY)
    for name, points in {"创新性": 20, "成效性": 20, "示范推广价值": 10}.items():
        set_number(page, criterion_input(sheet, name), points)
    field = criterion_input(sheet, "实用性")
    field.fill("12.5")
    field.press("Enter")
    wait_for_app(page)

    # The value stays as typed and the reviewer is told why it cannot be saved.
    expect(field).to_have_value("12.5")
    problem = sheet.get_by_text("“实用性”的分数 12.5 不是步长 1 的整数倍")
    expect(problem).to_be_visible()
    expect(metric(sheet, TOTAL).get_by_test_id("stMetricValue")).to_have_text("—")
    expect(sheet.get_by_role("button", name="提交评分")).to_be_disabled()
    dismiss_toasts(page)
    screenshot_of(sheet_box(sheet), "safety-off-step-refused")

    # A draft save is refused too, the typed value still there. The three values on the
    # step were kept as a draft as they were typed (autosave); the off-step one is not.
    sheet.get_by_role("button", name="保存草稿").click()
    wait_for_app(page)
    expect(field).to_have_value("12.5")
    expect(sheet.get_by_text(BADGE_DRAFT, exact=True)).to_be_visible()
    expect(alerts(page).filter(has_text="不是步长 1 的整数倍").first).to_be_visible()

    # A value on the step is taken.
    set_number(page, field, 12)
    expect(problem).to_have_count(0)
    expect(metric(sheet, TOTAL).get_by_test_id("stMetricValue")).to_have_text("62.00")

    page.set_viewport_size(PHONE)
    wait_for_app(page)
    field.fill("7.5")
    field.press("Enter")
    wait_for_app(page)
    expect(sheet.get_by_text("“实用性”的分数 7.5 不是步长 1 的整数倍")).to_be_visible()
    dismiss_toasts(page)
    screenshot_of(sheet_box(sheet), "safety-off-step-refused-phone")


def test_declaring_a_conflict_is_confirmed_and_shown_afterwards(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    submitted, assigned, drafts = progress_counts(page)
    open_entry(page, demo_server.base_url, CONFLICT_ENTRY)
    box = main_area(page).get_by_test_id("stExpander").filter(has_text="声明利益冲突")
    box.locator("summary").click()
    wait_for_app(page)
    box.get_by_role("button", name="声明回避").click()
    wait_for_app(page)

    # First a confirmation that says what will happen; nothing has happened yet.
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=RUN_TIMEOUT_MS)
    expect(dialog).to_contain_text("已提交的评分将被撤回")
    expect(dialog).to_contain_text("从您的列表中移除")
    screenshot(page, "safety-conflict-confirm")
    dialog.get_by_role("button", name="取消").click()
    wait_for_app(page)
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(titles(page)).to_have_text([re.compile(rf"^{CONFLICT_ENTRY} · ")])
    go_to(page, "我的进度")
    assert progress_counts(page) == (submitted, assigned, drafts)  # cancelled: nothing changed

    open_entry(page, demo_server.base_url, CONFLICT_ENTRY)
    box = main_area(page).get_by_test_id("stExpander").filter(has_text="声明利益冲突")
    box.locator("summary").click()
    wait_for_app(page)
    box.get_by_role("button", name="声明回避").click()
    wait_for_app(page)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible(timeout=RUN_TIMEOUT_MS)
    dialog.get_by_label("回避原因").fill("曾参与该项目的咨询工作")
    dialog.get_by_label("回避原因").press("Enter")
    wait_for_app(page)
    page.set_viewport_size(PHONE)
    screenshot(page, "safety-conflict-confirm-phone")
    page.set_viewport_size(DESKTOP)
    dialog.get_by_role("button", name="确认声明回避").click()
    wait_for_app(page)
    expect(titles(page)).to_have_text(["作品库"])
    assert progress_counts(page) == (submitted - 1, assigned - 1, drafts)

    # The progress page lists the declaration.
    go_to(page, "我的进度")
    declared = main_area(page).get_by_test_id("stVerticalBlock").filter(has_text="已声明回避的作品")
    expect(declared.last).to_contain_text(CONFLICT_ENTRY)
    expect(declared.last).to_contain_text("曾参与该项目的咨询工作")
    expect(metric(main_area(page), "已声明回避").get_by_test_id("stMetricValue")).to_have_text("1")
    dismiss_toasts(page)
    screenshot(page, "safety-progress-conflicts")
    screenshot_of(declared.last, "safety-progress-conflicts-list")
    page.set_viewport_size(PHONE)
    wait_for_app(page)
    screenshot_of(declared.last, "safety-progress-conflicts-phone")
    page.set_viewport_size(DESKTOP)

    # The entry's address says so in words, not with an action name.
    open_logged_in(page, demo_server.base_url, f"entry?code={CONFLICT_ENTRY}")
    expect(alerts(page)).to_have_text([re.compile("您已声明与该作品存在利益冲突")])
    expect(main_area(page)).not_to_contain_text("entry.view")
    expect(main_area(page).get_by_test_id("stNumberInput")).to_have_count(0)
    screenshot(page, "safety-conflicted-entry-refused")
