"""The process-wide database and file store, from the settings the app and CLI share."""

from __future__ import annotations

from scoring.assets import AssetStore
from scoring.settings import Settings, get_settings
from scoring.storage.database import Database, database_for


def database(settings: Settings | None = None) -> Database:
    """The migrated database named by the settings (creating the data folder for SQLite)."""
    settings = settings or get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return database_for(settings.resolved_database_url)


def asset_store(settings: Settings | None = None) -> AssetStore:
    """The content-addressed store under the data folder."""
    return AssetStore((settings or get_settings()).files_dir)
