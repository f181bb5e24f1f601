"""The live standings' refresh: idle, it draws nothing; after a change, it redraws the page.

Every few seconds the page asks the server for the campaign's data version only. What the
browser receives is read on the app's websocket (Streamlit's ``ForwardMsg``): an idle
refresh is a few status messages and not one element, a redraw sends every element again.
Bytes would not tell: Streamlit sends a large element the browser already holds as a
reference to it, so a redrawn table costs the server its work but few bytes. The change is
written the way an organiser's decision is (an override, through ``scoring``) from another
process, on this module's own demo server so that no other test sees it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap

import pytest
from browser_helpers import (
    REPO,
    login,
    main_area,
    open_app,
    open_logged_in,
    titles,
    wait_for_app,
)
from playwright.sync_api import Page, expect
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

pytestmark = pytest.mark.browser

CAMPAIGN = "qd-2020"
REFRESH_BUDGET_MS = 20_000  # the standings refresh every 5 s by default

WATCH_JS = """() => {
  window.__runs = 0;
  const app = document.querySelector("[data-testid='stApp']");
  new MutationObserver(() => {
    if (app.dataset.testScriptState === 'running') window.__runs += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


@pytest.fixture(scope="module")
def demo_server(module_demo_server):
    return module_demo_server


def _received(page: Page) -> list[str]:
    """Grows by the kind of each message the page receives from the server from now on."""
    kinds: list[str] = []

    def read(data: bytes | str) -> None:
        if not isinstance(data, bytes):
            return
        msg = ForwardMsg.FromString(data)
        kind = msg.WhichOneof("type") or ""
        if kind == "delta":
            kind = msg.delta.WhichOneof("type") or ""
            if kind == "new_element":
                kind = f"element:{msg.delta.new_element.WhichOneof('type')}"
        kinds.append(kind)

    page.on("websocket", lambda ws: ws.on("framereceived", read))
    return kinds


def _element(kind: str) -> bool:
    """An element drawn, or a reference to one the browser has cached (a large one)."""
    return kind.startswith("element:") or kind == "ref_hash"


def _override(data_dir, code: str, reason: str) -> None:
    script = textwrap.dedent(
        f"""
        from scoring import context
        from scoring.permissions import Actor
        from scoring.services.campaigns import get_campaign
        from scoring.services.finalise import set_override

        def work(session):
            campaign = get_campaign(session, {CAMPAIGN!r})
            set_override(session, Actor.command_line(), campaign, {code!r}, True, {reason!r})

        context.database().write(work)
        """
    )
    env = dict(os.environ, REVIEWDESK_DATA_DIR=str(data_dir))
    env.pop("REVIEWDESK_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def _wait_for_runs(page: Page, count: int) -> None:
    page.wait_for_function(f"() => window.__runs >= {count}", timeout=REFRESH_BUDGET_MS * 2)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", state="attached"
    )


def test_an_idle_refresh_sends_nothing_and_a_change_is_redrawn(page, demo_server):
    kinds = _received(page)
    open_app(page, demo_server.base_url)
    login(page, "organiser")
    open_logged_in(page, demo_server.base_url, f"standings?campaign={CAMPAIGN}")
    expect(titles(page)).to_have_text(["实时排名"])
    expect(main_area(page).get_by_test_id("stDataFrame").first).to_be_visible()
    caption = main_area(page).get_by_text(re.compile(r"^数据最后变化于 "))
    before = caption.inner_text()

    # Under load the first table shows while the page's first run still sends the others:
    # that run ends before the watch starts.
    wait_for_app(page)

    # Left alone: two refreshes run, and neither sends a single element.
    page.evaluate(WATCH_JS)
    kinds.clear()
    _wait_for_runs(page, 2)
    assert "script_finished" in kinds
    assert [k for k in kinds if _element(k)] == [], kinds

    # A decision from elsewhere: the next refresh redraws, with the new time.
    page.wait_for_timeout(1100)  # the caption shows seconds: let the clock move on
    _override(demo_server.data_dir, "QD2020-001", "刷新测试")
    kinds.clear()
    expect(caption).not_to_have_text(before, timeout=REFRESH_BUDGET_MS)
    wait_for_app(page)
    assert len([k for k in kinds if _element(k)]) > 10, kinds
    expect(main_area(page).get_by_test_id("stDataFrame").first).to_be_visible()
