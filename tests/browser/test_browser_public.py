"""The public side (SPEC §8) as a citizen on a phone meets it: the hall, an entry, one vote.

One server for the module, on a demo whose Qingdao campaign has its hall on and voting open
(set in the database, as the organisers' settings page would). Every browser of this machine
connects from 127.0.0.1: to the app they are all one IP, so a second browser's vote the same
day is the second vote of that IP.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from browser_helpers import (
    RUN_TIMEOUT_MS,
    header_texts,
    login,
    login_form,
    main_area,
    nav_labels,
    open_app,
    screenshot,
    titles,
    wait_for_app,
    wait_for_logged_in_page,
)
from playwright.sync_api import Page, expect
from sqlmodel import select

from scoring.permissions import Actor
from scoring.services.standings import standings_frame
from scoring.storage.database import Database
from scoring.storage.models import Campaign, Entry, VoteTally, utcnow

pytestmark = pytest.mark.browser

QD = "qd-2020"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = Path("/tmp/shots/hall")
RULE = "每个IP每天限投1票"
AGAIN = "请明天再来"


@pytest.fixture(scope="module")
def demo_server(module_demo_server):
    """This module votes: its tallies must not move under other modules' standings."""
    database = _database(module_demo_server.data_dir)

    def open_hall(session) -> None:
        campaign = session.exec(select(Campaign).where(Campaign.slug == QD)).one()
        campaign.public_gallery = True
        campaign.vote_opens_at = utcnow() - timedelta(days=1)
        campaign.vote_closes_at = utcnow() + timedelta(days=30)
        session.add(campaign)

    database.write(open_hall)
    database.dispose()
    return module_demo_server


def _database(data_dir: Path) -> Database:
    return Database(f"sqlite:///{data_dir / 'reviewdesk.db'}")


def _shot(page: Page, name: str) -> None:
    """A screenshot in the test artifacts, and in /tmp/shots/hall when that folder exists."""
    path = screenshot(page, f"public-{name}")
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / f"{name}.png")


def _context(browser, viewport: dict, locale: str = "zh-CN"):
    context = browser.new_context(viewport=viewport, locale=locale)
    context.set_default_timeout(RUN_TIMEOUT_MS)
    return context


def _tally(data_dir: Path, code: str) -> int:
    database = _database(data_dir)
    try:
        with database.read() as session:
            votes = session.exec(
                select(VoteTally.votes)
                .join(Entry, Entry.id == VoteTally.entry_id)
                .join(Campaign, Campaign.id == Entry.campaign_id)
                .where(Campaign.slug == QD, Entry.code == code)
            ).first()
        return int(votes or 0)
    finally:
        database.dispose()


def _least_voted(data_dir: Path) -> tuple[str, str]:
    """(code, title) of a shortlisted entry below the best of its group: a vote moves its score."""
    database = _database(data_dir)
    try:
        with database.read() as session:
            campaign = session.exec(select(Campaign).where(Campaign.slug == QD)).one()
            frame = standings_frame(session, Actor.command_line(), campaign)
    finally:
        database.dispose()
    row = frame[frame["votes"] < 100].sort_values("votes").iloc[0]
    return str(row["code"]), str(row["title"])


def _standings_votes(page: Page, code: str) -> str:
    """The votes cell the organiser's standings show for ``code`` (searched by its code)."""
    search = main_area(page).get_by_label("搜索编号或名称")
    search.fill(code)
    search.press("Enter")
    wait_for_app(page)
    table = main_area(page).get_by_test_id("stDataFrame").first
    headers = header_texts(table)
    column = next(i for i, h in enumerate(headers) if h.startswith("网络投票"))
    row = table.locator("tbody [role='row']").first.locator("[role='gridcell']")
    expect(row.nth(1)).to_have_text(code)
    return row.nth(column).inner_text().strip()


def test_a_visitor_on_a_phone_browses_opens_an_entry_and_votes_once(browser, demo_server):
    code, title = _least_voted(demo_server.data_dir)
    before = _tally(demo_server.data_dir, code)

    organiser_context = _context(browser, {"width": 1920, "height": 1080})
    phone = _context(browser, PHONE)
    second = _context(browser, PHONE)
    try:
        visitor = phone.new_page()
        # The server's very first request: Streamlit would list pages/ itself, were it not
        # for the gate; the hall goes through it and shows no page list.
        open_app(visitor, demo_server.base_url, f"hall?campaign={QD}")
        expect(titles(visitor)).to_have_text(["网上展厅"])
        expect(login_form(visitor)).to_have_count(0)  # a public page: no login form
        expect(nav_labels(visitor)).to_have_count(0)  # and no page list
        expect(visitor.get_by_test_id("stSidebarNav")).to_have_count(0)
        expect(main_area(visitor).get_by_text(RULE)).to_be_visible()
        cards = main_area(visitor).locator("[class*='st-key-hall_card_']")
        expect(cards.first).to_be_visible()
        first, second_card = cards.nth(0).bounding_box(), cards.nth(1).bounding_box()
        assert first and second_card
        assert first["x"] >= 0 and first["x"] + first["width"] <= PHONE["width"]
        assert second_card["y"] >= first["y"] + first["height"]  # one card per row
        _shot(visitor, "phone-zh-hall")

        search = main_area(visitor).get_by_label("搜索名称或公开信息")
        search.fill(code)
        search.press("Enter")
        wait_for_app(visitor)
        expect(main_area(visitor).get_by_text(title, exact=True)).to_have_count(1)
        main_area(visitor).get_by_role("link", name="查看作品").first.click()
        wait_for_app(visitor)
        expect(main_area(visitor).get_by_text(title, exact=True)).to_be_visible()
        expect(main_area(visitor).get_by_test_id("stImage")).to_have_count(4)  # every image
        entry_path = visitor.url.removeprefix(demo_server.base_url)

        organiser = organiser_context.new_page()
        open_app(organiser, demo_server.base_url)
        login(organiser, "organiser")
        open_app(organiser, demo_server.base_url, f"standings?campaign={QD}")
        wait_for_logged_in_page(organiser)
        shown_before = _standings_votes(organiser, code)

        # A second phone on the same IP opens the entry before the first one votes.
        other = second.new_page()
        open_app(other, demo_server.base_url, entry_path)
        other.wait_for_timeout(1000)  # the cookie component's own rerun comes after the load
        wait_for_app(other)
        expect(main_area(other).get_by_role("button", name="为本作品投票")).to_be_enabled()
        vote_button = main_area(visitor).get_by_role("button", name="为本作品投票")
        expect(vote_button).to_be_enabled()
        _shot(visitor, "phone-zh-entry")

        vote_button.dblclick()  # a double click counts once
        wait_for_app(visitor)
        expect(main_area(visitor).get_by_text("投票成功")).to_be_visible()
        expect(vote_button).to_be_disabled()
        _shot(visitor, "phone-zh-voted")
        assert _tally(demo_server.data_dir, code) == before + 1

        main_area(other).get_by_role("button", name="为本作品投票").click()
        wait_for_app(other)
        refusal = main_area(other).get_by_test_id("stAlert").filter(has_text=AGAIN)
        expect(refusal).to_contain_text(RULE)
        _shot(other, "phone-zh-refused")
        assert _tally(demo_server.data_dir, code) == before + 1

        # Back later the same day, the page says so before any click.
        other.reload()
        wait_for_app(other)
        expect(main_area(other).get_by_text("您今天已为本作品投票")).to_be_visible()
        expect(main_area(other).get_by_role("button", name="为本作品投票")).to_be_disabled()
    finally:
        phone.close()
        second.close()

    try:
        organiser.reload()
        wait_for_logged_in_page(organiser)
        shown_after = _standings_votes(organiser, code)
        assert shown_after != shown_before
        database = _database(demo_server.data_dir)
        try:
            with database.read() as session:
                campaign = session.exec(select(Campaign).where(Campaign.slug == QD)).one()
                frame = standings_frame(session, Actor.command_line(), campaign)
        finally:
            database.dispose()
        expected = float(frame.set_index("code").loc[code, "votes"])
        assert float(shown_after) == pytest.approx(expected, abs=0.01)
        _shot(organiser, "desktop-zh-standings-after-vote")
    finally:
        organiser_context.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_hall_reads_in_both_languages_on_desktop_and_phone(browser, demo_server, lang):
    heading = {"zh": "网上展厅", "en": "Online exhibition hall"}[lang]
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = _context(browser, viewport)
        try:
            page = context.new_page()
            open_app(page, demo_server.base_url, f"hall?campaign={QD}&lang={lang}")
            expect(titles(page)).to_have_text([heading])
            _shot(page, f"{name}-{lang}-hall")
            opens = {"zh": "查看作品", "en": "View entry"}[lang]
            main_area(page).get_by_role("link", name=opens).first.click()
            wait_for_app(page)
            expect(main_area(page).get_by_test_id("stImage").first).to_be_visible()
            _shot(page, f"{name}-{lang}-entry")
        finally:
            context.close()


@pytest.mark.parametrize(
    "path",
    [
        f"standings?campaign={QD}",
        f"entry?code=QD2020-001&campaign={QD}",
        "setup",
        "intake",
        "users",
        "audit",
        "signin",
    ],
)
def test_a_logged_out_visitor_reaches_no_other_page(page, demo_server, path):
    open_app(page, demo_server.base_url, path)
    page.wait_for_timeout(500)  # a page script that ran would have drawn by now
    wait_for_app(page)
    expect(login_form(page)).to_be_visible()
    expect(nav_labels(page)).to_have_count(0)
    expect(titles(page)).to_have_count(0)
    for secret in ("综合得分", "QD2020-001", "审计日志", "用户管理"):
        expect(main_area(page).get_by_text(secret)).to_have_count(0)


def test_a_hall_that_is_off_shows_nothing_of_its_campaign(page, demo_server):
    open_app(page, demo_server.base_url, "hall?campaign=dg-person-2020")
    expect(titles(page)).to_have_text(["网上展厅"])
    expect(main_area(page).get_by_text("找不到评选活动“dg-person-2020”的网上展厅")).to_be_visible()
    expect(main_area(page).get_by_test_id("stImage")).to_have_count(0)
    expect(login_form(page)).to_have_count(0)
