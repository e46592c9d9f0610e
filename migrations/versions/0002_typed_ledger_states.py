"""typed ledger states: refund requests, dispute appeals, Stripe's subscription statuses

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 17:40:00

Every state column gets a CHECK constraint listing exactly the values its StrEnum in
donate/models.py allows; refunds gain the dashboard request's idempotency key.
"""

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_REFUND_BEFORE = ("pending", "requires_action", "succeeded", "failed", "canceled")
_REFUND_AFTER = ("requested", "refused") + _REFUND_BEFORE
_DISPUTE_BEFORE = (
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "needs_response",
    "under_review",
    "won",
    "lost",
    "prevented",
)
_DISPUTE_AFTER = _DISPUTE_BEFORE[:7] + ("appeal_needs_response", "appeal_under_review", "prevented")
_SUBSCRIPTION = (
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
)


def _values_check(values):
    return "status IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _replace_status_check(table, constraint, values):
    """Swap the CHECK on a status column (SQLite rebuilds the table, PostgreSQL alters it)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(f"ck_{table}_{constraint}"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f(f"ck_{table}_{constraint}"), _values_check(values)
        )


def upgrade():
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_refunds_request_key"), ["request_key"])
    _replace_status_check("refunds", "refund_status", _REFUND_AFTER)
    _replace_status_check("disputes", "dispute_status", _DISPUTE_AFTER)
    # Statuses stored before this revision were copied from Stripe, so they are among its eight.
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_subscriptions_subscription_status"), _values_check(_SUBSCRIPTION)
        )


def downgrade():
    op.execute("UPDATE disputes SET status = 'lost' WHERE status LIKE 'appeal_%'")
    op.execute("DELETE FROM refunds WHERE status IN ('requested', 'refused')")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_subscriptions_subscription_status"), type_="check")
    _replace_status_check("disputes", "dispute_status", _DISPUTE_BEFORE)
    _replace_status_check("refunds", "refund_status", _REFUND_BEFORE)
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_refunds_request_key"), type_="unique")
        batch_op.drop_column("request_key")
