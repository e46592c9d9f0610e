"""The goal page: a link back to the site's home, and an optional cover image per goal.

The image lives in the database, not on one instance's disk, so every app instance can serve
it; its bytes are already re-encoded and stripped of metadata when they are stored.

Revision ID: 0011
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("home_url", sa.String(500), nullable=True))
    op.create_table(
        "goal_covers",
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("alt", sa.String(300), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name="fk_goal_covers_goal_id_goals", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("goal_id", name="pk_goal_covers"),
    )


def downgrade() -> None:
    op.drop_table("goal_covers")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("home_url")
