"""Alembic environment: runs on the connection ``scoring.storage.migrate`` hands in."""

from alembic import context

from scoring.storage import models

target_metadata = models.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
