"""public gallery: voting window, public fields, voids, tally provenance, results notice

Revision ID: 0003
Revises: 0002

SPEC §8 had two placeholders (``public_gallery``, ``public_voting_open``) and a bare
``public_vote`` table. Voting now runs between two times, a vote carries the keyed hash of
its network (for the burst warnings) and whether it counts, a void records which votes an
organiser took out and why, and a tally keeps apart the figure imported from another
platform and the public votes counted after it (their sum is checked by the database).
Existing tallies were all imported: they become ``imported``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_PUBLIC_FIELDS = '["code", "applicant", "category", "domain", "summary"]'


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("public_voting_open")
        batch_op.add_column(
            sa.Column(
                "public_fields",
                sa.JSON(),
                nullable=False,
                server_default=sa.text(f"'{DEFAULT_PUBLIC_FIELDS}'"),
            )
        )
        batch_op.add_column(sa.Column("vote_opens_at", sqlmodel.sql.sqltypes.UTCDateTime()))
        batch_op.add_column(sa.Column("vote_closes_at", sqlmodel.sql.sqltypes.UTCDateTime()))
        batch_op.add_column(sa.Column("notice_snapshot_id", sa.Integer()))
        batch_op.add_column(sa.Column("notice_published_at", sqlmodel.sql.sqltypes.UTCDateTime()))

    op.create_table(
        "vote_void",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("network_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("window_start", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("window_end", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint("votes >= 0", name=op.f("ck_vote_void_votes")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_vote_void_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entry.id"], name=op.f("fk_vote_void_entry_id_entry")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vote_void")),
    )
    with op.batch_alter_table("vote_void", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vote_void_campaign_id"), ["campaign_id"])
        batch_op.create_index(batch_op.f("ix_vote_void_entry_id"), ["entry_id"])

    with op.batch_alter_table("public_vote", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "network_key",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column("counted", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("void_id", sa.Integer()))
        batch_op.create_foreign_key(
            batch_op.f("fk_public_vote_void_id_vote_void"), "vote_void", ["void_id"], ["id"]
        )
        batch_op.create_index(
            "ix_public_vote_campaign_entry_cast", ["campaign_id", "entry_id", "cast_at"]
        )
        batch_op.create_index(
            "ix_public_vote_campaign_entry_network",
            ["campaign_id", "entry_id", "network_key", "cast_at"],
        )

    with op.batch_alter_table("vote_tally", schema=None) as batch_op:
        batch_op.add_column(sa.Column("imported", sa.Integer()))
        batch_op.add_column(sa.Column("counted", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE vote_tally SET imported = votes, counted = 0")
    with op.batch_alter_table("vote_tally", schema=None) as batch_op:
        batch_op.create_check_constraint("counted", "counted >= 0")
        batch_op.create_check_constraint("imported", "imported IS NULL OR imported >= 0")
        batch_op.create_check_constraint("sum", "votes = COALESCE(imported, 0) + counted")


def downgrade() -> None:
    """Back to 0002's placeholders; the votes' provenance and every void are dropped."""
    with op.batch_alter_table("vote_tally", schema=None) as batch_op:
        batch_op.drop_constraint("sum", type_="check")
        batch_op.drop_constraint("imported", type_="check")
        batch_op.drop_constraint("counted", type_="check")
        batch_op.drop_column("counted")
        batch_op.drop_column("imported")
    with op.batch_alter_table("public_vote", schema=None) as batch_op:
        batch_op.drop_index("ix_public_vote_campaign_entry_network")
        batch_op.drop_index("ix_public_vote_campaign_entry_cast")
        batch_op.drop_constraint("fk_public_vote_void_id_vote_void", type_="foreignkey")
        batch_op.drop_column("void_id")
        batch_op.drop_column("counted")
        batch_op.drop_column("network_key")
    with op.batch_alter_table("vote_void", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_void_entry_id"))
        batch_op.drop_index(batch_op.f("ix_vote_void_campaign_id"))
    op.drop_table("vote_void")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("notice_published_at")
        batch_op.drop_column("notice_snapshot_id")
        batch_op.drop_column("vote_closes_at")
        batch_op.drop_column("vote_opens_at")
        batch_op.drop_column("public_fields")
        batch_op.add_column(
            sa.Column("public_voting_open", sa.Boolean(), nullable=False, server_default=sa.false())
        )
