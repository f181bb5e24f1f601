"""Debian's Chromium for every test that drives a browser, shared by one Playwright.

Sync Playwright runs an event loop in the test process for as long as it is open; a second
``sync_playwright()`` while the first is open fails ("Sync API inside the asyncio loop").
So the whole session has one, in the ``browser`` fixture of ``tests/conftest.py``, and the
browser tests, the several-servers test and the chart test all take it from there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip without Chromium, but under CI a skipped browser test counts as a failure."""
    if CHROMIUM.exists():
        return
    reason = (
        f"{CHROMIUM} not found: install Debian's Chromium with `sudo apt-get install chromium` "
        "to run the browser tests (Playwright's own browser downloads are not used)."
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
