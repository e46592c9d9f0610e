"""Matching funds: a sponsor's pool per goal, each gift's share of it, and the goal's matched total.

A match is not a donation: it is recorded in goal_matches (the pool and what gifts took from
it) and match_allocations (one row per matched gift), which recount sums into
goals.matched_minor. Matched money counts in raised_minor and is shown apart.

A match is open until an editor closes it (closed_at), not between stored times: opening and
closing touch the goal row, so cached widgets change at once, while a time passing would not.

Revision ID: 0012
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("matched_minor", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_goals_matched_not_negative"), "matched_minor >= 0"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_goals_matched_within_raised"), "matched_minor <= raised_minor"
        )
    op.create_table(
        "goal_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("sponsor", sa.String(length=120), nullable=False),
        sa.Column("pool_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("used_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("pool_minor > 0", name=op.f("ck_goal_matches_pool_positive")),
        sa.CheckConstraint(
            "used_minor >= 0 AND used_minor <= pool_minor",
            name=op.f("ck_goal_matches_used_within_pool"),
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_goal_matches_currency_code")),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["goals.id"],
            name=op.f("fk_goal_matches_goal_id_goals"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_matches")),
    )
    with op.batch_alter_table("goal_matches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goal_matches_goal_id"), ["goal_id"], unique=False)
        batch_op.create_index(
            "uq_goal_matches_open_goal",
            ["goal_id"],
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
    op.create_table(
        "match_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("donation_id", sa.Integer(), nullable=False),
        sa.Column("basis_minor", sa.BigInteger(), nullable=False),
        sa.Column("allocated_minor", sa.BigInteger(), nullable=False),
        sa.Column("matched_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "allocated_minor > 0 AND allocated_minor <= basis_minor",
            name=op.f("ck_match_allocations_allocated_within_gift"),
        ),
        sa.CheckConstraint(
            "matched_minor >= 0 AND matched_minor <= allocated_minor",
            name=op.f("ck_match_allocations_matched_within_allocated"),
        ),
        sa.ForeignKeyConstraint(
            ["donation_id"],
            ["donations.id"],
            name=op.f("fk_match_allocations_donation_id_donations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["goal_matches.id"],
            name=op.f("fk_match_allocations_match_id_goal_matches"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_allocations")),
        sa.UniqueConstraint("donation_id", name=op.f("uq_match_allocations_donation_id")),
    )
    with op.batch_alter_table("match_allocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_allocations_match_id"), ["match_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("match_allocations")
    op.drop_table("goal_matches")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_goals_matched_within_raised"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_goals_matched_not_negative"), type_="check")
        batch_op.drop_column("matched_minor")
