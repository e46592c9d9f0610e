"""Cover the fees: a goal's fee rule, and the part of each gift and subscription that covers fees.

Existing goals get the rule switched off; existing gifts and subscriptions covered no fees (0).

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_FEE_WITHIN_AMOUNT = "fee_cover_minor >= 0 AND fee_cover_minor <= amount_minor"


def upgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("fee_cover_enabled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("fee_cover_basis_points", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("fee_cover_fixed_minor", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_goals_fee_cover_basis_points_range"),
            "fee_cover_basis_points >= 0 AND fee_cover_basis_points <= 5000",
        )
        batch_op.create_check_constraint(
            op.f("ck_goals_fee_cover_fixed_not_negative"), "fee_cover_fixed_minor >= 0"
        )
    for table in ("donations", "subscriptions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("fee_cover_minor", sa.BigInteger(), server_default="0", nullable=False)
            )
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_fee_cover_within_amount"), _FEE_WITHIN_AMOUNT
            )


def downgrade() -> None:
    for table in ("subscriptions", "donations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_fee_cover_within_amount"), type_="check")
            batch_op.drop_column("fee_cover_minor")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_goals_fee_cover_fixed_not_negative"), type_="check")
        batch_op.drop_constraint(op.f("ck_goals_fee_cover_basis_points_range"), type_="check")
        batch_op.drop_column("fee_cover_fixed_minor")
        batch_op.drop_column("fee_cover_basis_points")
        batch_op.drop_column("fee_cover_enabled")
