"""From a tie at the cut line to the announcement: the organiser's path through 定稿与导出.

ties → quota change (the field starts at the group's quota) → refusals shown in the
confirmation (open panel, undecided tie) → panel lock → tie decisions → committee override →
the confirmation listing what will be frozen, refused until each provisional award has a
reason → finalise: the 已定稿 banner with the SHA-256 → export download (checked with openpyxl
and ``scoring.export.verify_workbook``) → the standings, frozen → 结果发布, the full-screen
reveal, driven by the keyboard.

This FINALISES dg-person-2020 in the shared demo server: no other browser test may need that
campaign to be editable (test_browser_review only checks that expert5 cannot open
DGP2020-01, which stays true). qd-2020 is not touched.

Demo facts (``scoring/demo/builder.py``): 16 person entries DGP2020-01..16, one ranking
group "all", quota 10, one panel "expert" (专家评审); DGP2020-05 and DGP2020-06 share rank 7,
so a quota of 7 puts the tie across the cut line. DGP2020-01 (rank 11) gets the award by a
committee override.

A first test checks, before the walk and changing nothing, that the refusal to finalise
names the open panel the way the page does (专家评审, not its internal key).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_helpers import (
    alerts,
    go_to,
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
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from pypdf import PdfReader

from scoring.export import verify_workbook

pytestmark = pytest.mark.browser

CAMPAIGN = "2020数字政府创新人物评选"
SLUG = "dg-person-2020"
GROUP = "all"
PANEL = "专家评审"
TIED = ("DGP2020-05", "DGP2020-06")
OVERRIDDEN = "DGP2020-01"

QUOTA_REASON = "评委会决定本届获奖名额压缩为七名"
LOCK_REASON = "专家评审已全部结束"
TIE_REASONS = {TIED[0]: "评委会投票七比二支持获奖", TIED[1]: "评委会投票二比七不予获奖"}
OVERRIDE_REASON = "评委会一致认为其基层创新事迹突出"

PANELS_OPEN = re.compile(r"^现在还不能定稿：还有评审组未锁定：.+。请先锁定再定稿。$")
SHA256 = re.compile(r"[0-9a-f]{64}")
BANNER = re.compile(
    r"已定稿：\d{4}-\d\d-\d\d \d\d:\d\d UTC 由 organiser 定稿，最终名单已冻结。"
    r"SHA-256：[0-9a-f]{64}\s*$"
)
PHONE = {"width": 390, "height": 844}


# --- page pieces ------------------------------------------------------------------------------
def choose_campaign(page: Page) -> None:
    choose_campaign_of(page, CAMPAIGN)
    expect(main_area(page).get_by_text(CAMPAIGN, exact=True).first).to_be_visible()


def open_finalise_page(page: Page, base_url: str) -> None:
    open_app(page, base_url)
    login(page, "organiser")
    go_to(page, "定稿与导出")
    choose_campaign(page)
    expect(titles(page)).to_have_text(["定稿与导出"])


def form(page: Page, heading: str) -> Locator:
    """The st.form whose bold heading starts with ``heading``."""
    return main_area(page).get_by_test_id("stForm").filter(has_text=heading)


def pick_option(page: Page, combobox: Locator, starts_with: str) -> None:
    """Pick the option of a selectbox whose text is or starts with ``starts_with`` (a code).

    A click that lands while the page still scrolls after a rerun focuses the box without
    opening its list: open it again until the option shows (at most three tries).
    """
    name = re.compile(rf"^{re.escape(starts_with)}(\s|$)")
    option = page.get_by_role("option", name=name)
    for _ in range(3):
        combobox.scroll_into_view_if_needed()
        combobox.click()
        try:
            option.wait_for(state="visible", timeout=3_000)
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    option.click()
    settle(page)
    expect(combobox).to_have_value(name)


def pending_table(page: Page) -> Locator:
    """定稿前待决定事项: the first st.dataframe of the page (the locks are plain columns)."""
    return main_area(page).get_by_test_id("stDataFrame").first


def pending_row(page: Page, code: str) -> Locator:
    # The grid draws on a canvas; its accessible copy is a table inside the canvas, hidden
    # to role queries, so read it with CSS (as browser_helpers.table_cells does).
    return pending_table(page).locator("tbody tr[role='row']").filter(has_text=code)


def lock_row(page: Page) -> Locator:
    """The row of the panel lock: name and state, reason field, 锁定/解锁 button."""
    return (
        main_area(page)
        .get_by_test_id("stHorizontalBlock")
        .filter(has=page.get_by_text(PANEL, exact=True))
        .filter(has=page.get_by_test_id("stTextInput"))
    )


def finalise_button(page: Page) -> Locator:
    """The page's 定稿… button: it only opens the confirmation, it freezes nothing."""
    return main_area(page).get_by_role("button", name="定稿…", exact=True)


def open_confirmation(page: Page) -> Locator:
    """Press 定稿… and return the confirmation dialog it opens."""
    finalise_button(page).scroll_into_view_if_needed()
    finalise_button(page).click()
    settle(page)
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("确认定稿")
    return dialog


def confirm_button(dialog: Locator) -> Locator:
    return dialog.get_by_role("button", name="确认定稿", exact=True)


def close_confirmation(page: Page, dialog: Locator) -> None:
    dialog.get_by_role("button", name="取消", exact=True).click()
    settle(page)
    expect(page.get_by_role("dialog")).to_have_count(0)


def refusal(scope: Locator) -> Locator:
    return scope.get_by_test_id("stAlert").filter(
        has=scope.page.locator("[data-testid='stAlertContentError']")
    )


def banner(page: Page) -> Locator:
    """The 已定稿 banner every organiser page shows once the campaign is finalised."""
    return alerts(page).filter(has_text="已定稿：")


def at_phone_size(page: Page, name: str) -> Path:
    """A screenshot at 390 x 844 (a phone), the window restored afterwards."""
    viewport = page.viewport_size
    page.set_viewport_size(PHONE)
    try:
        page.wait_for_timeout(500)  # let the layout settle at the new width
        return screenshot(page, name)
    finally:
        if viewport:
            page.set_viewport_size(viewport)


def read_sheet(path: Path, name: str) -> list[dict[str, object]]:
    """A table sheet of the export as a list of {header: value}."""
    book = load_workbook(path, read_only=True, data_only=True)
    rows = [list(r) for r in book[name].iter_rows(values_only=True)]
    headers = [str(h) for h in rows[0]]
    return [dict(zip(headers, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]


def read_method_facts(path: Path) -> dict[str, object]:
    """The key/value lines at the top of the Method sheet (before the first [section])."""
    book = load_workbook(path, read_only=True, data_only=True)
    facts: dict[str, object] = {}
    for key, value, *_ in book["Method"].iter_rows(values_only=True):
        if isinstance(key, str) and key.startswith("["):
            break
        if key is not None:
            facts[str(key)] = value
    return facts


def settle(page: Page) -> None:
    """Wait for the run, then for Streamlit to drop the faded leftovers of the previous one.

    A button press that ends in ``st.rerun()`` runs the script twice; between the two runs
    the page reports "not running" while elements of the first run are still drawn faded.
    """
    wait_for_app(page)
    expect(page.locator("[data-stale='true']")).to_have_count(0)
    wait_for_app(page)


def font_px(element: Locator) -> float:
    return float(element.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def stage(page: Page, part: str) -> Locator:
    return main_area(page).locator(f".rd-{part}")


# --- the refusal names the open panel as the page does ---------------------------------------
def test_finalise_refusal_names_the_open_panel_as_the_page_shows_it(page, demo_server):
    open_finalise_page(page, demo_server.base_url)
    if finalise_button(page).count() == 0:
        pytest.skip(f"{SLUG} is already finalised (this test must run before the walk)")
    expect(lock_row(page)).to_contain_text("开放评分中")  # nothing locked yet: refused, no change
    dialog = open_confirmation(page)
    expect(refusal(dialog)).to_have_count(1)
    screenshot(page, "finalise-refused-panel-key")
    expect(refusal(dialog)).to_have_text(
        f"现在还不能定稿：还有评审组未锁定：{PANEL}。请先锁定再定稿。"
    )
    expect(confirm_button(dialog)).to_be_disabled()
    close_confirmation(page, dialog)
    expect(banner(page)).to_have_count(0)


# --- the walk -----------------------------------------------------------------------------------
def test_ties_override_finalise_download_and_announce(page, demo_server, tmp_path):
    open_finalise_page(page, demo_server.base_url)
    expect(finalise_button(page)).to_be_visible()
    for code in TIED:  # quota 10: the rank-7 pair is well inside the awards
        expect(pending_row(page, code)).to_have_count(0)

    # 1. A quota of 7 puts the rank-7 tie across the cut line. The field starts at the
    # group's quota now (10), so that applying it untouched changes nothing.
    pick_option(page, main_area(page).get_by_role("combobox", name="分组"), GROUP)
    quota = form(page, "原因").filter(has=page.get_by_label("获奖名额"))
    expect(quota.get_by_label("获奖名额")).to_have_value("10")
    quota.get_by_label("获奖名额").fill("7")
    quota.get_by_label("原因").fill(QUOTA_REASON)
    quota.get_by_role("button", name="应用").click()
    settle(page)
    for code in TIED:
        expect(pending_row(page, code)).to_contain_text("获奖线上并列")
        expect(pending_row(page, code)).to_contain_text("—")  # not decided yet
    pending_table(page).scroll_into_view_if_needed()
    screenshot(page, "finalise-1-quota-7-tie-pending")

    # 2. Finalising is refused while the panel is open, then while the tie is undecided.
    expect(lock_row(page)).to_contain_text("开放评分中")
    dialog = open_confirmation(page)
    expect(refusal(dialog)).to_have_count(1)
    expect(refusal(dialog)).to_have_text(PANELS_OPEN)
    expect(confirm_button(dialog)).to_be_disabled()
    screenshot(page, "finalise-2-refused-panel-open")
    close_confirmation(page, dialog)

    lock = lock_row(page)
    lock.get_by_label("原因").fill(LOCK_REASON)
    lock.get_by_label("原因").press("Enter")
    settle(page)
    lock.get_by_role("button", name="锁定", exact=True).click()
    settle(page)
    expect(lock_row(page)).to_contain_text(f"{PANEL} · 已锁定（{LOCK_REASON}）")
    expect(lock_row(page).get_by_role("button", name="解锁", exact=True)).to_be_visible()

    dialog = open_confirmation(page)
    expect(refusal(dialog)).to_have_text(
        f"现在还不能定稿：获奖线上的并列尚未决定：{TIED[0]}, {TIED[1]}"
    )
    expect(confirm_button(dialog)).to_be_disabled()
    screenshot(page, "finalise-2-locked-refused-undecided-tie")
    close_confirmation(page, dialog)

    # 3. The committee decides the tie: DGP2020-05 gets the award, DGP2020-06 does not.
    for code, award in ((TIED[0], "获奖"), (TIED[1], "不获奖")):
        tie = form(page, "决定并列作品是否获奖")
        pick_option(page, tie.get_by_role("combobox", name="编号"), code)
        tie.get_by_text(award, exact=True).click()
        tie.get_by_label("原因").fill(TIE_REASONS[code])
        tie.get_by_role("button", name="记录决定").click()
        settle(page)
        expect(refusal(main_area(page))).to_have_count(0)
        expect(pending_row(page, code)).to_contain_text("✓")
    pending_table(page).scroll_into_view_if_needed()
    screenshot(page, "finalise-3-tie-decided")

    # 4. A committee override grants DGP2020-01 (rank 11) the award, with its reason.
    override = form(page, "增加、取消或改授奖项")
    pick_option(page, override.get_by_role("combobox", name="编号"), OVERRIDDEN)
    override.get_by_text("授予奖项", exact=True).click()
    override.get_by_label("原因").fill(OVERRIDE_REASON)
    override.get_by_role("button", name="应用").click()
    settle(page)
    expect(refusal(main_area(page))).to_have_count(0)
    line = (
        main_area(page)
        .get_by_test_id("stHorizontalBlock")
        .filter(has=page.get_by_role("button", name="撤回调整"))
    )
    expect(line).to_have_count(1)
    expect(line).to_contain_text(f"{OVERRIDDEN} ")
    expect(line).to_contain_text(f"：获奖（{OVERRIDE_REASON}）")
    # It sits under the 评委会调整 heading, before the forms.
    heading = main_area(page).locator("h3").filter(has_text="评委会调整")
    assert heading.bounding_box()["y"] < line.bounding_box()["y"]
    line.scroll_into_view_if_needed()
    screenshot(page, "finalise-4-override-listed")

    # 5. Finalise: a confirmation shows what will be frozen (the awards of the group, the
    # override, the tie decisions) and asks a reason for each provisional award; refused
    # until each has one. Then the list is frozen and every organiser page says so.
    dialog = open_confirmation(page)
    expect(refusal(dialog)).to_have_count(0)
    expect(dialog).to_contain_text(f"将冻结“{CAMPAIGN}”的最终名单")
    expect(dialog).to_contain_text(f"{GROUP}：名额 7，获奖 8 个")
    expect(dialog).to_contain_text(f"{OVERRIDDEN} ")
    expect(dialog).to_contain_text(f"：获奖（{OVERRIDE_REASON}）")
    expect(dialog).to_contain_text("并列决定（2 项）")
    expect(dialog).to_contain_text(f"：获奖（{TIE_REASONS[TIED[0]]}）")
    expect(dialog).to_contain_text(f"：不获奖（{TIE_REASONS[TIED[1]]}）")
    reasons = dialog.get_by_label("暂定获奖的原因")
    assert reasons.count() > 0  # the demo's awards include provisional ones
    expect(dialog).to_contain_text(f"暂定获奖（{reasons.count()} 个）")
    screenshot(page, "finalise-5-confirmation")  # docs/screenshots/finalise-dialog.png
    at_phone_size(page, "finalise-5-confirmation-phone")
    confirm_button(dialog).click()
    settle(page)
    expect(refusal(dialog)).to_contain_text("每个暂定获奖都须填写确认原因")
    expect(banner(page)).to_have_count(0)  # refused: nothing frozen
    for index in range(reasons.count()):
        reasons.nth(index).fill("评委会确认：评审数不足但结果明确")
    confirm_button(dialog).click()
    settle(page)
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(banner(page)).to_have_text(BANNER)
    shown_sha = SHA256.search(banner(page).inner_text()).group(0)
    expect(finalise_button(page)).to_have_count(0)
    expect(form(page, "增加、取消或改授奖项")).to_have_count(0)
    expect(lock_row(page).get_by_role("button", name="解锁", exact=True)).to_be_disabled()
    expect(main_area(page).locator("h3").filter(has_text="定稿前待决定事项")).to_have_count(0)
    expect(main_area(page).get_by_text("导出的是已定稿的最终名单")).to_be_visible()
    expect(main_area(page).get_by_text("未定稿时导出的是当前实时结果")).to_have_count(0)
    page.get_by_test_id("stMain").get_by_text("定稿与导出").first.scroll_into_view_if_needed()
    screenshot(page, "finalise-5-finalised-sha")  # docs/screenshots/finalised-banner.png
    at_phone_size(page, "finalise-5-finalised-sha-phone")

    # 6. The export: the frozen list, the override reason, the same SHA, and it verifies.
    download_button = main_area(page).get_by_role("button", name="下载导出工作簿（.xlsx）")
    with page.expect_download() as download_info:
        download_button.click()
    download = download_info.value
    assert download.suggested_filename == f"{SLUG}-final.xlsx"
    workbook = tmp_path / download.suggested_filename
    download.save_as(workbook)
    settle(page)

    final = read_sheet(workbook, "Final list")
    by_code = {str(r["code"]): r for r in final}
    assert len(by_code) == 16
    assert by_code[OVERRIDDEN]["override_reason"] == OVERRIDE_REASON
    assert by_code[OVERRIDDEN]["award"] == "yes"
    assert by_code[TIED[0]]["award"] == "yes"
    assert by_code[TIED[1]]["award"] == "no"
    assert all(by_code[c]["override_reason"] is None for c in by_code if c != OVERRIDDEN)
    assert {str(r["group"]) for r in final} == {GROUP}
    facts = read_method_facts(workbook)
    assert facts["snapshot_sha256"] == shown_sha
    assert facts["slug"] == SLUG
    differences = verify_workbook(workbook)
    assert differences == [], "\n".join(str(d) for d in differences)

    # The certificates, printed from the same snapshot: a page per winner, each with its hash.
    with page.expect_download() as download_info:
        main_area(page).get_by_role("button", name="下载荣誉证书（PDF）").click()
    certificates = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(certificates)
    settle(page)
    pages = [p.extract_text() for p in PdfReader(certificates).pages]
    assert len(pages) == sum(1 for r in final if r["award"] == "yes")
    assert all(shown_sha in text.replace("\n", "") for text in pages)

    # Reveal order "last first": highest rank number among the winners first (ties by code).
    winners = sorted(
        (r for r in final if r["award"] == "yes"), key=lambda r: (-int(r["rank"]), str(r["code"]))
    )
    assert len(winners) == 8  # 7 by the quota (after the tie decision) + the override
    # The group's own sheet of winners lists the same eight (read whatever rows head it).
    group_sheet = load_workbook(workbook, read_only=True, data_only=True)[GROUP]
    listed = {v for row in group_sheet.iter_rows(values_only=True) for v in row if v in by_code}
    assert listed == {str(r["code"]) for r in winners}
    first, second = winners[0], winners[1]

    # The standings say the list is frozen, with the banner, and no longer refresh.
    go_to(page, "实时排名")
    expect(titles(page)).to_have_text(["实时排名"])
    expect(banner(page)).to_contain_text(shown_sha)
    expect(main_area(page).get_by_text(re.compile(r"^最终名单已于 .+ 冻结"))).to_be_visible()
    expect(main_area(page).get_by_text(re.compile(r"每 \d+ 秒自动刷新"))).to_have_count(0)
    screenshot(page, "finalise-6-standings-frozen")

    # 7. The announcement, on a projector-sized screen.
    page.set_viewport_size({"width": 1920, "height": 1080})
    go_to(page, "结果发布")
    expect(titles(page)).to_have_text(["结果发布"])
    expect(sidebar(page).get_by_role("combobox", name="评选活动")).to_have_value(CAMPAIGN)
    main_area(page).get_by_text("从最后一名到第一名", exact=True).click()
    settle(page)
    expect(main_area(page).get_by_role("radio", name="从最后一名到第一名")).to_be_checked()
    # A campaign ranked as one group ("all") is announced as the winners' list.
    expect(main_area(page).get_by_text(f"获奖名单 · {len(winners)} 个获奖")).to_be_visible()
    screenshot(page, "announce-1-setup")

    main_area(page).get_by_role("button", name=re.compile("开始发布")).click()
    settle(page)
    page.mouse.move(10, 1070)  # off the buttons: the pointer left there would show a hover style
    expect(sidebar(page)).to_be_hidden()
    expect(page.get_by_test_id("stHeader")).to_be_hidden()
    expect(stage(page, "campaign")).to_have_text(CAMPAIGN)
    expect(stage(page, "group")).to_have_text("获奖名单")
    expect(stage(page, "waiting")).to_have_text("即将揭晓")
    assert font_px(stage(page, "campaign")) >= 32
    assert font_px(stage(page, "group")) >= 56
    screenshot(page, "announce-2-stage-waiting")

    page.keyboard.press("ArrowRight")  # 下一位 → (shortcut "Right")
    settle(page)
    expect(stage(page, "title")).to_have_text(str(first["title"]))
    expect(stage(page, "applicant")).to_have_text(str(first["applicant"]))
    expect(stage(page, "meta")).to_have_text(re.compile(rf"^{first['code']}\b"))
    for part in ("title", "applicant"):
        expect(stage(page, part)).to_be_in_viewport()
    assert font_px(stage(page, "title")) >= 48
    assert font_px(stage(page, "applicant")) >= 32
    screenshot(page, "announce-3-first-winner")

    page.keyboard.press("ArrowRight")
    settle(page)
    expect(stage(page, "title")).to_have_text(str(second["title"]))
    expect(stage(page, "applicant")).to_have_text(str(second["applicant"]))
    expect(stage(page, "meta")).to_have_text(re.compile(rf"^{second['code']}\b"))
    expect(stage(page, "earlier")).to_have_text(f"{first['title']} · {first['applicant']}")
    screenshot(page, "announce-4-second-winner")

    page.keyboard.press("Escape")  # 退出发布 (shortcut "Esc")
    settle(page)
    expect(stage(page, "campaign")).to_have_count(0)
    expect(sidebar(page)).to_be_visible()
    expect(titles(page)).to_have_text(["结果发布"])
    screenshot(page, "announce-5-left")
