"""The environment every AppTest module runs in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scoring.settings import get_settings

ROOT = Path(__file__).parents[2]


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data folder (and SQLite database) of the test's own, a fixed cookie key, and the
    repository as the working folder, as ``streamlit run app.py`` has them; yields the folder.
    Settings are read again on both sides, so no test sees another's."""
    data = tmp_path / "data"
    monkeypatch.setenv("REVIEWDESK_DATA_DIR", str(data))
    monkeypatch.setenv("REVIEWDESK_COOKIE_KEY", "test-cookie-key-" + "x" * 32)
    monkeypatch.delenv("REVIEWDESK_DATABASE_URL", raising=False)
    monkeypatch.chdir(ROOT)
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()
