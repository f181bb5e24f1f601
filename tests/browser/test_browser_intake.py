"""From a campaign file to locked panels: the organiser's intake path in the browser.

活动设置 (create a campaign from a TOML file) → 作品导入与审核: a bad entries file refused
with its report and nothing saved, a good one checked, previewed and imported → 预审: the
automatic flags, a bulk decision and a rejection with its reason → 入围: a proposal by votes,
adjusted by hand → 评审分配: automatic assignment, no entry short → 定稿与导出: a panel lock.

Every test works in campaigns of its own (``intake-e2e*``), never in the demo's qd-2020 or
dg-person-2020. Their year is 2019 so that they sort after the demo campaigns in the sidebar's
评选活动 box: the other tests take the first campaign offered and expect a demo one.

Only two entries are shortlisted, so automatic assignment needs 2 × 2 expert reviews, given to
expert1..expert4 (least loaded first, ties by username): expert5 gets nothing here, and
test_browser_review still finds expert5 assigned in qd-2020 only. media1 and media2 get one
entry each here; their gallery still opens on qd-2020 (year 2020 sorts first).

Three corners have tests of their own at the end of this file: the 预审 tab of a campaign
without entries, counts that show a decision at once, and an uploader that is emptied after
an import (so the saved file is not checked, and refused, again).
"""

from __future__ import annotations

import csv
import io
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from browser_helpers import (
    alerts,
    login,
    main_area,
    open_app,
    screenshot,
    sidebar,
    titles,
    wait_for_app,
)
from browser_helpers import (
    choose_campaign as choose_campaign_of,
)
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

pytestmark = pytest.mark.browser

T = TypeVar("T")

SLUG = "intake-e2e"
CAMPAIGN = "2019作品导入端到端演练"
MIN_IMAGES = 2

HEADERS = ["编号", "名称", "申报主体", "类别", "领域", "票数", "图片", "状态"]
#: The good file: all submitted; IE-01 and IE-03 share a title; IE-04 has one image of two.
GOOD_ROWS = [
    ["IE-01", "一网通办", "甲局", "数字政府", "政务服务", "300", "ie01a.png;ie01b.png"],
    ["IE-02", "数据开放平台", "乙局", "数字政府", "大数据", "200", "ie02a.png；ie02b.png"],
    ["IE-03", "一网通办", "丙局", "数字政府", "政务服务", "100", "ie03a.png;ie03b.png"],
    ["IE-04", "智能工厂", "丁公司", "数字经济", "大数据", "250", "ie04a.png"],
    ["IE-05", "工业互联网平台", "戊公司", "数字经济", "政务服务", "150", "ie05a.png;ie05b.png"],
]
GOOD_FILES = 9
#: The bad file: a text file named .png (row 2), an unknown category (row 3), a repeated code
#: (row 4). Rows are numbered as in a spreadsheet: the header is row 1.
BAD_ROWS = [
    ["IE-01", "一网通办", "甲局", "数字政府", "政务服务", "300", "fake.png"],
    ["IE-02", "数据开放平台", "乙局", "数字文化", "大数据", "200", "ie02a.png"],
    ["IE-01", "智能工厂", "丁公司", "数字经济", "大数据", "250", "ie04a.png"],
]
BAD_PROBLEMS = [
    ("2", "图片", "fake.png 不是 JPEG、PNG 或 WebP 图片：其内容是纯文本。"),
    ("3", "类别", "类别“数字文化”不属于本活动（可选：数字政府、数字经济）"),
    ("4", "编号", "编号“IE-01”与第 2 行重复"),
]
CODES = [row[0] for row in GOOD_ROWS]
DUPLICATE_TITLE = {"IE-01": "与 IE-03 名称相同。", "IE-03": "与 IE-01 名称相同。"}
TOO_FEW = ("IE-04", f"只有 1 张图片，至少需要 {MIN_IMAGES} 张。")
REJECTED, REJECT_REASON = "IE-03", "与 IE-01 为同一案例重复申报"
#: Top 1 per category by votes: IE-01 (数字政府, 300) and IE-04 (数字经济, 250). By hand,
#: IE-04 (too few images) gives way to IE-05.
PROPOSED, SHORTLIST = ["IE-01", "IE-04"], ["IE-01", "IE-05"]
EXPERTS = [f"expert{i}" for i in range(1, 6)]
MEDIA = [f"media{i}" for i in range(1, 4)]
LOCK_REASON = "媒体评测按计划提前结束"


def campaign_toml(slug: str, name: str) -> str:
    """Two categories, two domains, votes 50 + expert 30 (2 reviews) + media 20 (1 review)."""
    return f"""
slug = "{slug}"
name = "{name}"
year = 2019
categories = ["数字政府", "数字经济"]
domains = ["政务服务", "大数据"]
vote_group = "category"
rank_group = "category"
tie_break = ["expert", "media", "votes"]
award_quota = 1
min_images = {MIN_IMAGES}
max_entries_per_applicant_per_domain = 2

[[components]]
key = "votes"
kind = "votes"
weight = 50

[[components]]
key = "expert"
kind = "panel"
weight = 30
aggregate = "mean"
min_reviews = 2

[[components]]
key = "media"
kind = "panel"
weight = 20
aggregate = "mean"
min_reviews = 1

[[criteria]]
panel = "expert"
key = "innovation"
name = "创新性"
max_points = 50

[[criteria]]
panel = "expert"
key = "impact"
name = "成效性"
max_points = 50

[[criteria]]
panel = "media"
key = "reach"
name = "传播价值"
max_points = 100
"""


# --- files ------------------------------------------------------------------------------------
def write_csv(path: Path, rows: list[list[str]]) -> Path:
    """A CSV with Chinese headers, UTF-8 with BOM as Excel writes it; every row submitted."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        writer.writerows([*row, "submitted"] for row in rows)
    return path


def png_bytes(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), colour).save(buffer, "PNG")
    return buffer.getvalue()


def write_assets(path: Path) -> Path:
    """Real PNGs made with Pillow for every image named, plus a text file named fake.png."""
    names = sorted({n for row in GOOD_ROWS for n in re.split("[;；]", row[6])})
    with zipfile.ZipFile(path, "w") as archive:
        for index, name in enumerate(names):
            archive.writestr(name, png_bytes((40 * index % 256, 120, 200 - 15 * index)))
        archive.writestr("fake.png", "这不是图片，只是改了扩展名的文本文件。\n")
    return path


# --- waiting and reading ----------------------------------------------------------------------
def settle(page: Page) -> None:
    """Wait for the run, then for Streamlit to drop the faded leftovers of the previous one."""
    wait_for_app(page)
    expect(page.locator("[data-stale='true']")).to_have_count(0)
    wait_for_app(page)


def eventually(read: Callable[[], T], wanted: T, timeout_s: float = 15) -> T | None:
    """Read until ``read()`` gives ``wanted`` (a grid draws after its run ends); the last read."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            seen = read()
        except PlaywrightTimeoutError:
            seen = None
        if seen == wanted or time.monotonic() > deadline:
            return seen
        time.sleep(0.25)


def grid_rows(table: Locator) -> list[list[str]]:
    """The rows of an st.dataframe as cell texts, read from the grid's accessible copy.

    The grid draws on a canvas; its accessible table is hidden to role queries, so it is read
    with CSS (as test_browser_finalise does). Small tables only: the grid is virtualised.
    """
    rows = table.locator("tbody tr[role='row']")
    rows.first.wait_for(state="attached", timeout=5_000)
    return [
        [cell.strip() for cell in row.locator("th, td").all_text_contents()] for row in rows.all()
    ]


def grid_headers(table: Locator) -> list[str]:
    headers = table.locator("[role='columnheader']")
    headers.first.wait_for(state="attached", timeout=5_000)
    return [h.strip() for h in headers.all_text_contents()]


def metric_value(scope: Locator, label: str) -> Locator:
    """The value of the st.metric labelled exactly ``label`` inside ``scope``."""
    return (
        scope.get_by_test_id("stMetric")
        .filter(has=scope.page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
        .get_by_test_id("stMetricValue")
    )


def error_box(scope: Locator) -> Locator:
    return scope.get_by_test_id("stAlert").filter(
        has=scope.page.locator("[data-testid='stAlertContentError']")
    )


def success_box(scope: Locator) -> Locator:
    return scope.get_by_test_id("stAlert").filter(
        has=scope.page.locator("[data-testid='stAlertContentSuccess']")
    )


# --- page pieces ------------------------------------------------------------------------------
def go(page: Page, title: str) -> None:
    sidebar(page).get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    settle(page)
    expect(titles(page).first).to_have_text(title)


def choose_campaign(page: Page, name: str = CAMPAIGN) -> None:
    choose_campaign_of(page, name)


def open_tab(page: Page, name: str) -> Locator:
    """Show the tab ``name`` of the main area (no rerun) and return its panel."""
    main_area(page).get_by_role("tab", name=name, exact=True).click()
    panel = main_area(page).locator("[role='tabpanel']:visible")
    expect(panel).to_have_count(1)
    return panel


def upload(page: Page, scope: Locator, label: str, path: Path) -> None:
    """Give the st.file_uploader labelled ``label`` a file, as a drop on it would."""
    uploader = scope.get_by_test_id("stFileUploader").filter(has_text=label)
    uploader.locator("input[type='file']").set_input_files(str(path))
    settle(page)
    expect(uploader.get_by_text(path.name, exact=True)).to_be_visible()


def open_options(box: Locator, option: Locator) -> None:
    """Open the list of a select box until ``option`` shows (a click on a focused box may not)."""
    for _ in range(3):
        if option.is_visible():
            return
        box.click()
        try:
            option.wait_for(state="visible", timeout=2_000)
            return
        except PlaywrightTimeoutError:
            box.press("ArrowDown")
    option.wait_for(state="visible", timeout=2_000)


def chosen(widget: Locator) -> list[str]:
    """The options chosen in a multiselect, read from the labels of their remove buttons."""
    buttons = widget.get_by_role("button", name=re.compile(r"^Remove "))
    return [(b.get_attribute("aria-label") or "").removeprefix("Remove ") for b in buttons.all()]


def expect_chosen(widget: Locator, options: list[str]) -> None:
    assert eventually(lambda: chosen(widget), options, timeout_s=5) == options


def pick_in_form(form: Locator, *options: str) -> None:
    """Add ``options`` to the form's multiselect; inside an st.form nothing reruns."""
    page = form.page
    box = form.get_by_role("combobox")
    for name in options:
        option = page.get_by_role("option", name=name, exact=True)
        open_options(box, option)
        option.click()
    page.keyboard.press("Escape")
    expect_chosen(form, list(options))


def create_campaign(page: Page, toml: Path, slug: str, name: str) -> None:
    """活动设置 → 新建评选活动 → 从活动文件（TOML）: upload, 创建活动; then pick it."""
    go(page, "活动设置")
    expander = main_area(page).get_by_test_id("stExpander").filter(has_text="新建评选活动")
    expander.get_by_text("新建评选活动", exact=True).click()
    expander.get_by_role("tab", name="从活动文件（TOML）", exact=True).click()
    upload(page, expander, "活动文件（.toml，格式见说明文档）", toml)
    expander.get_by_role("button", name="创建活动", exact=True).click()
    settle(page)
    # Creating a campaign writes its groups, rubric and audit and redraws set-up: on a loaded
    # 2-core machine that run has taken longer than the default 5 s.
    expect(success_box(expander)).to_have_text(f"已创建评选活动 {slug}：{name}", timeout=30_000)
    choose_campaign(page, name)
    expect(main_area(page).locator("h3").filter(has_text=name)).to_have_text(f"编辑：{name}")


def new_campaign(page: Page, base_url: str, folder: Path, slug: str, name: str) -> None:
    """Log in as organiser and create a campaign of this file's shape; it is then chosen."""
    toml = folder / "campaign.toml"
    toml.write_text(campaign_toml(slug, name), encoding="utf-8")
    open_app(page, base_url)
    login(page, "organiser")
    create_campaign(page, toml, slug, name)


def import_entries(page: Page, workbook: Path, assets: Path) -> Locator:
    """Upload both files on 导入作品 and wait for the check; returns the tab's panel."""
    entries = open_tab(page, "导入作品")
    upload(page, entries, "表格文件", workbook)
    upload(page, entries, "图片与材料（.zip，可选）", assets)
    return entries


def confirm_good_import(page: Page, entries: Locator, campaign: str = CAMPAIGN) -> None:
    expect(success_box(entries)).to_have_text(
        f"检查通过：{len(GOOD_ROWS)} 件作品，{GOOD_FILES} 个文件。确认后保存。"
    )
    entries.get_by_role("button", name="确认导入", exact=True).click()
    settle(page)
    expect(success_box(entries).last).to_have_text(f"{campaign}：已导入 {len(GOOD_ROWS)} 个作品。")


def lock_row(page: Page, panel: str) -> Locator:
    """The row of one panel's lock: name and state, reason field, 锁定/解锁 button."""
    return (
        main_area(page)
        .get_by_test_id("stHorizontalBlock")
        .filter(has=page.get_by_text(panel, exact=True))
        .filter(has=page.get_by_test_id("stTextInput"))
    )


# --- the walk -----------------------------------------------------------------------------------
@pytest.mark.timeout(600)
def test_import_precheck_shortlist_assign_and_lock(page, demo_server, tmp_path):
    bad_csv = write_csv(tmp_path / "entries-bad.csv", BAD_ROWS)
    good_csv = write_csv(tmp_path / "entries.csv", GOOD_ROWS)
    assets = write_assets(tmp_path / "images.zip")
    new_campaign(page, demo_server.base_url, tmp_path, SLUG, CAMPAIGN)
    screenshot(page, "intake-0-campaign-created")

    # 1. A bad file is refused whole, with its report; there is nothing to confirm.
    go(page, "作品导入与审核")
    choose_campaign(page)
    expect(main_area(page).get_by_text(CAMPAIGN, exact=True)).to_be_visible()
    entries = import_entries(page, bad_csv, assets)
    expect(error_box(entries)).to_have_text("文件有 3 处问题，未保存任何内容：")
    report = entries.get_by_test_id("stDataFrame")
    expect(report).to_have_count(1)
    assert grid_headers(report) == ["行", "列", "原因"]
    wanted = [list(problem) for problem in BAD_PROBLEMS]
    assert eventually(lambda: grid_rows(report), wanted) == wanted
    expect(entries.get_by_role("button", name="确认导入")).to_have_count(0)
    expect(success_box(entries)).to_have_count(0)
    screenshot(page, "intake-1-bad-file-refused")

    go(page, "作品库")
    choose_campaign(page)
    expect(main_area(page).get_by_text(f"{CAMPAIGN} · 全部作品", exact=True)).to_be_visible()
    expect(main_area(page).get_by_text("显示 0 / 0 件", exact=True)).to_be_visible()
    expect(alerts(page)).to_have_text(["没有符合条件的作品。"])
    screenshot(page, "intake-1-gallery-still-empty")

    # 2. The good file: checked, counted and previewed; saved only on 确认导入.
    go(page, "作品导入与审核")
    entries = import_entries(page, good_csv, assets)
    expect(error_box(entries)).to_have_count(0)
    expect(success_box(entries)).to_have_text(
        f"检查通过：{len(GOOD_ROWS)} 件作品，{GOOD_FILES} 个文件。确认后保存。"
    )
    preview = entries.get_by_test_id("stDataFrame")
    assert eventually(lambda: [r[0] for r in grid_rows(preview)], CODES) == CODES
    by_code = {r[0]: r for r in grid_rows(preview)}
    assert [by_code[code][1] for code in CODES] == [row[1] for row in GOOD_ROWS]
    screenshot(page, "intake-2-good-file-ready")
    confirm_good_import(page, entries)
    screenshot(page, "intake-2-imported")

    # 3. 预审: the automatic flags, everything accepted in bulk, one rejected with a reason.
    # (The 预审 tab is drawn after the import in the same run: these counts are fresh.)
    precheck = open_tab(page, "预审")
    expect(metric_value(precheck, "作品")).to_have_text(str(len(CODES)))
    expect(metric_value(precheck, "有提示")).to_have_text("3")
    expect(metric_value(precheck, "审核通过")).to_have_text("0")
    flagged = precheck.get_by_test_id("stDataFrame")
    expected_flags = {**DUPLICATE_TITLE, TOO_FEW[0]: TOO_FEW[1]}
    rows = eventually(lambda: {r[0]: r[4] for r in grid_rows(flagged)}, expected_flags)
    assert rows == expected_flags
    assert {r[3] for r in grid_rows(flagged)} == {"已申报"}
    screenshot(page, "intake-3-precheck-flags")

    decide = precheck.get_by_test_id("stForm")
    pick_in_form(decide, *CODES)
    decide.get_by_text("审核通过", exact=True).click()
    decide.get_by_role("button", name="应用", exact=True).click()
    settle(page)
    accepted = f"{CAMPAIGN}：已更新 {len(CODES)} 件作品的审核结果。"
    expect(success_box(precheck)).to_have_text(accepted)
    screenshot(page, "intake-3-accepted-all")

    decide.get_by_role("button", name="Clear all").click()
    pick_in_form(decide, REJECTED)
    decide.get_by_text("未通过", exact=True).click()
    decide.get_by_label("原因").fill(REJECT_REASON)
    decide.get_by_role("button", name="应用", exact=True).click()
    settle(page)
    # A rejection asks first, naming how many entries go (see test_browser_confirmations).
    ask = page.get_by_role("dialog")
    expect(ask).to_contain_text(REJECTED)
    ask.get_by_role("button", name="确认 1 个作品不通过", exact=True).click()
    settle(page)
    precheck = open_tab(page, "预审")
    expect(success_box(precheck)).to_have_text(f"{CAMPAIGN}：已更新 1 件作品的审核结果。")

    # Show every entry (a rerun): the counts and statuses as saved.
    precheck.get_by_text("只看有提示的作品", exact=True).click()
    settle(page)
    expect(metric_value(precheck, "作品")).to_have_text(str(len(CODES)))
    expect(metric_value(precheck, "审核通过")).to_have_text(str(len(CODES) - 1))
    # A rejected entry no longer makes a duplicate: only IE-04's own flag is left.
    expect(metric_value(precheck, "有提示")).to_have_text("1")
    everything = precheck.get_by_test_id("stDataFrame")
    statuses = {code: ("未通过" if code == REJECTED else "审核通过") for code in CODES}
    assert eventually(lambda: {r[0]: r[3] for r in grid_rows(everything)}, statuses) == statuses
    by_code = {r[0]: r for r in grid_rows(everything)}
    assert by_code[REJECTED][5] == REJECT_REASON
    assert by_code[REJECTED][4] == ""
    assert by_code["IE-01"][4] == ""
    assert by_code[TOO_FEW[0]][4] == TOO_FEW[1]
    screenshot(page, "intake-3-one-rejected")

    # 4. 入围: a proposal by votes (top 1 per category), changed by hand, then applied.
    shortlist = open_tab(page, "入围")
    expect(metric_value(shortlist, "入围")).to_have_text("0")
    top = shortlist.get_by_label("每组按票数取前")
    top.fill("1")
    top.press("Enter")
    settle(page)
    shortlist.get_by_role("button", name="生成入围建议", exact=True).click()
    settle(page)
    pick = shortlist.get_by_test_id("stMultiSelect").filter(
        has_text="入围作品（可在建议基础上调整）"
    )
    expect_chosen(pick, PROPOSED)
    screenshot(page, "intake-4-proposal")
    pick.get_by_role("button", name="Remove IE-04").click()
    settle(page)
    option = page.get_by_role("option", name="IE-05", exact=True)
    open_options(pick.get_by_role("combobox"), option)
    option.click()
    settle(page)
    page.keyboard.press("Escape")
    expect_chosen(pick, SHORTLIST)
    shortlist.get_by_role("button", name="设为入围", exact=True).click()
    settle(page)
    expect(success_box(shortlist)).to_have_text(f"{CAMPAIGN}：已入围 {len(SHORTLIST)} 个作品。")
    screenshot(page, "intake-4-shortlisted")
    # The metric is drawn before the change (as on 预审); the next run shows it.
    top.fill("2")
    top.press("Enter")
    settle(page)
    expect(metric_value(shortlist, "入围")).to_have_text(str(len(SHORTLIST)))
    undo = shortlist.get_by_test_id("stMultiSelect").filter(has_text="撤出入围")
    expect(undo).to_be_visible()
    screenshot(page, "intake-4-shortlist-count")

    # 5. 评审分配: automatic assignment leaves no entry short in either panel.
    go(page, "评审分配")
    choose_campaign(page)
    main_area(page).get_by_role("button", name="自动分配", exact=True).click()
    settle(page)
    expect(success_box(main_area(page))).to_have_text(
        f"{CAMPAIGN}：已新增 6 项分配：专家评审 +4, 媒体评测 +2。"
    )
    for tab, reviewers, each in (("专家评审", EXPERTS, 2), ("媒体评测", MEDIA, 1)):
        panel = open_tab(page, tab)
        expect(metric_value(panel, "入围作品")).to_have_text(str(len(SHORTLIST)))
        expect(metric_value(panel, "评审人数不足的作品")).to_have_text("0")
        expect(metric_value(panel, "还缺的分配")).to_have_text("0")
        matrix = panel.get_by_test_id("stDataFrame")
        headers = grid_headers(matrix)
        assert headers == ["编号", *reviewers, "评审人数", "缺少"], headers
        rows = eventually(lambda m=matrix: [r[0] for r in grid_rows(m)], SHORTLIST)
        assert rows == SHORTLIST
        for row in grid_rows(matrix):
            assert row[-2:] == [str(each), "0"], row
            assert row[1:-2].count("待评") == each, row
        screenshot(page, f"intake-5-coverage-{reviewers[0].rstrip('1')}")
    # expert5 stays without work in this campaign (see the module docstring).
    expert_matrix = open_tab(page, "专家评审").get_by_test_id("stDataFrame")
    assert [r[1 + EXPERTS.index("expert5")] for r in grid_rows(expert_matrix)] == ["", ""]

    # 6. 定稿与导出: the media panel is locked with its reason.
    go(page, "定稿与导出")
    choose_campaign(page)
    media = lock_row(page, "媒体评测")
    expect(media).to_contain_text("媒体评测 · 开放评分中")
    media.get_by_label("原因").fill(LOCK_REASON)
    media.get_by_label("原因").press("Enter")
    settle(page)
    media.get_by_role("button", name="锁定", exact=True).click()
    settle(page)
    expect(lock_row(page, "媒体评测")).to_contain_text(f"媒体评测 · 已锁定（{LOCK_REASON}）")
    expect(
        lock_row(page, "媒体评测").get_by_role("button", name="解锁", exact=True)
    ).to_be_visible()
    expect(lock_row(page, "专家评审")).to_contain_text("专家评审 · 开放评分中")
    expect(
        lock_row(page, "专家评审").get_by_role("button", name="锁定", exact=True)
    ).to_be_visible()
    lock_row(page, "媒体评测").scroll_into_view_if_needed()
    screenshot(page, "intake-6-media-locked")


# --- corners found on the way ---------------------------------------------------------------
def test_precheck_tab_of_a_campaign_without_entries(page, demo_server, tmp_path):
    name = "2019导入演练（空活动）"
    new_campaign(page, demo_server.base_url, tmp_path, f"{SLUG}-empty", name)
    go(page, "作品导入与审核")
    choose_campaign(page, name)
    precheck = open_tab(page, "预审")
    screenshot(page, "intake-bug-empty-campaign-precheck")
    expect(main_area(page).get_by_test_id("stException")).to_have_count(0)
    expect(metric_value(precheck, "作品")).to_have_text("0")
    expect(metric_value(open_tab(page, "入围"), "入围")).to_have_text("0")


def test_precheck_counts_show_a_decision_at_once(page, demo_server, tmp_path):
    name = "2019导入演练（计数）"
    new_campaign(page, demo_server.base_url, tmp_path, f"{SLUG}-counts", name)
    go(page, "作品导入与审核")
    choose_campaign(page, name)
    good_csv = write_csv(tmp_path / "entries.csv", GOOD_ROWS)
    entries = import_entries(page, good_csv, write_assets(tmp_path / "images.zip"))
    confirm_good_import(page, entries, name)
    precheck = open_tab(page, "预审")
    decide = precheck.get_by_test_id("stForm")
    pick_in_form(decide, *CODES)
    decide.get_by_role("button", name="应用", exact=True).click()
    settle(page)
    expect(success_box(precheck)).to_have_text(f"{name}：已更新 {len(CODES)} 件作品的审核结果。")
    page.set_viewport_size({"width": 1400, "height": 1300})  # the counts and the message
    screenshot(page, "intake-bug-stale-counts")
    expect(metric_value(precheck, "审核通过")).to_have_text(str(len(CODES)))


def test_entries_tab_after_an_import_does_not_refuse_the_saved_file(page, demo_server, tmp_path):
    name = "2019导入演练（重复检查）"
    new_campaign(page, demo_server.base_url, tmp_path, f"{SLUG}-recheck", name)
    go(page, "作品导入与审核")
    choose_campaign(page, name)
    good_csv = write_csv(tmp_path / "entries.csv", GOOD_ROWS)
    entries = import_entries(page, good_csv, write_assets(tmp_path / "images.zip"))
    confirm_good_import(page, entries, name)
    precheck = open_tab(page, "预审")
    precheck.get_by_text("只看有提示的作品", exact=True).click()  # any rerun will do
    settle(page)
    entries = open_tab(page, "导入作品")
    screenshot(page, "intake-bug-saved-file-refused")
    expect(error_box(entries)).to_have_count(0)


# --- the progress bar of an import ----------------------------------------------------------
PROGRESS_ENTRIES, PROGRESS_IMAGES = 40, 4


class SentBars:
    """Every progress-bar text the server sends this page, in order, read on its websocket.

    What the server sends does not depend on when the browser paints: a loaded browser draws
    several quick counts in one frame (seen: only the last of forty), the server still sent
    them. The server may itself fold updates it has not flushed yet into the last one, so a
    very quick stage can still arrive as its final count alone. A bar lives only while its
    import runs, so waiting for the run to end and then looking would never see it.
    """

    def __init__(self, page: Page) -> None:
        self.texts: list[str] = []
        page.on("websocket", lambda socket: socket.on("framereceived", self._frame))

    def _frame(self, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        message = ForwardMsg.FromString(payload)
        if message.WhichOneof("type") != "delta" or not message.delta.HasField("new_element"):
            return
        element = message.delta.new_element
        if element.WhichOneof("type") == "progress" and element.progress.text:
            # The text is the page's Markdown: its punctuation comes backslash-escaped.
            text = re.sub(r"\\(.)", r"\1", element.progress.text).strip()
            if not self.texts or self.texts[-1] != text:
                self.texts.append(text)


def jpeg_bytes(number: int) -> bytes:
    """A 1200x900 photo-sized JPEG: large enough that checking 160 of them takes a while."""
    picture = Image.new("RGB", (1200, 900), (number * 53 % 256, 140, 255 - number % 256))
    picture.paste((number * 97 % 256, 30, 90), (number % 600, 100, number % 600 + 500, 600))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def write_many(folder: Path) -> tuple[Path, Path, Path]:
    """PROGRESS_ENTRIES shortlisted entries with 4 images each, and expert1's scores for them."""
    sheet, archive, scores = folder / "many.csv", folder / "many.zip", folder / "scores.csv"
    codes = [f"PB-{i:02d}" for i in range(PROGRESS_ENTRIES)]
    with sheet.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for i, code in enumerate(codes):
            names = ";".join(f"{code}-{k}.jpg" for k in range(PROGRESS_IMAGES))
            category = ("数字政府", "数字经济")[i % 2]
            writer.writerow(
                [code, f"作品 {i}", "某单位", category, "大数据", i, names, "shortlisted"]
            )
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        for i, code in enumerate(codes):
            for k in range(PROGRESS_IMAGES):
                bundle.writestr(f"{code}-{k}.jpg", jpeg_bytes(i * PROGRESS_IMAGES + k))
    with scores.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["reviewer", "code", "criterion", "score"])
        for code in codes:
            writer.writerows([["expert1", code, "innovation", 40], ["expert1", code, "impact", 30]])
    return sheet, archive, scores


def bar(scope: Locator) -> Locator:
    return scope.get_by_test_id("stProgress")


@pytest.mark.timeout(300)
def test_imports_show_a_progress_bar_while_they_run(page, demo_server, tmp_path):
    name = "2019导入演练（进度条）"
    sent = SentBars(page)
    new_campaign(page, demo_server.base_url, tmp_path, f"{SLUG}-progress", name)
    go(page, "作品导入与审核")
    choose_campaign(page, name)
    sheet, archive, scores = write_many(tmp_path)
    files = PROGRESS_ENTRIES * PROGRESS_IMAGES

    # Planning: the files are counted as they are checked and thumbnailed, then the bar goes.
    entries = open_tab(page, "导入作品")
    upload(page, entries, "表格文件", sheet)
    uploader = entries.get_by_test_id("stFileUploader").filter(has_text="图片与材料")
    uploader.locator("input[type='file']").set_input_files(str(archive))
    counting = re.compile(rf"正在检查文件并生成缩略图：[1-9]\d* / {files}")
    expect(bar(entries)).to_contain_text(counting)
    screenshot(page, "intake-progress-files-desktop")
    settle(page)
    expect(bar(entries)).to_have_count(0)
    expect(success_box(entries)).to_have_text(
        f"检查通过：{PROGRESS_ENTRIES} 件作品，{files} 个文件。确认后保存。"
    )

    # Writing, on a phone: the confirmed run checks again, then saves the entries.
    page.set_viewport_size({"width": 390, "height": 844})
    entries.get_by_role("button", name="确认导入", exact=True).click()
    expect(bar(entries)).to_contain_text(counting)
    screenshot(page, "intake-progress-phone")
    settle(page)
    expect(success_box(entries).last).to_have_text(f"{name}：已导入 {PROGRESS_ENTRIES} 个作品。")
    expect(bar(main_area(page))).to_have_count(0)
    page.set_viewport_size({"width": 1400, "height": 900})

    seen = list(sent.texts)
    checked = [s for s in seen if s.startswith("正在检查文件并生成缩略图")]
    # Each run that plans counts up to every file the table names, by tens; a count that
    # falls starts the next run: the one with the zip, then the confirmed one.
    runs: list[list[int]] = []
    for text in checked:
        done, total = map(int, re.search(r"(\d+) / (\d+)$", text).groups())
        assert total == files and done % 10 == 0, text
        if not runs or done < runs[-1][-1]:
            runs.append([])
        runs[-1].append(done)
    # Under load a run may be cut short by the next rerun (seen: a run of [10] before the
    # zip's): two runs, the zip's and the confirmed one, count all the way up.
    assert sum(len(set(run)) >= 3 for run in runs) >= 2, runs
    saving = [s for s in seen if s.startswith("正在保存作品")]
    # Saving forty entries is quick: the server may fold its counts into one message
    # (tests/importers/test_entries_progress.py holds every count). They only rise.
    saved = [int(re.search(r"(\d+) / \d+$", s).group(1)) for s in saving]
    assert saved and saved == sorted(saved), saving
    assert seen.index(saving[0]) > seen.index(checked[0])  # the check, then the write

    # The scores import has its bar too: the sheets counted as they are prepared.
    scores_tab = open_tab(page, "导入评分")
    upload(page, scores_tab, "表格文件", scores)
    scores_tab.get_by_role("button", name="导入", exact=True).click()
    settle(page)
    expect(success_box(scores_tab)).to_contain_text(name)
    expect(bar(main_area(page))).to_have_count(0)
    sheets = [s for s in sent.texts if s.startswith("正在保存评分表")]
    # A small scores file may be written within one of the server's 10 ms sends, which then
    # carries the bar's removal alone; when the bar is sent, its counts only rise.
    counted = [int(re.search(r"(\d+) / \d+$", s).group(1)) for s in sheets]
    assert counted == sorted(counted), sheets
