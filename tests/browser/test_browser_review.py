"""Reviewing as a reviewer meets it: gallery, entry page, score sheet, and the live standings.

The tests share one demo server, so each one writes to its own reviewer/entry pair, picked
among those the demo leaves open (``scoring/demo/builder.py``): expert5 has QD2020-001..018
submitted, 019 as a draft and 020..036 to score; media2 has 001..029 submitted, 030 as a
draft and 031..036 to score. No other test writes a sheet of expert5 or media2.
"""

from __future__ import annotations

import re
import time

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
    nav_labels,
    open_app,
    open_logged_in,
    pick_many,
    screenshot,
    screenshot_of,
    set_number,
    sidebar,
    titles,
    wait_for_app,
    wait_for_logged_in_page,
)
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

EXPERT = "expert5"
EXPERT_ENTRY = "QD2020-035"  # 数字社会 · 人工智能, still to score for expert5
EXPERT_DOMAIN = "人工智能"
# Expert rubric (step 1): 创新性 30, 成效性 30, 实用性 20, 示范推广价值 20.
EXPERT_POINTS = {"创新性": 25, "成效性": 24, "实用性": 16, "示范推广价值": 15}
EXPERT_TOTAL = "80.00"  # (25 + 24 + 16 + 15) / 100 * 100

# media3 is locked for 15 minutes by test_browser_access's lockout test, so the media
# tests use media1 (read only) and media2 (writes one sheet).
MEDIA_READER = "media1"
MEDIA_WRITER = "media2"
MEDIA_ENTRY = "QD2020-036"  # still to score for media2
# Media rubric (step 0.5): 传播价值 40, 社会反响 30, 亮点特色 30.
MEDIA_POINTS = {"传播价值": "36.5", "社会反响": "25", "亮点特色": "27.5"}
MEDIA_TOTAL = "89.00"

UNASSIGNED_ENTRY = "DGP2020-01"  # of dg-person-2020, where expert5 has no assignment
OTHER_CAMPAIGN = "2020数字政府创新人物评选"

PROGRESS = re.compile(r"已提交 (\d+) / (\d+)，草稿 (\d+)")
REFRESH_BUDGET_MS = 20_000  # the standings fragment re-runs every 5 s by default

BADGE_NEW = "尚未评分"
BADGE_DRAFT = "草稿（未提交，不计入排名）"
BADGE_SUBMITTED = "已提交"


def is_pdf(response) -> bool:
    return "/media/" in response.url and response.url.endswith(".pdf")


def submit_confirmation(page: Page) -> Locator:
    """The question the sheet asks before a submission counts (inside the sheet, no dialog)."""
    return main_area(page).locator("[class*='st-key-confirm_box_']")


def progress_counts(page: Page) -> tuple[int, int, int]:
    """(submitted, assigned, drafts) read from the reviewer's progress bar."""
    bar = main_area(page).get_by_test_id("stProgress")
    expect(bar).to_contain_text(PROGRESS)
    found = PROGRESS.search(bar.inner_text())
    assert found, bar.inner_text()
    submitted, assigned, drafts = (int(n) for n in found.groups())
    return submitted, assigned, drafts


def cards(page: Page) -> Locator:
    """The gallery's entry cards (each a column holding an entry link)."""
    return main_area(page).get_by_test_id("stColumn").filter(has=page.get_by_test_id("stPageLink"))


def score_sheet(page: Page, heading: str) -> Locator:
    """The entry page's right-hand column, which holds the score sheet."""
    return (
        main_area(page)
        .get_by_test_id("stColumn")
        .filter(has=page.get_by_role("heading", name=heading))
    )


def sheet_box(sheet: Locator) -> Locator:
    """The bordered box of the score sheet itself (for a screenshot of just the sheet)."""
    return (
        sheet.get_by_test_id("stVerticalBlock")
        .filter(has=sheet.page.get_by_test_id("stNumberInput"))
        .last
    )


def badge(scope: Locator, text: str) -> Locator:
    return scope.get_by_text(text, exact=True)


def open_entry_from_card(page: Page, code: str, link_label: str) -> None:
    card = cards(page).filter(has_text=code)
    expect(card).to_have_count(1)
    card.get_by_role("link").filter(has_text=link_label).click()
    wait_for_app(page)
    expect(page).to_have_url(re.compile(rf"/entry\?(.*&)?code={code}(&|$)"))
    expect(titles(page)).to_have_text([re.compile(rf"^{code} · ")])


def test_expert_filters_the_gallery_reads_an_entry_and_scores_it(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    expect(titles(page)).to_have_text(["作品库"])  # the reviewer's default page
    expect(nav_labels(page)).to_have_text(["作品库", "我的进度", "我的评分", "我的账号"])
    submitted, assigned, drafts = progress_counts(page)
    assert assigned == 36

    # Filter: only what is still to score, in one domain.
    pick_many(page, "我的状态", "待评分")
    pick_many(page, "领域", EXPERT_DOMAIN)
    count = main_area(page).get_by_text(re.compile(r"^显示 \d+ / \d+ 件$"))
    expect(count).to_have_text(re.compile(rf"^显示 \d+ / {assigned} 件$"))
    shown = int(re.search(r"显示 (\d+)", count.inner_text()).group(1))
    assert 0 < shown < assigned
    expect(cards(page)).to_have_count(shown)
    for card in cards(page).all():
        expect(card).to_contain_text(f"· {EXPERT_DOMAIN}")
        expect(badge(card, "待评分")).to_be_visible()
        expect(badge(card, BADGE_SUBMITTED)).to_have_count(0)
    screenshot(page, "review-gallery-filtered-zh")

    # Open the entry from its card. The PDF viewer fetches its file as soon as it is drawn,
    # still collapsed; stepping the images right away must not break that fetch (a button
    # that cut its run short with st.rerun() once made the file 404: "PDF not found").
    pdf_replies: list[int] = []
    page.on("response", lambda reply: pdf_replies.append(reply.status) if is_pdf(reply) else None)
    open_entry_from_card(page, EXPERT_ENTRY, "评分")
    expect(main_area(page).get_by_role("link", name="← 返回作品库")).to_be_visible()

    # Step through the images: the caption and the picture change.
    image = main_area(page).get_by_test_id("stImage").locator("img").first
    expect(main_area(page).get_by_text("图片 1 / 4", exact=True)).to_be_visible()
    first_src = image.get_attribute("src")
    main_area(page).get_by_role("button", name="下一张").click()
    wait_for_app(page)
    expect(main_area(page).get_by_text("图片 2 / 4", exact=True)).to_be_visible()
    expect(image).not_to_have_attribute("src", first_src)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )

    # The material: a download button, and the PDF read in the page; the entry's dossier.
    downloads = main_area(page).get_by_test_id("stDownloadButton")
    expect(downloads).to_have_count(2)
    expect(downloads.filter(has_text="下载材料汇编（PDF）")).to_have_count(1)
    reader = main_area(page).get_by_test_id("stExpander").filter(has_text="在页面中阅读")
    reader.locator("summary").click()
    wait_for_app(page)
    # st.pdf is a Streamlit component (streamlit-pdf) drawing each page on a canvas.
    viewer = reader.get_by_test_id("pdf-container")
    expect(viewer).to_be_visible()
    expect(viewer.locator("canvas").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    box = viewer.bounding_box()
    assert box is not None and box["height"] > 300, box
    assert pdf_replies and set(pdf_replies) == {200}, pdf_replies
    screenshot(page, "review-entry-zh")

    # The score sheet: empty, the total waits for every criterion.
    sheet = score_sheet(page, "专家评审评分表")
    expect(sheet).to_have_count(1)
    expect(badge(sheet, BADGE_NEW)).to_be_visible()
    submit = sheet.get_by_role("button", name="提交评分")
    total = metric(sheet, "合计（折算百分制）").get_by_test_id("stMetricValue")
    names = list(EXPERT_POINTS)
    for name in names[:-1]:
        set_number(page, criterion_input(sheet, name), EXPERT_POINTS[name])
    expect(total).to_have_text("—")
    expect(sheet.get_by_text("还有 1 项未评分", exact=True)).to_be_visible()
    expect(submit).to_be_disabled()
    set_number(page, criterion_input(sheet, names[-1]), EXPERT_POINTS[names[-1]])
    expect(total).to_have_text(EXPERT_TOTAL)
    expect(submit).to_be_enabled()

    # A draft first: saved, shown as such, not counted.
    sheet.get_by_role("button", name="保存草稿").click()
    wait_for_app(page)
    expect(badge(sheet, BADGE_DRAFT)).to_be_visible()
    dismiss_toasts(page)
    screenshot_of(sheet_box(sheet), "review-score-sheet-draft-zh")

    # Then submitted through the confirmation the sheet asks for.
    submit.click()
    wait_for_app(page)
    confirmation = submit_confirmation(page)
    expect(confirmation).to_contain_text(f"提交作品“{EXPERT_ENTRY}”的评分，合计 {EXPERT_TOTAL} 分")
    confirmation.get_by_role("button", name="确认提交").click()
    wait_for_app(page)
    expect(submit_confirmation(page)).to_have_count(0)
    sheet = score_sheet(page, "专家评审评分表")
    expect(badge(sheet, BADGE_SUBMITTED)).to_be_visible()
    expect(badge(sheet, BADGE_DRAFT)).to_have_count(0)
    expect(sheet.get_by_role("button", name="提交修改")).to_be_visible()
    for name, points in EXPERT_POINTS.items():
        expect(criterion_input(sheet, name)).to_have_value(str(points))
    expect(metric(sheet, "合计（折算百分制）").get_by_test_id("stMetricValue")).to_have_text(
        EXPERT_TOTAL
    )
    dismiss_toasts(page)
    screenshot_of(sheet_box(sheet), "review-score-sheet-submitted-zh")

    # Back in the gallery the bar has moved by one; the draft count is as before.
    main_area(page).get_by_role("link", name="← 返回作品库").click()
    wait_for_app(page)
    expect(titles(page)).to_have_text(["作品库"])
    expect(main_area(page).get_by_test_id("stProgress")).to_contain_text(
        f"已提交 {submitted + 1} / {assigned}，草稿 {drafts}"
    )
    expect(badge(cards(page).filter(has_text=EXPERT_ENTRY), BADGE_SUBMITTED)).to_be_visible()
    dismiss_toasts(page)
    screenshot(page, "review-gallery-after-submit-zh")

    # ... and on 我的进度, where the entry has left the to-do list.
    go_to(page, "我的进度")
    expect(titles(page)).to_have_text(["我的进度"])
    expect(main_area(page).get_by_test_id("stProgress")).to_contain_text(
        f"已提交 {submitted + 1} / {assigned}，草稿 {drafts}"
    )
    expect(metric(main_area(page), "已提交").get_by_test_id("stMetricValue")).to_have_text(
        str(submitted + 1)
    )
    expect(main_area(page).get_by_text(EXPERT_ENTRY, exact=True)).to_have_count(0)

    # The same pages in English.
    sidebar(page).get_by_text("English", exact=True).click()
    wait_for_app(page)
    go_to(page, "Entries")
    expect(titles(page)).to_have_text(["Entries"])
    expect(main_area(page).get_by_test_id("stProgress")).to_contain_text(
        f"{submitted + 1} of {assigned} submitted · drafts: {drafts}"
    )
    screenshot(page, "review-gallery-en")
    open_entry_from_card(page, EXPERT_ENTRY, "Score")
    # The session remembers the image last shown (the second one).
    expect(main_area(page).get_by_text("Image 2 of 4", exact=True)).to_be_visible()
    sheet = score_sheet(page, "Expert panel score sheet")
    expect(badge(sheet, "Submitted")).to_be_visible()
    for name, points in EXPERT_POINTS.items():
        expect(criterion_input(sheet, name)).to_have_value(str(points))
    expect(metric(sheet, "Total (out of 100)").get_by_test_id("stMetricValue")).to_have_text(
        EXPERT_TOTAL
    )
    screenshot(page, "review-entry-en")


def test_expert_cannot_open_an_entry_not_assigned_to_them(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, EXPERT)

    # The other campaign is not even offered: expert5 has no assignment in it.
    picker = sidebar(page).get_by_role("combobox", name="评选活动")
    picker.click()
    expect(page.get_by_role("option")).to_have_text(["2020青岛信息化典型案例评选"])
    expect(page.get_by_role("option", name=OTHER_CAMPAIGN)).to_have_count(0)
    page.keyboard.press("Escape")

    # Typing the URL of one of its entries shows an error and nothing of the entry.
    open_logged_in(page, demo_server.base_url, f"entry?code={UNASSIGNED_ENTRY}")
    expect(alerts(page)).to_have_text([f"找不到作品“{UNASSIGNED_ENTRY}”。"])
    expect(titles(page)).to_have_count(0)
    expect(main_area(page).get_by_test_id("stNumberInput")).to_have_count(0)
    expect(main_area(page).get_by_test_id("stImage")).to_have_count(0)
    expect(main_area(page).get_by_test_id("stDownloadButton")).to_have_count(0)
    expect(main_area(page).get_by_role("button", name="提交评分")).to_have_count(0)
    expect(main_area(page).get_by_role("button", name="保存草稿")).to_have_count(0)
    expect(main_area(page).get_by_text("评分表")).to_have_count(0)
    screenshot(page, "review-unassigned-entry-refused")


def test_media_evaluator_sees_the_media_rubric(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, MEDIA_READER)
    expect(titles(page)).to_have_text(["作品库"])
    open_entry_from_card(page, "QD2020-002", "评分")

    sheet = score_sheet(page, "媒体评测评分表")
    expect(sheet).to_have_count(1)
    expect(sheet.locator("strong")).to_have_text(["传播价值", "社会反响", "亮点特色"])
    expect(sheet.get_by_test_id("stNumberInput")).to_have_count(3)
    for name, maximum in (("传播价值", 40), ("社会反响", 30), ("亮点特色", 30)):
        field = criterion_input(sheet, name)
        expect(field).to_have_count(1)
        expect(field).to_have_attribute("aria-label", f"0–{maximum} 分，步长 0.5")
    for expert_criterion in ("创新性", "成效性", "实用性", "示范推广价值"):
        expect(page.get_by_text(expert_criterion)).to_have_count(0)
    expect(page.get_by_text("专家评审评分表")).to_have_count(0)
    screenshot_of(sheet_box(sheet), "review-media-score-sheet-zh")


def test_standings_follow_a_submission_made_in_another_browser(page, demo_server, browser):
    # The organiser's screen: the live standings, left alone once open.
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    go_to(page, "实时排名")
    expect(titles(page)).to_have_text(["实时排名"])
    coverage_label = (
        main_area(page)
        .get_by_test_id("stMetricLabel")
        .filter(has_text=re.compile(r"^媒体评测：已评 \d+ 份$"))
    )
    expect(coverage_label).to_have_count(1)
    before = coverage_label.inner_text().strip()
    reviews = int(re.search(r"已评 (\d+) 份", before).group(1))
    screenshot(page, "review-live-standings-before")
    page.evaluate("window.reviewdeskNotReloaded = true")  # gone if the page were reloaded

    # The media evaluator's screen, in a second browser context.
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_timeout(RUN_TIMEOUT_MS)
    try:
        reviewer = context.new_page()
        open_app(reviewer, demo_server.base_url)
        login(reviewer, MEDIA_WRITER)
        open_logged_in(reviewer, demo_server.base_url, f"entry?code={MEDIA_ENTRY}")
        sheet = score_sheet(reviewer, "媒体评测评分表")
        expect(badge(sheet, BADGE_NEW)).to_be_visible()
        for name, points in MEDIA_POINTS.items():
            set_number(reviewer, criterion_input(sheet, name), points)
        expect(metric(sheet, "合计（折算百分制）").get_by_test_id("stMetricValue")).to_have_text(
            MEDIA_TOTAL
        )
        sheet.get_by_role("button", name="提交评分").click()
        wait_for_app(reviewer)
        submit_confirmation(reviewer).get_by_role("button", name="确认提交").click()
        wait_for_app(reviewer)
        submitted_at = time.monotonic()
        expect(badge(score_sheet(reviewer, "媒体评测评分表"), BADGE_SUBMITTED)).to_be_visible()
        screenshot(reviewer, "review-live-media-submitted")
    finally:
        context.close()

    # No click, no reload on the organiser's page: the fragment refreshes by itself.
    expect(coverage_label).to_have_text(
        f"媒体评测：已评 {reviews + 1} 份", timeout=REFRESH_BUDGET_MS
    )
    waited = time.monotonic() - submitted_at
    print(f"the standings showed the new sheet {waited:.1f} s after it was submitted")
    assert page.evaluate("window.reviewdeskNotReloaded === true")
    screenshot(page, "review-live-standings-after")
    assert waited < REFRESH_BUDGET_MS / 1000, waited


def test_reopening_a_scored_entry_in_the_same_session_shows_its_stored_points(page, demo_server):
    """Regression: the sheet once came back with every criterion at 0 (total 0.00).

    pages/entry.py loaded the stored sheet into the widgets only while its version key was
    missing from st.session_state; that plain key survived a page change while Streamlit
    dropped the widget keys, so the inputs fell back to 0 and 提交修改 would have sent zeros.
    """
    # Read only: media1's submitted sheet of QD2020-004 is not written by any test.
    code = "QD2020-004"
    open_app(page, demo_server.base_url)
    login(page, MEDIA_READER)
    open_logged_in(page, demo_server.base_url, f"entry?code={code}")
    sheet = score_sheet(page, "媒体评测评分表")
    expect(badge(sheet, BADGE_SUBMITTED)).to_be_visible()
    total = metric(sheet, "合计（折算百分制）").get_by_test_id("stMetricValue")
    expect(total).to_have_text(re.compile(r"^\d+\.\d\d$"))
    stored_total = total.inner_text().strip()
    stored = {name: criterion_input(sheet, name).input_value() for name in MEDIA_POINTS}
    assert all(float(v) > 0 for v in stored.values()), stored

    # A reload is a new session: the same points.
    page.reload()
    main_area(page).locator("[data-testid='stElementContainer']").first.wait_for()
    wait_for_logged_in_page(page)
    sheet = score_sheet(page, "媒体评测评分表")
    for name, value in stored.items():
        expect(criterion_input(sheet, name)).to_have_value(value)

    # Away to the gallery and back through the card's link, in the same session.
    main_area(page).get_by_role("link", name="← 返回作品库").click()
    wait_for_app(page)
    expect(titles(page)).to_have_text(["作品库"])
    open_entry_from_card(page, code, "评分")
    sheet = score_sheet(page, "媒体评测评分表")
    expect(badge(sheet, BADGE_SUBMITTED)).to_be_visible()
    screenshot(page, "review-reopened-entry-points")
    for name, value in stored.items():
        expect(criterion_input(sheet, name)).to_have_value(value)
    expect(metric(sheet, "合计（折算百分制）").get_by_test_id("stMetricValue")).to_have_text(
        stored_total
    )
