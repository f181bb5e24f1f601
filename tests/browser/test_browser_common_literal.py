"""The overview, the gallery and a reviewer's progress show hostile names as typed.

A campaign planted from the command line carries an image, a link and bold HTML in its name,
category, domain, entry title, a reviewer's display name and a conflict reason. In the
browser none of it may become an image, a link or bold text, the text must be readable
character for character, and ordinary text ("A-01", "1.5", Chinese) shows no backslash.
The module plants its own campaign, so it runs on a server of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from browser_helpers import (
    REPO,
    as_shown,
    login,
    main_area,
    open_app,
    screenshot,
    sidebar,
    wait_for_app,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

SLUG = "literal-2020"
IMAGE = "![x](http://evil.test/t.png)"
LINK = "[再次登录](http://evil.test/p)"
CAMPAIGN = f"评选 {IMAGE} <b>粗</b>"
CATEGORY = f"数字政府 {LINK}"
DOMAIN = "政务服务 **粗** $x$"
TITLE = f"智慧城市 1.5 {IMAGE}"
REASON = f"曾任顾问 {LINK} <b>b</b>"
DISPLAY = f"专家一 {IMAGE}"


@pytest.fixture(scope="module")
def demo_server(module_demo_server):
    """The demo plus one campaign of hostile names, assigned to expert1."""
    script = textwrap.dedent(
        f"""
        from sqlmodel import select
        from scoring import context
        from scoring.services.review import declare_conflict
        from scoring.storage.models import Account
        from tests.factories import actor_of, assigned, make_campaign, make_entry

        def work(session):
            campaign = make_campaign(
                session, slug={SLUG!r}, name={CAMPAIGN!r},
                categories=[{CATEGORY!r}], domains=[{DOMAIN!r}],
            )
            expert = session.exec(select(Account).where(Account.username == "expert1")).one()
            expert.display_name = {DISPLAY!r}
            for code in ("A-01", "A-02"):
                assigned(session, make_entry(session, campaign, code, title={TITLE!r}), expert)
            declare_conflict(session, actor_of(expert), campaign, "A-02", {REASON!r})

        context.database().write(work)
        """
    )
    env = dict(os.environ, REVIEWDESK_DATA_DIR=str(module_demo_server.data_dir))
    env.pop("REVIEWDESK_DATABASE_URL", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return module_demo_server


def _nothing_rendered(page: Page) -> None:
    """No data became an image, bold text or a formula, and no escape shows."""
    app = page.get_by_test_id("stApp")
    expect(app.locator("img[src*='evil.test']")).to_have_count(0)
    expect(app.locator("strong", has_text="粗")).to_have_count(0)
    expect(app.locator("b", has_text="粗")).to_have_count(0)
    expect(app.locator(".katex")).to_have_count(0)
    expect(app.get_by_text("\\", exact=False)).to_have_count(0)  # no escape shows


def _open(page: Page, base_url: str, path: str, username: str) -> None:
    open_app(page, base_url, f"{path}?campaign={SLUG}")
    login(page, username)
    wait_for_app(page)


def test_the_overview_names_the_campaign_as_typed(page, demo_server):
    _open(page, demo_server.base_url, "overview", "organiser")
    expect(main_area(page).locator("h1").first).to_have_text(as_shown(CAMPAIGN))
    _nothing_rendered(page)
    screenshot(page, "literal-overview")


def test_the_gallery_shows_names_and_titles_as_typed(page, demo_server):
    _open(page, demo_server.base_url, "entries", "expert1")
    main = main_area(page)
    expect(main.get_by_text(as_shown(f"{CAMPAIGN} · 分配给我的作品"), exact=False)).to_be_visible()
    expect(main.get_by_text(as_shown(f"{CATEGORY} · {DOMAIN}"), exact=True)).to_be_visible()
    expect(main.get_by_text(TITLE, exact=False)).to_be_visible()  # st.text: plain, as typed
    expect(sidebar(page).get_by_text(as_shown(DISPLAY), exact=True)).to_be_visible()
    _nothing_rendered(page)
    screenshot(page, "literal-gallery")


def test_a_reviewer_reads_a_declared_reason_as_typed(page, demo_server):
    _open(page, demo_server.base_url, "progress", "expert1")
    main = main_area(page)
    expect(main.get_by_text(as_shown(f"{CAMPAIGN} · "), exact=False)).to_be_visible()
    expect(main.get_by_text(as_shown(REASON), exact=False)).to_be_visible()
    _nothing_rendered(page)
    screenshot(page, "literal-progress")


@pytest.mark.parametrize(("path", "username"), [("overview", "organiser"), ("entries", "expert1")])
def test_no_address_in_data_becomes_a_link(page, demo_server, path, username):
    _open(page, demo_server.base_url, path, username)
    expect(page.get_by_test_id("stApp").locator("a[href*='evil.test']")).to_have_count(0)
