"""Starting ``streamlit run`` the way a user does, for the browser tests, the several-servers
test and the browser benchmark: one home for the command line, the environment and the wait
for health, so all three measure and test the same server.
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
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEALTH_TIMEOUT_S = 60


class ServerFailed(RuntimeError):
    """A server exited or never answered its health check; the message carries its log."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text("utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def app_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a server on ``data_dir``: the throw-away SQLite database unless a
    ``database_url`` is given, and the repository importable."""
    env = dict(os.environ)
    env["REVIEWDESK_DATA_DIR"] = str(data_dir)
    env.pop("REVIEWDESK_DATABASE_URL", None)
    if database_url is not None:
        env["REVIEWDESK_DATABASE_URL"] = database_url
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def init_demo(env: dict[str, str], timeout_s: float = 300) -> None:
    """``python -m scoring.cli init-demo`` as the README has it."""
    demo = subprocess.run(
        [sys.executable, "-m", "scoring.cli", "init-demo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if demo.returncode != 0:
        raise ServerFailed(f"init-demo failed:\n{demo.stdout}\n{demo.stderr}")


def start_streamlit(
    port: int, env: dict[str, str], log: Path, script: str = "app.py", cwd: Path = REPO
) -> subprocess.Popen:
    """``streamlit run`` headless on 127.0.0.1:``port``, output to ``log``."""
    with log.open("w", encoding="utf-8") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                script,
                "--server.headless=true",
                "--server.address=127.0.0.1",
                f"--server.port={port}",
                "--browser.gatherUsageStats=false",
                # Sources may change while a run goes on: a watcher would re-import edited
                # modules mid-run (SQLModel then refuses to redefine its tables). The server
                # runs the code as it was when it started.
                "--server.fileWatcherType=none",
            ],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_healthy(
    url: str, process: subprocess.Popen, log: Path, timeout_s: float = HEALTH_TIMEOUT_S
) -> None:
    """Wait until ``url`` answers 200; raise ServerFailed with the log if the process exits
    or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise ServerFailed(
                f"{process.args[0]} exited with {process.returncode}:\n{log_tail(log)}"
            )
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(url, timeout=2) as reply,
        ):
            if reply.status == 200:
                return
        if time.monotonic() > deadline:
            raise ServerFailed(f"{url} not healthy after {timeout_s} s:\n{log_tail(log)}")
        time.sleep(0.25)


def stop(processes: Iterable[subprocess.Popen]) -> None:
    """Terminate each process, killing those that do not end within 10 s."""
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
