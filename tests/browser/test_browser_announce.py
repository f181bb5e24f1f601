"""The announcement on a projector: driven by keys to the end and past it, never a traceback.

The organiser rehearses before finalising (every step watermarked 彩排 / REHEARSAL), the
list is finalised from the command line, and the ceremony itself closes on the snapshot's
SHA-256. The audience sees no buttons; a hint about the keys fades away. This module
finalises a demo campaign, so it runs on a server of its own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from browser_helpers import (
    REPO,
    choose,
    login,
    main_area,
    open_app,
    refresh_docs_screenshot,
    screenshot,
    sidebar,
    wait_for_app,
)
from playwright.sync_api import Page, expect

CAMPAIGN = "2020青岛信息化典型案例评选"
SLUG = "qd-2020"
PROJECTOR = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
MOST_STEPS = 80  # the demo's winners and groups, with room to spare


@pytest.fixture(scope="module")
def demo_server(module_demo_server):
    """Finalising here must not change the demo the other modules see."""
    return module_demo_server


def part(page: Page, name: str):
    return main_area(page).locator(f".rd-{name}")


def press(page: Page, key: str) -> None:
    """A key, then the two runs it causes (the click's and its st.rerun's) finished."""
    page.keyboard.press(key)
    wait_for_app(page)
    expect(page.locator("[data-stale='true']")).to_have_count(0)
    wait_for_app(page)


def start(page: Page) -> None:
    page.set_viewport_size(PROJECTOR)
    choose(page, sidebar(page).get_by_role("combobox", name="评选活动"), CAMPAIGN)
    sidebar(page).get_by_test_id("stSidebarNavLink").filter(has_text="结果发布").click()
    wait_for_app(page)
    main_area(page).get_by_role("button", name=re.compile("开始发布")).click()
    wait_for_app(page)
    page.mouse.move(960, 540)  # the pointer rests on the stage, not on the organiser's buttons
    expect(part(page, "campaign")).to_have_text(CAMPAIGN)


def shown(page: Page) -> str:
    return " | ".join(main_area(page).locator("[class^='rd-']").all_inner_texts())


def to_the_end(page: Page) -> int:
    """→ until the close shows, each press one step on; returns how many presses it took."""
    for presses in range(1, MOST_STEPS):
        before = shown(page)
        press(page, "ArrowRight")
        for _ in range(50):  # a rerun may still be drawing
            if shown(page) != before:
                break
            page.wait_for_timeout(100)
        assert shown(page) != before, f"press {presses} did not move on from {before!r}"
        if part(page, "seal").count():
            return presses
    raise AssertionError("the announcement never reached its close")


def buttons_hidden(page: Page) -> None:
    """No control is on the audience's screen (the organiser's are transparent until hovered)."""
    keys = page.locator(".st-key-announce_keys")
    expect(keys).to_have_count(1)
    assert keys.evaluate("e => getComputedStyle(e).opacity") == "0"


def finalise_demo(data_dir) -> str:
    """Lock the panels and finalise from the command line, acknowledging each provisional award."""
    env = {**os.environ, "REVIEWDESK_DATA_DIR": str(data_dir), "REVIEWDESK_LANGUAGE": "en"}
    env.pop("REVIEWDESK_DATABASE_URL", None)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "scoring.cli", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    for panel in ("expert", "media"):
        assert cli("lock", SLUG, panel, "--reason", "评审结束").returncode == 0
    refused = cli("finalise", SLUG)
    provisional = sorted(set(re.findall(r"QD2020-\d+", refused.stderr)))
    acknowledged = [a for code in provisional for a in ("--acknowledge", f"{code}=委员会确认")]
    done = cli("finalise", SLUG, *acknowledged)
    assert done.returncode == 0, done.stderr
    return re.search(r"[0-9a-f]{64}", done.stdout).group(0)


@pytest.mark.timeout(600)  # two walks through every step of the demo, a run per key press
def test_the_rehearsal_then_the_ceremony_end_on_the_snapshot_hash(page, demo_server):
    open_app(page, demo_server.base_url)
    login(page, "organiser")

    # The rehearsal: before finalising, every step says so.
    start(page)
    expect(part(page, "watermark")).to_have_text("彩排 / REHEARSAL")
    expect(part(page, "waiting")).to_have_text("即将揭晓")
    expect(part(page, "hint")).to_contain_text("Esc")
    buttons_hidden(page)
    press(page, "ArrowRight")
    expect(part(page, "title")).to_be_visible()
    expect(part(page, "watermark")).to_be_visible()
    expect(part(page, "hint")).to_have_css("opacity", "0", timeout=10_000)  # it faded
    rehearsal = screenshot(page, "announce-rehearsal-step")
    presses = to_the_end(page)
    expect(part(page, "group")).to_have_text("发布结束，谢谢！")
    expect(part(page, "seal")).to_contain_text("尚未定稿")
    # Past the last winner: more presses keep the close, Esc still leaves.
    press(page, "ArrowRight")
    press(page, "Space")
    expect(part(page, "group")).to_have_text("发布结束，谢谢！")
    press(page, "Escape")
    expect(part(page, "campaign")).to_have_count(0)
    expect(main_area(page).locator("h1")).to_have_text(["结果发布"])

    # The ceremony: finalised, no watermark, and the close carries the seal.
    sha = finalise_demo(demo_server.data_dir)
    main_area(page).get_by_role("button", name=re.compile("开始发布")).click()
    wait_for_app(page)
    page.mouse.move(960, 540)
    expect(part(page, "waiting")).to_have_text("即将揭晓")
    expect(part(page, "watermark")).to_have_count(0)
    press(page, "Space")  # space moves on like →
    expect(part(page, "title")).to_be_visible()
    press(page, "ArrowLeft")
    expect(part(page, "waiting")).to_have_text("即将揭晓")
    assert to_the_end(page) == presses + 1  # the same list, step for step, from the first
    press(page, "ArrowRight")
    expect(part(page, "group")).to_have_text("发布结束，谢谢！")
    expect(part(page, "seal")).to_contain_text(sha)
    expect(part(page, "seal").locator("code")).to_be_in_viewport()
    buttons_hidden(page)
    expect(part(page, "hint")).to_have_css("opacity", "0", timeout=10_000)
    projector = screenshot(page, "announce-last-step-projector")
    refresh_docs_screenshot(projector, "announce-end.png")
    assert rehearsal.exists()

    page.set_viewport_size(PHONE)
    expect(part(page, "seal").locator("code")).to_contain_text(sha)
    page.wait_for_timeout(300)
    screenshot(page, "announce-last-step-phone")
    press(page, "ArrowLeft")  # back from the close: the last winner again
    expect(part(page, "title")).to_be_visible()
    press(page, "Escape")
    expect(part(page, "campaign")).to_have_count(0)
