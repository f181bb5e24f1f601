"""The entry page and the stage in a real browser: hostile data stays text, and looks normal.

A title holding Markdown, HTML and a blank line, a category and a campaign named the same
way, and an address whose ``?code=`` carries an image and a "sign in again" link: the
browser fetches nothing from another host, draws no such image, link or bold text, and
shows every character as typed, with no escaping backslash in the ordinary text beside it
("1.5", "A-01", Chinese). The module plants its own campaign, so it runs on a server of its
own.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from browser_helpers import (
    DEMO_PASSWORD,
    RUN_TIMEOUT_MS,
    login_form,
    main_area,
    open_app,
    open_logged_in,
    screenshot,
    submit_login,
    wait_for_app,
)
from playwright.sync_api import Locator, Page, expect

IMAGE = "![x](http://evil.test/t.png)"
LINK = "[Sign in again](http://evil.test/p)"
TITLE = f"智慧城市 1.5 A-01 {IMAGE} {LINK} <b>B</b> **bold**"
BROKEN = f"第一行\n\n{IMAGE} <b>B</b>"
"""A blank line would end the stage's HTML block and let the rest render as Markdown."""
CAMPAIGN = f"评选 {IMAGE} <b>B</b>"
CATEGORY = f"数字政府 {IMAGE}"
SLUG = "literal-2020"
ADDRESSED = f"{IMAGE} {LINK}"
WORD_JOINER = "\u2060"
"""Invisible, placed in ``http:`` by the Markdown escaper so that no address is autolinked."""


def plant(data_dir: Path) -> None:
    """One campaign with hostile names, two entries granted an award, a reviewer of one."""
    from sqlmodel import select

    from scoring import context
    from scoring.permissions import Actor
    from scoring.services.accounts import create_account
    from scoring.services.assignments import assign
    from scoring.services.campaigns import create_campaign
    from scoring.services.finalise import set_override
    from scoring.settings import Settings
    from scoring.storage.models import Category, Domain, Entry

    cli = Actor.command_line()

    def work(session) -> None:
        accounts = {
            username: create_account(
                session,
                cli,
                username=username,
                display_name=username,
                role=role,
                password=DEMO_PASSWORD,
            )[0]
            for username, role in (("organiser", "organiser"), ("expert1", "expert"))
        }
        campaign = create_campaign(
            session,
            cli,
            {
                "slug": SLUG,
                "name": CAMPAIGN,
                "year": 2020,
                "categories": [CATEGORY],
                "domains": ["政务服务"],
                "vote_group": "category",
                "rank_group": "category",
                "award_quota": 2,
                "components": [
                    {"key": "expert", "kind": "panel", "weight": 100, "min_reviews": 1},
                ],
                "criteria": [
                    {"panel": "expert", "key": "a", "name": f"创新 {IMAGE}", "max_points": 60},
                    {"panel": "expert", "key": "b", "name": "成效", "max_points": 40, "step": 0.5},
                ],
            },
        )
        category = session.exec(select(Category).where(Category.campaign_id == campaign.id)).one()
        domain = session.exec(select(Domain).where(Domain.campaign_id == campaign.id)).one()
        for code, title in (("A-01", TITLE), ("A-02", BROKEN)):
            session.add(
                Entry(
                    campaign_id=campaign.id,
                    code=code,
                    title=title,
                    applicant=f"某单位 {LINK}",
                    category_id=category.id,
                    domain_id=domain.id,
                    status="shortlisted",
                )
            )
        session.flush()
        first = session.exec(select(Entry).where(Entry.code == "A-01")).one()
        assign(session, cli, entry=first, reviewer=accounts["expert1"])
        for code in ("A-01", "A-02"):
            set_override(session, cli, campaign, code, True, f"评委会 {LINK}")

    context.database(Settings(data_dir=data_dir, database_url=None)).write(work)


@pytest.fixture(scope="module")
def demo_server(planted_server):
    return planted_server


@pytest.fixture
def watched(page):
    """The suite's page, with every request it makes recorded (none may leave the app)."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    return page, requests


def _sign_in(page: Page, base_url: str, username: str, requests: list[str]) -> None:
    """Log in; what the landing page requested is another page's concern, so it is dropped."""
    open_app(page, base_url)
    submit_login(page, username, DEMO_PASSWORD)
    # A first login on a busy machine draws the landing page for longer than expect's 5 s.
    expect(login_form(page)).to_have_count(0, timeout=RUN_TIMEOUT_MS)
    wait_for_app(page)
    requests.clear()


def _outside(requests: list[str], base_url: str) -> list[str]:
    own = urlsplit(base_url).netloc
    return [url for url in requests if urlsplit(url).netloc not in ("", own)]


def _seen(where: Locator) -> list[str]:
    """The texts a reader sees in each element found (the invisible word joiners left out)."""
    where.first.wait_for(state="visible")
    return [text.replace(WORD_JOINER, "").strip() for text in where.all_inner_texts()]


def _nothing_rendered(page: Page) -> None:
    """No image or link that data could have made, and no bold "B" from a tag."""
    area = main_area(page)
    expect(page.locator("img[src*='evil.test']")).to_have_count(0)
    expect(page.locator("a[href*='evil.test']")).to_have_count(0)  # nor an autolinked address
    expect(area.get_by_role("link", name="Sign in again")).to_have_count(0)
    expect(area.locator("b, strong").filter(has_text="B")).to_have_count(0)
    expect(area.locator("strong", has_text="bold")).to_have_count(0)


def test_the_entry_page_shows_a_hostile_title_as_typed(watched, demo_server):
    page, requests = watched
    _sign_in(page, demo_server.base_url, "expert1", requests)
    open_logged_in(page, demo_server.base_url, f"entry?code=A-01&campaign={SLUG}")
    area = main_area(page)
    assert _seen(area.locator("h1")) == [f"A-01 · {TITLE}"]
    assert f"{CATEGORY} · 政务服务 · " in _seen(area)[0]
    assert f"创新 {IMAGE}" in _seen(area.locator("strong"))
    expect(area.get_by_label("0–40 分，步长 0.5")).to_have_count(
        1
    )  # no backslash for a screen reader
    assert "\\" not in area.inner_text()
    _nothing_rendered(page)
    screenshot(page, "literal-pages-entry")
    assert _outside(requests, demo_server.base_url) == []


def test_a_code_in_the_address_is_echoed_as_typed(watched, demo_server):
    page, requests = watched
    _sign_in(page, demo_server.base_url, "expert1", requests)
    open_logged_in(page, demo_server.base_url, f"entry?code={quote(ADDRESSED)}&campaign={SLUG}")
    assert _seen(main_area(page).get_by_test_id("stAlert")) == [f"找不到作品“{ADDRESSED}”。"]
    _nothing_rendered(page)
    assert _outside(requests, demo_server.base_url) == []


def _next_step(page: Page) -> None:
    """→, then wait until the stage shows the next step (a rerun may still be drawing)."""
    before = main_area(page).locator("[class^='rd-']").all_inner_texts()
    page.keyboard.press("ArrowRight")
    wait_for_app(page)
    expect(page.locator("[data-stale='true']")).to_have_count(0)
    for _ in range(50):
        if main_area(page).locator("[class^='rd-']").all_inner_texts() != before:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"→ did not move on from {before!r}")


def test_the_stage_shows_titles_as_typed_at_every_step(watched, demo_server):
    page, requests = watched
    _sign_in(page, demo_server.base_url, "organiser", requests)
    open_logged_in(page, demo_server.base_url, f"announce?campaign={SLUG}")
    area = main_area(page)
    assert CAMPAIGN in _seen(area.get_by_test_id("stCaptionContainer"))
    page.set_viewport_size({"width": 1600, "height": 1000})
    area.get_by_role("button", name="开始发布").click()
    wait_for_app(page)
    expect(area.locator(".rd-campaign")).to_have_text(CAMPAIGN)
    page.mouse.move(800, 500)  # on the stage, not on the organiser's hidden buttons
    titles, applicants = [], []
    for _ in range(6):  # a winner a step, then the close
        _next_step(page)
        _nothing_rendered(page)
        shown = area.locator(".rd-title").all_inner_texts()
        titles += shown
        applicants += area.locator(".rd-applicant").all_inner_texts()
        if shown and len(titles) == 2:  # the second winner, the first one listed under it
            screenshot(page, "literal-pages-stage")
        if area.locator(".rd-seal").count():
            break
    # The blank line is gone (the browser shows the joined lines with one space), the rest
    # of the title is text in the same block.
    assert titles == [TITLE, f"第一行 {IMAGE} <b>B</b>"]
    assert applicants == [f"某单位 {LINK}"] * 2
    assert _outside(requests, demo_server.base_url) == []


def test_standings_and_meeting_name_the_campaign_and_group_as_typed(watched, demo_server):
    page, requests = watched
    _sign_in(page, demo_server.base_url, "organiser", requests)
    for name in ("standings", "meeting"):
        open_logged_in(page, demo_server.base_url, f"{name}?campaign={SLUG}")
        area = main_area(page)
        assert CAMPAIGN in _seen(area.get_by_test_id("stCaptionContainer"))
        if name == "standings":
            assert CATEGORY in _seen(area.locator("h3"))
            screenshot(page, "literal-pages-standings")
        _nothing_rendered(page)
    assert _outside(requests, demo_server.base_url) == []
