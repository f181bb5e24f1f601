"""Schema migrations (alembic), run in process so an existing database upgrades in place.

Every app server and CLI call runs ``upgrade`` on start; on PostgreSQL an advisory lock
makes servers that start together take turns instead of racing on the same DDL.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from scoring.storage.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK_ID = 0x5245_5644  # "REVD"


def alembic_config() -> Config:
    """An alembic config pointing at our migrations, with no ini file needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``."""
    config = alembic_config()
    with database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _PG_LOCK_ID})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_LOCK_ID})
                connection.commit()


def current_revision(database: Database) -> str | None:
    """The revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
