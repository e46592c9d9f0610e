"""The supporters wall reads a goal's gifts newest first by their own date.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_donations_goal_state_created", "donations", ["goal_id", "state", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_donations_goal_state_created", table_name="donations")
