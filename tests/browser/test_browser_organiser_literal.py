"""Organiser pages show data as typed, in a real browser (issue point 11).

A campaign, a ranking group, entry titles, a committee reason, a lock reason and an uploaded
file's header that are Markdown images and links: 定稿与导出 (its list and its confirmation
dialog), 作品导入与审核 and 评审分配 must show those characters, draw no image or link, and
make the browser call no outside host. Ordinary text ("A-01", "1.5", Chinese) shows without
stray backslashes.

The campaign is made with the command line, as an operator would, on this module's own demo
server (``module_demo_server``): the other modules never see it. Its year is 2019, so that
it sorts after the demo campaigns.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import (
    choose_campaign,
    login,
    main_area,
    open_app,
    screenshot,
    sidebar,
    titles,
    wait_for_app,
)
from playwright.sync_api import Locator, Page, expect

from scoring.literal import WORD_JOINER

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SLUG = "literal-e2e"
CAMPAIGN = "2019评选 ![x](http://evil.test/t.png) **粗** <b>b</b>"
GROUP = "智慧城市 [再次登录](http://evil.test/p)"
CODE, TITLE = "LE-01", "A-01 ![x](http://evil.test/e.png) 1.5"
REASON = "评委会 [再次登录](http://evil.test/r) _斜_"
LOCK_REASON = "结束 ![y](http://evil.test/l.png)"
HEADER = "备注 ![h](http://evil.test/h.png)"


@pytest.fixture(scope="module")
def demo_server(module_demo_server, tmp_path_factory):
    """This module's own server, holding the hostile campaign made by the command line."""
    folder = tmp_path_factory.mktemp("literal")
    values = {
        "slug": f'slug = "{SLUG}"',
        "name": f'name = "{CAMPAIGN}"',
        "year": "year = 2019",
        "domains": f'domains = ["政务服务", "{GROUP}"]',
        "min_images": "min_images = 0",
    }
    campaign_file = folder / "campaign.toml"
    campaign_file.write_text(
        re.sub(
            r"(?m)^(slug|name|year|domains|min_images) = .*$",
            lambda m: values[m.group(1)],
            (REPO / "scoring" / "demo" / "qd-2020.toml").read_text("utf-8"),
        ),
        "utf-8",
    )
    entries = folder / "entries.csv"
    entries.write_text(
        "编号,名称,申报主体,类别,领域,状态\n"
        f"{CODE},{TITLE},甲局,数字政府,{GROUP},shortlisted\n"
        "LE-02,数据开放平台,乙局,数字政府,政务服务,shortlisted\n",
        "utf-8",
    )
    _cli(module_demo_server, "campaign", "create", str(campaign_file))
    _cli(module_demo_server, "import-entries", SLUG, str(entries))
    _cli(module_demo_server, "override", SLUG, CODE, "--grant", "--reason", REASON)
    _cli(module_demo_server, "lock", SLUG, "media", "--reason", LOCK_REASON)
    return module_demo_server


def _cli(server, *args: str) -> None:
    env = dict(os.environ, REVIEWDESK_DATA_DIR=str(server.data_dir))
    env.pop("REVIEWDESK_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "scoring.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture
def outside_requests(page: Page) -> Iterator[list[str]]:
    """Every address on evil.test the browser tried to load (answered with nothing)."""
    seen: list[str] = []
    page.route(re.compile(r"^https?://evil\.test/"), lambda route: route.abort())
    page.on("request", lambda request: "evil.test" in request.url and seen.append(request.url))
    yield seen


def _open(page: Page, base_url: str, title: str) -> None:
    open_app(page, base_url)
    login(page, "organiser")
    sidebar(page).get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    wait_for_app(page)
    expect(titles(page)).to_have_text([title])
    choose_campaign(page, CAMPAIGN)


def _shows(scope: Locator, text: str) -> None:
    """``text`` is on screen as typed (an invisible word joiner may break up an address)."""
    for _ in range(20):  # a run that is drawing may not show it yet
        shown = scope.inner_text().replace(WORD_JOINER, "")
        if text in shown:
            return
        scope.page.wait_for_timeout(250)
    raise AssertionError(f"{text!r} not shown in:\n{shown}")


def _nothing_rendered(scope: Locator) -> None:
    """No image, link (written as Markdown or a bare address) or bold text made of the data."""
    expect(scope.locator("img[src*='evil.test']")).to_have_count(0)
    expect(scope.locator("a[href*='evil.test']")).to_have_count(0)
    expect(scope.locator("b, strong").filter(has_text=re.compile("^(粗|b)$"))).to_have_count(0)
    expect(scope.locator("em").filter(has_text="斜")).to_have_count(0)


def test_finalise_shows_names_titles_and_reasons_as_typed(page, demo_server, outside_requests):
    _open(page, demo_server.base_url, "定稿与导出")
    main = main_area(page)
    _shows(main, CAMPAIGN)  # the caption
    _shows(main, f"已锁定（{LOCK_REASON}）")
    _shows(main, f"{CODE} {TITLE}：获奖（{REASON}）")
    _nothing_rendered(main)
    expect(main.get_by_text("\\")).to_have_count(0)  # no backslash anywhere on the page
    screenshot(page, "literal-finalise")

    main.get_by_role("button", name="定稿…", exact=True).click()
    wait_for_app(page)
    ask = page.get_by_role("dialog")
    expect(ask).to_be_visible()
    _shows(ask, f"定稿将冻结“{CAMPAIGN}”的最终名单")
    _shows(ask, f"{GROUP}：名额 2，获奖")
    _shows(ask, f"{CODE} {TITLE}")
    _nothing_rendered(ask)
    expect(ask.get_by_text("\\")).to_have_count(0)
    screenshot(page, "literal-finalise-dialog")
    assert outside_requests == []


def test_intake_names_an_uploaded_files_unknown_column_as_typed(
    page, demo_server, outside_requests, tmp_path
):
    _open(page, demo_server.base_url, "作品导入与审核")
    main = main_area(page)
    _shows(main, CAMPAIGN)
    workbook = tmp_path / "entries.csv"
    workbook.write_text(
        f"编号,名称,申报主体,类别,领域,{HEADER}\nLE-09,新作品 1.5,丙局,数字政府,政务服务,x\n",
        "utf-8",
    )
    main.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(workbook)
    wait_for_app(page)
    _shows(main, f"“{HEADER}”列")
    _nothing_rendered(main)
    screenshot(page, "literal-intake-warning")
    assert outside_requests == []


def test_assignment_heads_the_page_with_the_campaign_as_typed(page, demo_server, outside_requests):
    _open(page, demo_server.base_url, "评审分配")
    main = main_area(page)
    _shows(main, CAMPAIGN)
    _nothing_rendered(main)
    assert outside_requests == []
