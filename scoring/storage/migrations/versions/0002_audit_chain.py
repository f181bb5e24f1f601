"""audit chain: content and chain hashes, triggers against rewrite, removal and truncation

Revision ID: 0002
Revises: 0001

The first migration refused UPDATE and DELETE, which left three holes: SQLite's
``INSERT OR REPLACE`` deletes the old row without firing delete triggers, PostgreSQL's
``TRUNCATE`` fires no row trigger, and anyone who drops the triggers can rewrite rows
unseen. This one gives every event a content hash and a place in a hash chain (existing
events are hashed and chained in id order), and replaces the triggers: the only change
left is sealing, an unsealed row's chain columns going from NULL to the next position.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from scoring.storage.models import AuditEvent

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUDIT_APPEND_ONLY = "audit log is append-only"
CONTENT = ("at", "actor", "campaign_id", "action", "target", "old_value", "new_value")
NEXT_POSITION = "(SELECT COALESCE(MAX(chain_seq), 0) + 1 FROM audit_log)"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _drop_first_triggers(sqlite)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("chain_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    _backfill()
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column(
            "content_hash",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            nullable=False,
        )
        batch_op.create_index("ix_audit_log_chain_seq", ["chain_seq"], unique=True)
    if sqlite:
        _protect_sqlite()
    else:
        _protect_postgresql()


def _backfill() -> None:
    """Hash and chain the events already there, in id order, as the sealer would."""
    bind = op.get_bind()
    log = sa.table(
        "audit_log",
        sa.column("id", sa.Integer),
        sa.column("at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("actor", sa.String),
        sa.column("campaign_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("target", sa.String),
        sa.column("old_value", sa.JSON),
        sa.column("new_value", sa.JSON),
        sa.column("content_hash", sa.String),
    )
    rows = bind.execute(sa.select(log).order_by(log.c.id)).mappings().all()
    hashes = [
        {"row_id": row["id"], "digest": AuditEvent.content_digest(*(row[c] for c in CONTENT))}
        for row in rows
    ]
    if hashes:
        bind.execute(
            log.update()
            .where(log.c.id == sa.bindparam("row_id"))
            .values(content_hash=sa.bindparam("digest")),
            hashes,
        )
    AuditEvent.seal(bind)


def _drop_first_triggers(sqlite: bool) -> None:
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")


def _only_sealing(old: str, new: str, same: str) -> str:
    """The condition under which an UPDATE is the one allowed step: sealing a row once."""
    unchanged = " AND ".join(f"{same.format(old=f'{old}.{c}', new=f'{new}.{c}')}" for c in CONTENT)
    return (
        f"{old}.chain_seq IS NULL AND {old}.chain_hash IS NULL "
        f"AND {new}.chain_seq IS NOT NULL AND {new}.chain_hash IS NOT NULL "
        f"AND {new}.chain_seq = {NEXT_POSITION} "
        f"AND {same.format(old=f'{old}.id', new=f'{new}.id')} "
        f"AND {same.format(old=f'{old}.content_hash', new=f'{new}.content_hash')} "
        f"AND {unchanged}"
    )


def _protect_sqlite() -> None:
    # REPLACE deletes the row it conflicts with and fires no delete trigger (unless
    # recursive_triggers is on), so an INSERT reusing an id is refused before it happens.
    # A new row starts unsealed: chain columns set on insert could collide with a sealed
    # row's position, and UPDATE OR REPLACE is ruled out by the "next position" condition.
    op.execute(
        "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
        "WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) "
        "OR NEW.chain_seq IS NOT NULL OR NEW.chain_hash IS NOT NULL "
        f"BEGIN SELECT RAISE(ABORT, '{AUDIT_APPEND_ONLY}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        f"WHEN NOT ({_only_sealing('OLD', 'NEW', '{new} IS {old}')}) "
        f"BEGIN SELECT RAISE(ABORT, '{AUDIT_APPEND_ONLY}'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        f"BEGIN SELECT RAISE(ABORT, '{AUDIT_APPEND_ONLY}'); END"
    )


def _protect_postgresql() -> None:
    # json has no equality operator; comparing the text is exact for stored json.
    same = "{new}::text IS NOT DISTINCT FROM {old}::text"
    op.execute(
        "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ BEGIN "
        "IF TG_OP = 'INSERT' AND NEW.chain_seq IS NULL AND NEW.chain_hash IS NULL "
        "THEN RETURN NEW; END IF; "
        f"IF TG_OP = 'UPDATE' AND {_only_sealing('OLD', 'NEW', same)} THEN RETURN NEW; END IF; "
        f"RAISE EXCEPTION '{AUDIT_APPEND_ONLY}'; END; $$ LANGUAGE plpgsql"
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE INSERT OR UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in ("no_replace", "no_update", "no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_chain_seq")
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("chain_seq")
        batch_op.drop_column("content_hash")
    # the first migration's triggers, as they were
    if sqlite:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{AUDIT_APPEND_ONLY}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{AUDIT_APPEND_ONLY}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
