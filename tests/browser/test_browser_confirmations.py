"""Changes of the outcome ask first, and forms start where the data is (issue points 6 and 7).

* 定稿与导出: the group-quota field starts at the chosen group's current quota, not at 1;
* 用户管理: a new account's role has no default and creating one without it is refused;
* 评审分配: removing assignments asks, naming the reviewer, how many entries and the campaign;
* 作品导入与审核 → 预审: a bulk rejection asks, naming how many entries and the campaign;
* 定稿与导出: withdrawing a finalisation asks, naming the campaign and its SHA-256.

This module changes qd-2020, finalises dg-person-2020 and adds a small campaign of its own
(rejection needs entries nobody has scored), so it runs against a demo server of its own
(``module_demo_server``): the other modules never see these writes. The command line prepares
what the browser is not under test for (a changed quota, a finalised campaign, entries).

Demo facts (``scoring/demo``): qd-2020 ranks per domain with a quota of 2; every reviewer is
assigned every entry, and expert5 has started only on the first half (QD2020-001..019), so
the assignments of QD2020-035 and QD2020-036 can be removed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser_helpers import (
    alerts,
    choose_campaign,
    go_to,
    login,
    main_area,
    open_app,
    screenshot,
    titles,
    wait_for_app,
)
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

pytestmark = pytest.mark.browser

QD = "2020青岛信息化典型案例评选"
DG = "2020数字政府创新人物评选"
DG_SLUG = "dg-person-2020"
RAISED_GROUP, RAISED_QUOTA = "智慧城市", 3
PLAIN_GROUP = "政务服务"  # keeps the campaign's quota of 2
UNSTARTED = ("QD2020-035", "QD2020-036")  # expert5 has no sheet for these
SMALL, SMALL_SLUG = "2019确认对话框演练", "confirm-e2e"  # year 2019: sorts after the demo
REJECTED = "CE-01"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_server(module_demo_server):
    """This module's own server: its writes stay out of the other browser tests."""
    return module_demo_server


def cli(server, *args: str) -> subprocess.CompletedProcess:
    """``reviewdesk ...`` against the server's data folder, as an operator would run it."""
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
    return done


# --- page pieces ------------------------------------------------------------------------------
def settle(page: Page) -> None:
    """Wait for the run and for the faded leftovers of the previous one to go."""
    wait_for_app(page)
    expect(page.locator("[data-stale='true']")).to_have_count(0)
    wait_for_app(page)


def open_as_organiser(page: Page, base_url: str, title: str, campaign: str | None = QD) -> None:
    open_app(page, base_url)
    login(page, "organiser")
    go_to(page, title)
    expect(titles(page)).to_have_text([title])
    if campaign is not None:
        choose_campaign(page, campaign)


def dialog(page: Page) -> Locator:
    return page.get_by_role("dialog")


def pick(page: Page, box: Locator, option: str) -> None:
    """Choose ``option`` in a select box (inside a form nothing reruns).

    The option is typed first: a long list draws only its first options.
    """
    target = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        box.scroll_into_view_if_needed()
        box.click()
        box.press_sequentially(option)
        try:
            target.wait_for(state="visible", timeout=3_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    target.click()


def pick_many(page: Page, box: Locator, *options: str) -> None:
    for option in options:
        pick(page, box, option)
    page.keyboard.press("Escape")


def success(page: Page) -> Locator:
    return alerts(page).filter(has=page.locator("[data-testid='stAlertContentSuccess']"))


def error(scope: Locator) -> Locator:
    return scope.get_by_test_id("stAlert").filter(
        has=scope.page.locator("[data-testid='stAlertContentError']")
    )


# --- 6. forms start at the current value -------------------------------------------------------
def test_the_quota_field_starts_at_the_chosen_groups_current_quota(page, demo_server):
    cli(demo_server, "set-quota", "qd-2020", RAISED_GROUP, str(RAISED_QUOTA), "--reason", "增额")
    open_as_organiser(page, demo_server.base_url, "定稿与导出")
    group_box = main_area(page).get_by_role("combobox", name="分组")
    quota_field = main_area(page).get_by_test_id("stForm").get_by_label("获奖名额")

    for group, quota in ((RAISED_GROUP, RAISED_QUOTA), (PLAIN_GROUP, 2)):
        pick(page, group_box, group)
        settle(page)
        expect(group_box).to_have_value(group)
        # Applying the form untouched would change nothing.
        expect(quota_field).to_have_value(str(quota))
    quota_field.scroll_into_view_if_needed()
    screenshot(page, "confirm-quota-starts-at-current")


def test_a_new_account_needs_a_role_chosen_on_purpose(page, demo_server):
    open_as_organiser(page, demo_server.base_url, "用户管理", campaign=None)
    create = main_area(page).get_by_test_id("stForm").filter(has_text="新建用户")
    role = create.get_by_role("combobox", name="角色")
    expect(role).to_have_value("")  # nothing chosen, in particular not 组织者

    create.get_by_label("用户名", exact=True).fill("newcomer")
    create.get_by_label("姓名", exact=True).fill("新来的评审")
    create.get_by_role("button", name="创建", exact=True).click()
    settle(page)
    expect(error(main_area(page))).to_have_text("请为新账户选择角色：角色没有默认值。")
    expect(success(page)).to_have_count(0)
    expect(main_area(page).get_by_text("newcomer")).to_have_count(0)  # not in the table
    screenshot(page, "confirm-role-required")

    create.get_by_label("用户名", exact=True).fill("newcomer")
    create.get_by_label("姓名", exact=True).fill("新来的评审")
    pick(page, role, "评审专家")
    create.get_by_role("button", name="创建", exact=True).click()
    settle(page)
    expect(success(page)).to_contain_text("已创建用户 newcomer")


# --- 7. changes of the outcome ask first --------------------------------------------------------
def test_removing_assignments_asks_first_and_names_what_goes(page, demo_server):
    open_as_organiser(page, demo_server.base_url, "评审分配")
    main_area(page).get_by_role("tab", name="专家评审", exact=True).click()
    form = main_area(page).locator("[role='tabpanel']:visible").get_by_test_id("stForm")
    pick(page, form.get_by_role("combobox", name="评审人"), "expert5")
    pick_many(page, form.get_by_role("combobox", name="作品"), *UNSTARTED)
    form.get_by_role("button", name="取消分配", exact=True).click()
    settle(page)

    ask = dialog(page)
    expect(ask).to_be_visible()
    expect(ask).to_contain_text(
        f"将在“{QD}”中取消 expert5 对 2 个作品的评审分配：{UNSTARTED[0]}, {UNSTARTED[1]}。"
    )
    screenshot(page, "confirm-unassign-dialog")
    ask.get_by_role("button", name="取消", exact=True).click()
    settle(page)
    expect(dialog(page)).to_have_count(0)
    expect(success(page)).to_have_count(0)  # nothing removed

    form.get_by_role("button", name="取消分配", exact=True).click()
    settle(page)
    dialog(page).get_by_role("button", name="确认取消 2 个分配", exact=True).click()
    settle(page)
    expect(dialog(page)).to_have_count(0)
    expect(success(page)).to_have_text(re.compile("已更改 2 项分配。$"))


def test_a_bulk_rejection_asks_first_and_names_what_goes(page, demo_server, tmp_path):
    # The demo's entries are all scored, and a scored entry stays shortlisted: reject in a
    # small campaign of submitted entries instead, made as an operator would.
    campaign_file = tmp_path / "confirm.toml"
    campaign_file.write_text(
        re.sub(
            r"(?m)^(slug|name|year) = .*$",
            lambda m: {"slug": f'slug = "{SMALL_SLUG}"', "name": f'name = "{SMALL}"'}.get(
                m.group(1), "year = 2019"
            ),
            (REPO / "scoring" / "demo" / "qd-2020.toml").read_text("utf-8"),
        ),
        "utf-8",
    )
    entries = tmp_path / "entries.csv"
    entries.write_text(
        "编号,名称,申报主体,类别,领域\n"
        f"{REJECTED},一网通办,甲局,数字政府,政务服务\n"
        "CE-02,数据开放平台,乙局,数字政府,大数据\n",
        "utf-8",
    )
    cli(demo_server, "campaign", "create", str(campaign_file))
    cli(demo_server, "import-entries", SMALL_SLUG, str(entries))

    open_as_organiser(page, demo_server.base_url, "作品导入与审核", campaign=SMALL)
    main_area(page).get_by_role("tab", name="预审", exact=True).click()
    form = main_area(page).locator("[role='tabpanel']:visible").get_by_test_id("stForm")
    pick_many(page, form.get_by_role("combobox", name="要处理的作品（可多选）"), REJECTED)
    form.get_by_text("未通过", exact=True).click()
    form.get_by_label("原因").fill("申报材料不全")
    form.get_by_role("button", name="应用", exact=True).click()
    settle(page)

    ask = dialog(page)
    expect(ask).to_be_visible()
    expect(ask).to_contain_text(
        f"将把“{SMALL}”中 1 个作品标记为不通过：{REJECTED}。原因：申报材料不全"
    )
    screenshot(page, "confirm-reject-dialog")
    ask.get_by_role("button", name="确认 1 个作品不通过", exact=True).click()
    settle(page)
    expect(dialog(page)).to_have_count(0)
    expect(success(page)).to_have_text(re.compile("已更新 1 件作品的审核结果。$"))


def test_withdrawing_a_finalisation_asks_first_and_names_the_campaign(page, demo_server):
    cli(demo_server, "lock", DG_SLUG, "expert", "--reason", "评审结束")
    standings = json.loads(cli(demo_server, "standings", DG_SLUG, "--format", "json").stdout)
    provisional = [
        r["code"] for r in standings if r["provisional"] and r["award"] and not r["tie_at_cutline"]
    ]
    acknowledged = [f"--acknowledge={code}=评委会确认" for code in provisional]
    sha = re.search(r"[0-9a-f]{64}", cli(demo_server, "finalise", DG_SLUG, *acknowledged).stdout)
    assert sha is not None

    open_as_organiser(page, demo_server.base_url, "定稿与导出", campaign=DG)
    banner = alerts(page).filter(has_text="已定稿")
    expect(banner).to_contain_text(sha.group(0))
    main_area(page).get_by_role("button", name="撤销定稿", exact=True).click()
    settle(page)
    ask = dialog(page)
    expect(ask).to_contain_text(f"将撤销“{DG}”的定稿（SHA-256 {sha.group(0)[:12]}…）")
    screenshot(page, "confirm-withdraw-dialog")
    ask.get_by_role("button", name="取消", exact=True).click()
    settle(page)
    expect(dialog(page)).to_have_count(0)
    expect(banner).to_be_visible()  # still finalised

    main_area(page).get_by_role("button", name="撤销定稿", exact=True).click()
    settle(page)
    ask = dialog(page)
    ask.get_by_label("原因").fill("更正票数")
    ask.get_by_label("原因").press("Tab")
    settle(page)
    ask.get_by_role("button", name="确认撤销定稿", exact=True).click()
    settle(page)
    expect(dialog(page)).to_have_count(0)
    expect(alerts(page).filter(has_text="已定稿")).to_have_count(0)
    expect(main_area(page).get_by_role("button", name="定稿…", exact=True)).to_be_visible()
