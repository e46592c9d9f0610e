"""The outbox of messages to send, receipt numbers and each site's receipt settings.

Every gift counted before this revision gets its receipt number here, per site in the order the
gifts were counted, and the site's counter starts after the last one, so numbers have no gap
from the first gift on. Receipts stay off for existing sites until their owner turns them on.

Revision ID: 0013
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_donations = sa.table(
    "donations",
    sa.column("id", sa.Integer),
    sa.column("goal_id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("settled_at", sa.DateTime),
    sa.column("receipt_number", sa.BigInteger),
)
_goals = sa.table("goals", sa.column("id", sa.Integer), sa.column("site_id", sa.Integer))
_counters = sa.table(
    "receipt_counters", sa.column("site_id", sa.Integer), sa.column("last_number", sa.BigInteger)
)
# States of a gift that was counted at some time (a voided gift was counted before it was voided).
_COUNTED = ("succeeded", "voided")


def _number_counted_gifts() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_donations.c.id, _goals.c.site_id)
        .join(_goals, _goals.c.id == _donations.c.goal_id)
        .where(_donations.c.state.in_(_COUNTED))
        .order_by(_goals.c.site_id, _donations.c.settled_at, _donations.c.id)
    ).all()
    last: dict[int, int] = {}
    for donation_id, site_id in rows:
        last[site_id] = last.get(site_id, 0) + 1
        connection.execute(
            sa.update(_donations)
            .where(_donations.c.id == donation_id)
            .values(receipt_number=last[site_id])
        )
    for site_id, number in last.items():
        connection.execute(sa.insert(_counters).values(site_id=site_id, last_number=number))


def upgrade() -> None:
    op.create_table(
        "receipt_counters",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_receipt_counters_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_receipt_counters")),
    )
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "receipt",
                "refund_notice",
                "reset_requested",
                name="outbox_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "skipped",
                "failed",
                name="outbox_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("donation_id", sa.Integer(), nullable=True),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("copy", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["donation_id"],
            ["donations.id"],
            name=op.f("fk_outbox_messages_donation_id_donations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["refunds.id"],
            name=op.f("fk_outbox_messages_refund_id_refunds"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_outbox_messages_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_messages_message_id")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_donation_id"), ["donation_id"], unique=False
        )
        batch_op.create_index("ix_outbox_messages_due", ["status", "available_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_site_id"), ["site_id"], unique=False)
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("receipt_number", sa.BigInteger(), nullable=True))
    # Plain ALTER TABLE: copying the sites table (batch mode) would trip the goals' foreign keys.
    op.add_column(
        "sites",
        sa.Column("receipts_enabled", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "sites",
        sa.Column("receipt_organisation", sa.String(length=200), server_default="", nullable=False),
    )
    for name in ("receipt_address", "receipt_tax_note"):
        op.add_column("sites", sa.Column(name, sa.Text(), server_default="", nullable=False))
    _number_counted_gifts()


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("receipt_tax_note")
        batch_op.drop_column("receipt_address")
        batch_op.drop_column("receipt_organisation")
        batch_op.drop_column("receipts_enabled")
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.drop_column("receipt_number")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_site_id"))
        batch_op.drop_index("ix_outbox_messages_due")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_donation_id"))
    op.drop_table("outbox_messages")
    op.drop_table("receipt_counters")
