"""working day: intake dates, level descriptors, comments per criterion, extreme-score comments

Revision ID: 0004
Revises: 0003

A campaign's stages get their missing dates (intake opens and closes; vote, review and
announcement had theirs), a criterion its level descriptors (优 26–30 / 良 20–25 …) shown beside
the input, a score its own comment, and a campaign may ask for a comment on any score in the
top or bottom tenth of a criterion's range. Every new column has a default, so existing
campaigns and sheets read as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("intake_opens_on", sqlmodel.sql.sqltypes.AutoString(10)))
        batch_op.add_column(sa.Column("intake_closes_on", sqlmodel.sql.sqltypes.AutoString(10)))
        batch_op.add_column(
            sa.Column(
                "comment_at_extremes", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("criterion", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("levels", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("score", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comment", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    """Back to 0003: descriptors, per-criterion comments and intake dates are dropped."""
    with op.batch_alter_table("score", schema=None) as batch_op:
        batch_op.drop_column("comment")
    with op.batch_alter_table("criterion", schema=None) as batch_op:
        batch_op.drop_column("levels")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("comment_at_extremes")
        batch_op.drop_column("intake_closes_on")
        batch_op.drop_column("intake_opens_on")
