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
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser_helpers import RUN_TIMEOUT_MS, screenshot

from tests.chromium import require_chromium

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
HEALTH_TIMEOUT_S = 60


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder drives a browser: mark it so ``-m 'not browser'`` works."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


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
    env = _server_env(data_dir)
    demo = subprocess.run(
        [sys.executable, "-m", "scoring.cli", "init-demo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if demo.returncode != 0:
        pytest.fail(f"init-demo failed:\n{demo.stdout}\n{demo.stderr}", pytrace=False)
    yield from _serve(data_dir, root / "streamlit.log")


def _server_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["REVIEWDESK_DATA_DIR"] = str(data_dir)
    env.pop("REVIEWDESK_DATABASE_URL", None)  # always the throw-away SQLite database
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def _serve(data_dir: Path, log: Path) -> Iterator[DemoServer]:
    """``streamlit run app.py`` on ``data_dir`` and a free port, until the fixture ends."""
    env = _server_env(data_dir)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    with log.open("w", encoding="utf-8") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless=true",
                "--server.address=127.0.0.1",
                f"--server.port={port}",
                "--browser.gatherUsageStats=false",
                # Other people edit the sources while the suite runs: a watcher would
                # re-import edited modules mid-run (SQLModel then refuses to redefine
                # its tables). The server runs the code as it was when it started.
                "--server.fileWatcherType=none",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"streamlit exited with {server.returncode}:\n{_tail(log)}", pytrace=False
                )
            try:
                with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit not healthy after {HEALTH_TIMEOUT_S} s:\n{_tail(log)}",
                    pytrace=False,
                )
            time.sleep(0.25)
        yield DemoServer(base_url=base_url, data_dir=data_dir, log=log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


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
