"""End-to-end fixtures: one demo server and one headless Chromium for the whole session.

The server is started the way a user starts it (``streamlit run app.py``) against a fresh
data folder filled by ``python -m scoring.cli init-demo``; every test gets a new browser
context (no cookies shared), so each one logs in by itself.

Waiting follows Streamlit's own e2e tests: the app is connected, the script is not running
and no skeleton is shown. Screenshots of what each test sees go to
``<repo>/test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_helpers import RUN_TIMEOUT_MS, screenshot

from tests.chromium import require_chromium
from tests.servers import (
    ServerFailed,
    app_env,
    free_port,
    init_demo,
    start_streamlit,
    stop,
    wait_healthy,
)

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives a browser: mark it so ``-m 'not browser'`` works."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@dataclass(frozen=True)
class DemoServer:
    base_url: str
    data_dir: Path
    log: Path


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A fresh data folder with the demo, served by ``streamlit run app.py`` on a free port."""
    yield from _serve_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def module_demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo server of one test module's own, for a module whose writes others must not see.

    Such a module overrides ``demo_server`` with a module-scoped fixture returning this one.
    """
    yield from _serve_demo(tmp_path_factory)


@pytest.fixture(scope="module")
def planted_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[DemoServer]:
    """A server of one module's own on a data folder that the module's ``plant(data_dir)``
    fills (instead of the demo), for data no demo holds."""
    require_chromium()
    root = tmp_path_factory.mktemp("reviewdesk-planted")
    request.module.plant(root / "data")
    yield from _serve(root / "data", root / "streamlit.log")


def _serve_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    require_chromium()  # no point building the demo when no browser can look at it
    root = tmp_path_factory.mktemp("reviewdesk-e2e")
    data_dir = root / "data"
    try:
        init_demo(app_env(data_dir), timeout_s=180)
    except ServerFailed as failure:
        pytest.fail(str(failure), pytrace=False)
    yield from _serve(data_dir, root / "streamlit.log")


def _serve(data_dir: Path, log: Path) -> Iterator[DemoServer]:
    """``streamlit run app.py`` on ``data_dir`` and a free port, until the fixture ends."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = start_streamlit(port, app_env(data_dir), log)
    try:
        wait_healthy(f"{base_url}/_stcore/health", server, log)
    except ServerFailed as failure:
        stop([server])
        pytest.fail(str(failure), pytrace=False)
    try:
        yield DemoServer(base_url=base_url, data_dir=data_dir, log=log)
    finally:
        stop([server])


@pytest.fixture
def page(browser, demo_server: DemoServer, request: pytest.FixtureRequest) -> Iterator:
    """A fresh context (no cookies) per test; its last view is saved as a screenshot.

    An exception raised by the app during the test fails it, even one that a later rerun
    painted over before anybody could see it: the server log is checked after the test.
    """
    log_start = demo_server.log.stat().st_size
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    context.set_default_timeout(RUN_TIMEOUT_MS)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        with contextlib.suppress(Exception):  # a crashed page must not hide the failure
            screenshot(new_page, f"{request.node.name}-final")
        context.close()
    with demo_server.log.open("rb") as log:
        log.seek(log_start)
        during_test = log.read().decode("utf-8", errors="replace")
    if "Uncaught app execution" in during_test or "Traceback" in during_test:
        pytest.fail(f"the app raised during this test:\n{during_test[-4000:]}", pytrace=False)
