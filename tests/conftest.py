"""Shared fixtures: a real database (SQLite always, PostgreSQL when configured), real files.

Set ``REVIEWDESK_TEST_PG_URL`` (CI does) to run every database test on PostgreSQL too; each
test session gets a database of its own there, dropped at the end. Without it the
PostgreSQL variants are skipped with the reason; under ``CI=true`` they fail instead.
"""

from __future__ import annotations

import io
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from scoring.assets import AssetStore
from scoring.cli import main as cli_main
from scoring.settings import get_settings
from scoring.storage.database import Database
from scoring.storage.migrate import upgrade
from tests.chromium import CHROMIUM, LAUNCH_ARGS, require_chromium

PG_ENV = "REVIEWDESK_TEST_PG_URL"


def skip_or_fail(reason: str) -> None:
    """Skip on a newcomer's machine; under CI a skipped real-service test is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session."""
    base = os.environ.get(PG_ENV)
    if not base:
        skip_or_fail(
            f"PostgreSQL tests need {PG_ENV}, e.g. postgresql+psycopg://postgres@127.0.0.1/test"
        )
    url = make_url(base)
    name = f"reviewdesk_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite in a temp file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'reviewdesk.db'}"
    else:
        url = request.getfixturevalue("pg_server_url")
        _reset_postgres(url)
    db = Database(url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    """SQLite only, for tests about files and the CLI where the backend does not matter."""
    db = Database(f"sqlite:///{tmp_path / 'reviewdesk.db'}")
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def store(tmp_path: Path) -> AssetStore:
    return AssetStore(tmp_path / "store")


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run the CLI in-process against a fresh data folder; returns (exit code, out, err)."""
    monkeypatch.setenv("REVIEWDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REVIEWDESK_LANGUAGE", "en")
    monkeypatch.delenv("REVIEWDESK_DATABASE_URL", raising=False)
    get_settings.cache_clear()

    def run(*args: str, capsys=None) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        code = cli_main(list(args))
        monkeypatch.setattr(sys, "stdout", sys.__stdout__)
        monkeypatch.setattr(sys, "stderr", sys.__stderr__)
        return code, out.getvalue(), err.getvalue()

    yield run
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's headless Chromium driven by sync Playwright, one for the whole session."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
