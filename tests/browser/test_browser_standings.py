"""The organiser's live standings: one table per group, the composite score, a reload."""

from __future__ import annotations

import pytest
from browser_helpers import (
    header_texts,
    login,
    main_area,
    nav_labels,
    open_app,
    screenshot,
    sidebar,
    titles,
    wait_for_app,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PANELS = {"网络投票", "媒体评测", "专家评审"}


def test_standings_show_a_table_per_group_with_the_composite_score(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    sidebar(page).get_by_test_id("stSidebarNavLink").filter(has_text="实时排名").click()
    wait_for_app(page)

    expect(titles(page)).to_have_text(["实时排名"])
    campaign = sidebar(page).get_by_role("combobox", name="评选活动").input_value()
    expect(main_area(page).get_by_text(campaign, exact=True)).to_be_visible()
    expect(main_area(page).get_by_text("只看暂定结果", exact=True)).to_be_visible()

    tables = main_area(page).get_by_test_id("stDataFrame")
    expect(tables.first).to_be_visible()
    groups = main_area(page).locator("h3")
    expect(groups).to_have_count(tables.count())
    first_group = groups.first.text_content().strip()
    assert first_group

    headers = header_texts(tables.first)
    assert headers[:4] == ["分组", "名次", "编号", "名称"]
    assert headers[-4:] == ["综合得分", "获奖", "并列", "暂定"]
    assert set(headers[4:-4]) <= PANELS and headers[4:-4]

    first_row = tables.first.locator("tbody [role='row']").first.locator("[role='gridcell']")
    expect(first_row.nth(0)).to_have_text(first_group)  # the heading names the table's group
    expect(first_row.nth(1)).to_have_text("1")  # best first
    screenshot(page, "standings")

    # A reload keeps the page (the login comes back from the cookie).
    page.reload()
    main_area(page).locator("h1").first.wait_for()
    wait_for_app(page)
    expect(titles(page)).to_have_text(["实时排名"])
    expect(nav_labels(page).filter(has_text="实时排名")).to_have_count(1)
    expect(main_area(page).get_by_test_id("stDataFrame").first).to_be_visible()
    screenshot(page, "standings-after-reload")
