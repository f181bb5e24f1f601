"""Helpers for the browser tests: waiting for Streamlit runs, logging in, reading the page.

Waiting follows Streamlit's own e2e tests: the app is connected, the script is not running
and no skeleton is shown.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from scoring.literal import markdown_literal

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
DEMO_PASSWORD = "review2020"
RUN_TIMEOUT_MS = 30_000

# Visible strings of the login form, per interface language (scoring/locales/*/core.toml).
LOGIN_LABELS = {
    "zh": {"username": "用户名", "password": "密码", "submit": "登录", "title": "登录评审台"},
    "en": {
        "username": "Username",
        "password": "Password",
        "submit": "Sign in",
        "title": "Sign in to ReviewDesk",
    },
}


def screenshot(page: Page, name: str) -> Path:
    """Save what the page shows now as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path))
    return path


def wait_for_app(page: Page, timeout: int = RUN_TIMEOUT_MS) -> None:
    """Wait for a finished script run, the way Streamlit's own e2e tests do."""
    page.wait_for_timeout(200)  # let a click reach the server and the run start
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']",
        state="attached",
        timeout=timeout,
    )
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']",
        state="attached",
        timeout=timeout,
    )
    expect(page.locator("[data-testid='stSkeleton']:visible")).to_have_count(0, timeout=timeout)


def open_app(page: Page, base_url: str, path: str = "") -> None:
    """Load a URL and wait for the first script run to have drawn something.

    Right after ``goto`` the app reports ``notRunning`` before its first run starts, so
    wait for an element of the main area first.
    """
    page.goto(f"{base_url}/{path.lstrip('/')}")
    page.locator("[data-testid='stMain'] [data-testid='stElementContainer']").first.wait_for(
        state="attached"
    )
    wait_for_app(page)


def wait_for_logged_in_page(page: Page) -> None:
    """After a page load in a browser holding a login cookie: wait for the page itself.

    Such a load runs the script twice: first with the login form (the cookie component has
    not answered yet), then the page; ``open_app`` may return between the two, and what is
    typed or clicked then is lost. The navigation appears only in the second run.
    """
    nav_labels(page).first.wait_for(state="attached")
    expect(login_form(page)).to_have_count(0)
    wait_for_app(page)


def open_logged_in(page: Page, base_url: str, path: str = "") -> None:
    """``open_app`` for a browser that is already logged in (see wait_for_logged_in_page)."""
    open_app(page, base_url, path)
    wait_for_logged_in_page(page)


def login_form(page: Page, lang: str = "zh") -> Locator:
    """The login form: the st.form under the sign-in title holding the username field.

    The title tells it apart from a page's form with a username field (user management)
    that stays on screen, stale, while the run that signs the user out draws the login.
    """
    labels = LOGIN_LABELS[lang]
    return (
        page.get_by_test_id("stForm")
        .filter(has=page.get_by_label(labels["username"]))
        .filter(has=page.get_by_role("heading", name=labels["title"]))
    )


def submit_login(page: Page, username: str, password: str, lang: str = "zh") -> None:
    """Fill and send the login form; waits for the run but not for a successful login."""
    labels = LOGIN_LABELS[lang]
    form = login_form(page, lang)
    form.get_by_label(labels["username"], exact=True).fill(username)
    form.get_by_label(labels["password"], exact=True).fill(password)
    form.get_by_role("button", name=labels["submit"], exact=True).click()
    wait_for_app(page)


def login(page: Page, username: str, password: str = DEMO_PASSWORD, lang: str = "zh") -> None:
    """Log in and wait for the rerun the cookie component triggers: the form must be gone."""
    submit_login(page, username, password, lang)
    expect(login_form(page, lang)).to_have_count(0)
    wait_for_app(page)


def nav_labels(page: Page) -> Locator:
    """The page titles of the sidebar navigation (without the icon ligatures), for expect()."""
    return page.get_by_test_id("stSidebarNav").locator(
        "[data-testid='stSidebarNavLink'] span[label]"
    )


def nav_titles(page: Page) -> list[str]:
    """The page titles in the sidebar navigation, in order."""
    return [label.strip() for label in nav_labels(page).all_text_contents()]


def main_area(page: Page) -> Locator:
    return page.get_by_test_id("stMain")


def sidebar(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar")


def titles(page: Page) -> Locator:
    """The st.title headings of the main area."""
    return main_area(page).locator("h1")


def alerts(page: Page) -> Locator:
    """The st.error / st.info / ... boxes of the main area."""
    return main_area(page).get_by_test_id("stAlert")


def column_headers(dataframe: Locator) -> Locator:
    """Column headers of an st.dataframe, read from its accessible grid (not the canvas)."""
    return dataframe.locator("[role='columnheader']")


def header_texts(dataframe: Locator) -> list[str]:
    """The column headers as a list, once the grid has drawn them."""
    column_headers(dataframe).first.wait_for(state="attached")
    return [h.strip() for h in column_headers(dataframe).all_text_contents()]


def table_cells(dataframe: Locator) -> list[str]:
    """The cells of the rows an st.dataframe has rendered (the visible ones)."""
    dataframe.locator("[role='gridcell']").first.wait_for(state="attached")
    return [c.strip() for c in dataframe.locator("[role='gridcell']").all_text_contents()]


def choose(page: Page, combobox: Locator, option: str) -> None:
    """Pick ``option`` in an st.selectbox / st.multiselect and wait for the rerun.

    The box is scrolled into view first: a click that scrolls the sidebar (the campaign
    picker sits below a long page list) focuses the box without opening it.
    """
    combobox.scroll_into_view_if_needed()
    combobox.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def choose_campaign(page: Page, name: str) -> Locator:
    """Make ``name`` the sidebar's chosen campaign (if it is not already), wait until the
    previous campaign's faded elements are gone; returns the picker."""
    picker = sidebar(page).get_by_role("combobox", name="评选活动")
    if picker.input_value() != name:
        choose(page, picker, name)
        expect(page.locator("[data-stale='true']")).to_have_count(0)
        wait_for_app(page)
    expect(picker).to_have_value(name)
    return picker


def screenshot_of(element: Locator, name: str) -> Path:
    """Save one element as test-artifacts/screenshots/<name>.png.

    The window is made tall enough for the element for the time of the screenshot, and the
    element centred in it, so that Streamlit's fixed header does not cover its top.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page = element.page
    viewport = page.viewport_size
    box = element.bounding_box()
    if viewport and box and box["height"] + 200 > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": int(box["height"]) + 200})
    try:
        element.evaluate("e => e.scrollIntoView({block: 'center'})")  # clear of the header
        element.screenshot(path=str(path))
    finally:
        if viewport:
            page.set_viewport_size(viewport)
    return path


def go_to(page: Page, title: str) -> None:
    """Click a page of the sidebar navigation and wait for it to be drawn."""
    sidebar(page).get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    wait_for_app(page)


def pick_many(page: Page, label: str, *options: str) -> None:
    """Add ``options`` to the st.multiselect labelled ``label`` (main area), one run each."""
    widget = (
        main_area(page)
        .get_by_test_id("stMultiSelect")
        .filter(has=page.get_by_text(label, exact=True))
    )
    for option in options:
        widget.get_by_role("combobox").click()
        page.get_by_role("option", name=option, exact=True).click()
        wait_for_app(page)
    page.keyboard.press("Escape")  # close the list the multiselect leaves open


def metric(scope: Locator, label: str | re.Pattern[str]) -> Locator:
    """The st.metric whose label is (or matches) ``label``."""
    label_locator = scope.page.get_by_test_id("stMetricLabel").filter(
        has_text=label if isinstance(label, re.Pattern) else re.compile(f"^{re.escape(label)}$")
    )
    return scope.get_by_test_id("stMetric").filter(has=label_locator)


def criterion_input(scope: Locator, criterion: str) -> Locator:
    """The number input drawn right under a score sheet's bold criterion name.

    Several criteria share a label such as "0–30 分，步长 1", so the input is found from the
    criterion's name: the first number input after the Markdown element holding it.
    """
    return scope.locator(
        "xpath=.//div[@data-testid='stElementContainer']"
        f"[.//strong[normalize-space()='{criterion}']]"
        "/following-sibling::div[@data-testid='stElementContainer']"
        "[.//div[@data-testid='stNumberInput']][1]//input"
    )


def set_number(page: Page, field: Locator, value: float | str) -> None:
    """Type a value into an st.number_input and commit it (Enter), waiting for the rerun."""
    field.fill(str(value))
    field.press("Enter")
    wait_for_app(page)
    expect(field).to_have_value(str(value))


def dismiss_toasts(page: Page) -> None:
    """Close the st.toast messages shown now (they would cover a screenshot's top right)."""
    toasts = page.get_by_test_id("stToast")
    for _ in range(toasts.count()):
        toasts.first.get_by_role("button").click()
    expect(toasts).to_have_count(0)


def as_shown(typed: str) -> str:
    """What a reader sees of ``typed`` in a Markdown element: every character as typed, plus
    the invisible word joiners that keep an address from becoming a link."""
    return re.sub(r"\\(.)", r"\1", markdown_literal(typed))


DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"


def refresh_docs_screenshot(shot: Path, name: str) -> None:
    """Copy a test's screenshot over the README's ``docs/screenshots/<name>`` on request.

    Only with ``REVIEWDESK_DOCS_SCREENSHOTS=1``: an ordinary test run leaves the checkout
    as it was (a fresh PNG differs in a few pixels every time).
    """
    if os.environ.get("REVIEWDESK_DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, DOCS_SCREENSHOTS / name)
