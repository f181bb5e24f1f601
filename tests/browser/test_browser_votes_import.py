"""Importing votes over a gallery that has been voting, in the browser (SPEC §5.3, §8).

The organiser chooses a votes file on 作品导入与审核 → 导入票数: before anything is saved the
page says how many public votes of how many entries the file replaces, and only 确认导入
writes. The module's server runs on a planted folder: the scene of
tests/importers/test_votes_replace.py (A-1 imported 10 + 3 public votes, A-2 2 public votes
and a voided burst). Screenshots (desktop 1280 and phone 390) go to /tmp/shots/tally/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import go_to, login, main_area, open_app, wait_for_app
from playwright.sync_api import expect
from test_browser_intake import open_tab, upload

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots/tally")
PASSWORD = "review2020"
WARNING = "导入将替换 2 件作品已计入的 5 张网上投票（A-1、A-2）：这些投票作为记录保留，不再计票。"


def plant(data_dir: Path) -> None:
    from scoring import context
    from scoring.settings import Settings
    from tests.factories import make_account
    from tests.importers.test_votes_replace import _gallery_has_voted

    def work(session) -> None:
        _gallery_has_voted(session)
        make_account(session, "organiser", "organiser", password=PASSWORD)

    context.database(Settings(data_dir=data_dir, database_url=None)).write(work)


@pytest.fixture(scope="module")
def server(planted_server):
    return planted_server


def _tallies(server) -> dict[str, tuple]:
    from scoring import context
    from scoring.settings import Settings
    from tests.importers.test_votes_replace import _tallies

    return _tallies(context.database(Settings(data_dir=server.data_dir, database_url=None)))


def test_the_page_warns_of_replaced_public_votes_and_saves_only_on_confirmation(
    browser, server, tmp_path
):
    votes = tmp_path / "票数.csv"
    votes.write_text("编号,票数\nA-1,50\nA-2,7\n", encoding="utf-8")
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        open_app(page, server.base_url)
        login(page, "organiser", PASSWORD)
        go_to(page, "作品导入与审核")
        panel = open_tab(page, "导入票数")
        upload(page, panel, "表格文件", votes)
        expect(panel.get_by_text("检查通过：2 件作品的票数。确认后保存。")).to_be_visible()
        expect(panel.get_by_test_id("stAlert").filter(has_text=WARNING)).to_be_visible()
        assert _tallies(server)["A-1"] == (13, 10, 3)  # nothing written before confirming
        page.screenshot(path=str(SHOTS / "votes-warning-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        wait_for_app(page)
        page.screenshot(path=str(SHOTS / "votes-warning-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        panel.get_by_role("button", name="确认导入").click()
        wait_for_app(page)
        expect(main_area(page).get_by_text("已更新 2 个作品的票数。", exact=False)).to_be_visible()
        assert _tallies(server) == {"A-1": (50, 50, 0), "A-2": (7, 7, 0)}
        page.screenshot(path=str(SHOTS / "votes-imported-desktop.png"), full_page=True)
    finally:
        context.close()
