"""A demo reviewer's own scores in the browser, on a desktop and on a phone (issue 14.5).

Reads only: the demo's expert4 has most of their qd-2020 sheets submitted and a few to do
(``scoring/demo/builder.py``); no test writes their sheets. What the page must show is read
from the server's own database: every one of their sheets, and no sheet of anybody else.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from browser_helpers import (
    dismiss_toasts,
    login,
    main_area,
    nav_titles,
    open_app,
    open_logged_in,
    refresh_docs_screenshot,
    screenshot,
    screenshot_of,
    titles,
    wait_for_app,
)
from playwright.sync_api import Page, expect
from sqlmodel import select

from scoring.storage.database import Database
from scoring.storage.models import Account, Campaign, Entry, ScoreSheet

pytestmark = pytest.mark.browser

REVIEWER = "expert4"
CAMPAIGN = "qd-2020"
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
SHOTS = "/tmp/shots/h3"


def _sheets(data_dir) -> tuple[dict[str, str], set[str]]:
    """expert4's sheets in qd-2020 (code -> status), and the codes only others scored."""
    database = Database(f"sqlite:///{(data_dir / 'reviewdesk.db').resolve()}")
    try:
        with database.read() as session:
            rows = session.exec(
                select(Entry.code, Account.username, ScoreSheet.status)
                .join(Entry, Entry.id == ScoreSheet.entry_id)
                .join(Account, Account.id == ScoreSheet.reviewer_id)
                .join(Campaign, Campaign.id == Entry.campaign_id)
                .where(Campaign.slug == CAMPAIGN)
            ).all()
    finally:
        database.dispose()
    mine = {code: status for code, user, status in rows if user == REVIEWER}
    others = {code for code, user, _ in rows if user != REVIEWER} - set(mine)
    return mine, others


def _table(page: Page):
    return main_area(page).get_by_test_id("stDataFrame")


def _rows_in_grid(page: Page) -> int:
    """The grid's data rows, as its accessible markup counts them (header row excluded)."""
    grid = _table(page).locator("[role='grid'], [role='table']").first
    grid.wait_for(state="attached")
    return int(grid.get_attribute("aria-rowcount")) - 1


def _visible_codes(page: Page) -> list[str]:
    cells = _table(page).locator("[role='gridcell']")
    cells.first.wait_for(state="attached")
    return [
        c
        for c in (t.strip() for t in cells.all_text_contents())
        if re.fullmatch(r"QD2020-\d{3}", c)
    ]


@pytest.fixture(scope="module")
def expected(demo_server):
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    return _sheets(demo_server.data_dir)


def _open_my_scores(page: Page, base_url: str) -> None:
    open_app(page, base_url, f"?campaign={CAMPAIGN}")
    login(page, REVIEWER)
    open_logged_in(page, base_url, f"my_scores?campaign={CAMPAIGN}")
    expect(titles(page).first).to_have_text("我的评分")
    dismiss_toasts(page)


def test_the_own_scores_table_lists_the_reviewers_sheets_only_on_a_desktop(
    page, demo_server, expected
):
    mine, others = expected
    assert mine and others  # the demo has both, or the test proves nothing
    page.set_viewport_size(DESKTOP)
    _open_my_scores(page, demo_server.base_url)
    assert "我的评分" in nav_titles(page)
    submitted = sum(1 for status in mine.values() if status == "submitted")
    expect(
        main_area(page).get_by_text(re.compile(f"^已提交 {submitted} 份 · 平均分 "))
    ).to_be_visible()
    assert _rows_in_grid(page) == len(mine)
    shown = _visible_codes(page)
    assert shown and set(shown) <= set(mine)
    assert not set(shown) & others
    expect(
        main_area(page).get_by_text("评审截止：2020-11-20 24:00（北京时间） · 已截止")
    ).to_be_visible()
    wait_for_app(page)  # the cookie's own rerun may still be fading the table
    page.mouse.move(0, 0)
    refresh_docs_screenshot(screenshot(page, "my-scores-desktop"), "my-scores.png")
    page.screenshot(path=f"{SHOTS}/my-scores-desktop.png")
    shutil.copy(screenshot_of(_table(page), "my-scores-table-desktop"), SHOTS)


def test_a_row_links_to_its_entry_page_in_a_new_tab(page, demo_server, expected):
    mine, _ = expected
    first = min(mine)
    page.set_viewport_size(DESKTOP)
    _open_my_scores(page, demo_server.base_url)
    table = _table(page)
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    # The link column is the last one (the grid is a canvas: click where its text is drawn);
    # rows are 35 px high, the first data row right under the header row.
    x, y = box["x"] + box["width"] - 62, box["y"] + 35 + 17
    page.mouse.move(x, y)  # the grid opens a link under a hovered pointer only
    page.wait_for_timeout(300)
    with page.context.expect_page() as opened:
        page.mouse.click(x, y)
    entry_tab = opened.value
    entry_tab.wait_for_load_state()
    wait_for_app(entry_tab)
    expect(titles(entry_tab).first).to_contain_text(first, timeout=30_000)
    assert f"code={first}" in entry_tab.url and f"campaign={CAMPAIGN}" in entry_tab.url
    entry_tab.close()


def test_the_own_scores_page_fits_a_phone(page, demo_server, expected):
    mine, _ = expected
    page.set_viewport_size(PHONE)
    _open_my_scores(page, demo_server.base_url)
    deadline = main_area(page).get_by_text(re.compile("评审截止：2020-11-20 .*已截止"))
    expect(deadline).to_be_visible()
    box = deadline.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert _rows_in_grid(page) == len(mine)
    table = _table(page).bounding_box()
    assert table is not None and table["x"] + table["width"] <= PHONE["width"] + 1
    page.reload()  # a reload keeps the page and the campaign
    wait_for_app(page)
    expect(titles(page).first).to_have_text("我的评分")
    page.screenshot(path=f"{SHOTS}/my-scores-phone.png")
    shutil.copy(screenshot_of(_table(page), "my-scores-table-phone"), SHOTS)


def test_the_page_is_not_listed_for_an_organiser(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    assert "我的评分" not in nav_titles(page)
