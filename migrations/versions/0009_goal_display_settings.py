"""Goals carry how their widget shows them: call to action, what to hide, default and impacts.

Existing goals keep today's look through the server defaults: every figure shown, no default
preset, no monthly presets of their own, no impact lines, the translated call to action.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("call_to_action", sa.JSON(), server_default="{}", nullable=False)
        )
        batch_op.add_column(
            sa.Column("show_donor_count", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("show_percent", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "hide_figures_below_percent", sa.Integer(), server_default="0", nullable=False
            )
        )
        batch_op.add_column(sa.Column("default_preset_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("monthly_presets_minor", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.add_column(sa.Column("monthly_default_minor", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("preset_impacts", sa.JSON(), server_default="{}", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        for name in (
            "preset_impacts",
            "monthly_default_minor",
            "monthly_presets_minor",
            "default_preset_minor",
            "hide_figures_below_percent",
            "show_percent",
            "show_donor_count",
            "call_to_action",
        ):
            batch_op.drop_column(name)
