"""Scoring on a phone, the sheet beside the material, and nothing typed lost (issue 14, 1–3).

Measured in Chromium at the sizes a reviewer uses: a phone (390×844), a tablet (768×1024)
and a desktop (1400×900). Screenshots go to /tmp/shots/h1/ besides the usual artefacts.

This module has a demo server of its own (its writes change expert5's sheets). In the demo
expert5 has QD2020-001..018 submitted, 019 as a draft and 020..036 to score.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_helpers import (
    criterion_input,
    go_to,
    login,
    main_area,
    open_app,
    open_logged_in,
    refresh_docs_screenshot,
    screenshot,
    set_number,
    wait_for_app,
)
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

EXPERT = "expert5"
SHEET = "专家评审评分表"
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1400, "height": 900}
SHOTS = Path("/tmp/shots/h1")
BADGE_NEW = "尚未评分"
BADGE_DRAFT = "草稿（未提交，不计入排名）"
BADGE_SUBMITTED = "已提交"
AUTOSAVED = re.compile(r"^草稿已自动保存 \d\d:\d\d$")


@pytest.fixture(scope="module")
def demo_server(module_demo_server):
    """This module's own server (see the module docstring)."""
    return module_demo_server


def shot(page: Page, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
    screenshot(page, f"entry-layout-{name}")


def score_sheet(page: Page) -> Locator:
    return (
        main_area(page)
        .get_by_test_id("stColumn")
        .filter(has=page.get_by_role("heading", name=SHEET))
    )


def sheet_heading(page: Page) -> Locator:
    return main_area(page).get_by_role("heading", name=SHEET)


def open_entry(page: Page, base_url: str, code: str) -> Locator:
    open_logged_in(page, base_url, f"entry?code={code}")
    expect(sheet_heading(page)).to_be_visible()
    return score_sheet(page)


def open_pdf(page: Page) -> Locator:
    reader = main_area(page).get_by_test_id("stExpander").filter(has_text="在页面中阅读")
    reader.locator("summary").click()
    wait_for_app(page)
    viewer = reader.get_by_test_id("pdf-container")
    expect(viewer.locator("canvas").first).to_be_visible()
    page.wait_for_timeout(1500)  # the width is fitted once the page is drawn
    return viewer


def assert_pdf_fits(viewer: Locator) -> None:
    box, canvas = viewer.bounding_box(), viewer.locator("canvas").first.bounding_box()
    assert box and canvas, (box, canvas)
    assert canvas["width"] <= box["width"] + 1, (canvas, box)
    assert canvas["width"] >= box["width"] * 0.8, (canvas, box)  # fitted, not shrunk away


def scroll_main(page: Page, by: int) -> None:
    """Scroll the page's main area the way a reader does, with the wheel over the material."""
    page.mouse.move(page.viewport_size["width"] * 0.3, page.viewport_size["height"] * 0.6)
    page.mouse.wheel(0, by)
    page.wait_for_timeout(600)


@pytest.mark.parametrize("size", [PHONE, TABLET], ids=["phone", "tablet"])
def test_on_a_narrow_screen_the_sheet_comes_first_and_the_pdf_fits(page, demo_server, size):
    page.set_viewport_size(size)
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    open_entry(page, demo_server.base_url, "QD2020-030")
    heading = sheet_heading(page).bounding_box()
    image = main_area(page).get_by_test_id("stImage").first.bounding_box()
    assert heading and image
    # Within the first screen, and above the images (not ~2,900 px down as before).
    assert heading["y"] < size["height"] * 0.75, heading
    assert heading["y"] < image["y"], (heading, image)
    shot(page, f"entry-{size['width']}")
    if size == PHONE:
        path = SHOTS / "score-sheet-phone.png"
        page.screenshot(path=str(path))
        refresh_docs_screenshot(path, "score-sheet-phone.png")
    viewer = open_pdf(page)
    assert_pdf_fits(viewer)
    viewer.scroll_into_view_if_needed()
    shot(page, f"entry-{size['width']}-pdf")


def test_on_a_phone_the_gallery_is_a_compact_list(page, demo_server):
    page.set_viewport_size(PHONE)
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    cards = main_area(page).locator("[class*='st-key-card_']")
    expect(cards).to_have_count(36)
    for card in cards.all()[:5]:
        box, picture = card.bounding_box(), card.locator("img").first.bounding_box()
        assert box and picture
        assert box["height"] < 200, box  # one row of text beside a thumbnail, not a poster
        assert picture["width"] <= 100, picture
        assert picture["x"] < box["x"] + 40, (picture, box)  # the thumbnail beside the text
    shot(page, "gallery-390")


def test_on_a_desktop_the_sheet_stays_beside_the_material(page, demo_server):
    page.set_viewport_size(DESKTOP)
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    open_entry(page, demo_server.base_url, "QD2020-031")
    viewer = open_pdf(page)
    assert_pdf_fits(viewer)
    pdf, heading = viewer.bounding_box(), sheet_heading(page).bounding_box()
    assert pdf and heading
    assert pdf["x"] + pdf["width"] < heading["x"], (pdf, heading)  # side by side
    page.evaluate("document.querySelector('[data-testid=stMain]').scrollTop = 0")
    scroll_main(page, 700)
    moved = page.evaluate("document.querySelector('[data-testid=stMain]').scrollTop")
    assert moved > 300, moved  # the material did scroll
    heading = sheet_heading(page).bounding_box()
    assert heading and 0 <= heading["y"] < DESKTOP["height"] / 3, heading
    expect(sheet_heading(page)).to_be_in_viewport()
    shot(page, "entry-1400-scrolled")


def watch_dialogs(page: Page) -> list[str]:
    """The types of the dialogs the page asks; each is accepted (the page is left)."""
    seen: list[str] = []

    def answer(dialog) -> None:
        seen.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    return seen


def test_a_draft_is_saved_as_typed_and_survives_a_reload(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    dialogs = watch_dialogs(page)
    sheet = open_entry(page, demo_server.base_url, "QD2020-032")
    expect(sheet.get_by_text(BADGE_NEW, exact=True)).to_be_visible()

    # Leaving a box saves: a draft, never a submission, with the time it was saved.
    set_number(page, criterion_input(sheet, "创新性"), 21)
    expect(sheet.get_by_text(AUTOSAVED)).to_be_visible()
    expect(sheet.get_by_text(BADGE_DRAFT, exact=True)).to_be_visible()

    # A pause in typing saves too, without leaving the box.
    field = criterion_input(sheet, "成效性")
    field.click()
    field.press_sequentially("19")
    page.wait_for_timeout(3500)
    wait_for_app(page)
    expect(field).to_be_focused()  # the reviewer keeps typing where they were
    comment = sheet.get_by_role("textbox", name="评语")
    comment.click()
    comment.press_sequentially("材料翔实")
    page.wait_for_timeout(3500)
    wait_for_app(page)
    shot(page, "autosaved-1400")

    page.reload()
    wait_for_app(page)
    sheet = open_entry(page, demo_server.base_url, "QD2020-032")
    expect(criterion_input(sheet, "创新性")).to_have_value("21")
    expect(criterion_input(sheet, "成效性")).to_have_value("19")
    expect(sheet.get_by_role("textbox", name="评语")).to_have_value("材料翔实")
    expect(sheet.get_by_text(BADGE_DRAFT, exact=True)).to_be_visible()
    expect(sheet.get_by_text(BADGE_SUBMITTED, exact=True)).to_have_count(0)
    assert dialogs == [], dialogs  # everything was stored: leaving asked nothing


@pytest.mark.parametrize("leave", ["sidebar", "next"], ids=["to-the-gallery", "next-entry"])
def test_typing_then_leaving_inside_the_app_keeps_the_draft(page, demo_server, leave):
    """The reviewer types a score and at once clicks another page (or 下一件待评作品): the
    box is left by that click, so its value is saved as a draft before the page goes."""
    code, criterion = ("QD2020-034", "创新性") if leave == "sidebar" else ("QD2020-035", "成效性")
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    sheet = open_entry(page, demo_server.base_url, code)
    field = criterion_input(sheet, criterion)
    field.click()
    field.press_sequentially("17")  # no pause: the page is left at once
    if leave == "sidebar":
        go_to(page, "作品库")
    else:
        main_area(page).get_by_role("button", name="下一件待评作品 →").click()
        wait_for_app(page)
    sheet = open_entry(page, demo_server.base_url, code)
    expect(criterion_input(sheet, criterion)).to_have_value("17")
    expect(sheet.get_by_text(BADGE_DRAFT, exact=True)).to_be_visible()


def test_leaving_with_unsaved_typing_warns(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    dialogs = watch_dialogs(page)
    sheet = open_entry(page, demo_server.base_url, "QD2020-033")
    field = criterion_input(sheet, "实用性")
    field.click()
    field.press_sequentially("9")  # not handed over yet: only the browser holds it
    page.reload()
    wait_for_app(page)
    assert dialogs == ["beforeunload"], dialogs


def test_a_submitted_sheet_is_never_changed_by_autosave(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    dialogs = watch_dialogs(page)
    sheet = open_entry(page, demo_server.base_url, "QD2020-006")
    expect(sheet.get_by_text(BADGE_SUBMITTED, exact=True)).to_be_visible()
    field = criterion_input(sheet, "实用性")
    stored = field.input_value()
    changed = "5" if stored != "5" else "6"
    set_number(page, field, changed)
    expect(sheet.get_by_text("已提交的评分不自动保存", exact=False)).to_be_visible()
    expect(sheet.get_by_text(AUTOSAVED)).to_have_count(0)
    shot(page, "submitted-changed-1400")

    page.reload()  # the change is not stored: leaving warns
    wait_for_app(page)
    assert dialogs == ["beforeunload"], dialogs
    sheet = open_entry(page, demo_server.base_url, "QD2020-006")
    expect(criterion_input(sheet, "实用性")).to_have_value(stored)
    expect(sheet.get_by_text(BADGE_SUBMITTED, exact=True)).to_be_visible()


def test_an_autosave_never_overwrites_another_tabs_save(page, demo_server, browser):
    open_app(page, demo_server.base_url)
    login(page, EXPERT)
    sheet = open_entry(page, demo_server.base_url, "QD2020-034")
    set_number(page, criterion_input(sheet, "创新性"), 11)
    expect(sheet.get_by_text(AUTOSAVED)).to_be_visible()

    other = browser.new_context(
        viewport=DESKTOP, locale="zh-CN", storage_state=page.context.storage_state()
    )
    try:
        tab = other.new_page()
        other_sheet = open_entry(tab, demo_server.base_url, "QD2020-034")
        set_number(tab, criterion_input(other_sheet, "创新性"), 25)
        expect(other_sheet.get_by_text(AUTOSAVED)).to_be_visible()
    finally:
        other.close()

    # This tab's next autosave is refused: told, paused, what it typed kept on screen.
    set_number(page, criterion_input(sheet, "成效性"), 12)
    expect(sheet.get_by_text("自动保存已暂停")).to_be_visible()
    expect(criterion_input(sheet, "创新性")).to_have_value("11")
    shot(page, "autosave-stale-1400")
    sheet.get_by_role("button", name="载入最新版本").click()
    wait_for_app(page)
    expect(criterion_input(sheet, "创新性")).to_have_value("25")  # the other tab's save
    expect(criterion_input(sheet, "成效性")).to_have_value("")
