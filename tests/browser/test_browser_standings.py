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


def test_standings_show_a_table_per_group_with_the_composite_score(page, demo_server):
    page.set_viewport_size({"width": 1920, "height": 1080})  # an office screen: no column hidden
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    sidebar(page).get_by_test_id("stSidebarNavLink").filter(has_text="实时排名").click()
    wait_for_app(page)

    expect(titles(page)).to_have_text(["实时排名"])
    campaign = sidebar(page).get_by_role("combobox", name="评选活动").input_value()
    expect(main_area(page).get_by_text(campaign, exact=True)).to_be_visible()
    expect(main_area(page).get_by_text("只看待处理项", exact=True)).to_be_visible()

    # The table is the view shown first; the charts are drawn only once picked.
    tables = main_area(page).get_by_test_id("stDataFrame")
    expect(tables.first).to_be_visible()
    expect(main_area(page).locator(".js-plotly-plot")).to_have_count(0)
    groups = main_area(page).locator("h3")
    expect(groups).to_have_count(tables.count())

    headers = header_texts(tables.first)
    assert headers[:6] == ["名次", "编号", "名称", "综合得分", "获奖", "标记"]
    # Each component with its weight, and the reviews in / needed of each panel.
    assert [h for h in headers[6:] if not h.endswith("份数")] == [
        "网络投票 (55%)",
        "媒体评测 (15%)",
        "专家评审 (30%)",
    ]
    assert [h for h in headers[6:] if h.endswith("份数")] == ["媒体评测份数", "专家评审份数"]

    first_row = tables.first.locator("tbody [role='row']").first.locator("[role='gridcell']")
    expect(first_row.nth(0)).to_have_text("1")  # best first
    expect(groups.first).to_have_text("政务服务")  # the campaign's own domain order
    screenshot(page, "standings")

    # A reload keeps the page (the login comes back from the cookie).
    page.reload()
    main_area(page).locator("h1").first.wait_for()
    wait_for_app(page)
    expect(titles(page)).to_have_text(["实时排名"])
    expect(nav_labels(page).filter(has_text="实时排名")).to_have_count(1)
    expect(main_area(page).get_by_test_id("stDataFrame").first).to_be_visible()
    screenshot(page, "standings-after-reload")
