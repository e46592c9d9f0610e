"""instance settings: a stable instance id for Stripe metadata, portal configuration ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 17:40:00

"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _public_url() -> str | None:
    """The PUBLIC_URL of the app running the migration, if it runs inside one."""
    try:
        from flask import current_app

        return str(current_app.config["PUBLIC_URL"])
    except (ImportError, RuntimeError, KeyError):
        return None


def _id_in_applied_sessions() -> str | None:
    """The instance id our applied Checkout Sessions carry: what Stripe knows us by."""
    rows = op.get_bind().execute(
        sa.text(
            "SELECT payload FROM stripe_events WHERE status = 'processed' AND type IN "
            "('checkout.session.completed', 'checkout.session.async_payment_succeeded') "
            "ORDER BY id DESC LIMIT 20"
        )
    )
    for (payload,) in rows:
        try:
            value = json.loads(payload)["data"]["object"]["metadata"].get("donate_instance")
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if isinstance(value, str) and value and len(value) <= 255:
            return value
    return None


def upgrade():
    settings = op.create_table(
        "instance_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_instance_settings")),
    )
    # The value Stripe metadata and idempotency keys carry today, so they keep matching: read
    # from what we applied, else derived from PUBLIC_URL as earlier versions did.
    public_url = _public_url()
    legacy = _id_in_applied_sessions()
    if legacy is None and public_url:
        legacy = hashlib.sha256(public_url.rstrip("/").encode()).hexdigest()[:12]
    if legacy:
        now = datetime.now(UTC)
        if op.get_bind().dialect.name == "sqlite":
            now = now.replace(tzinfo=None)
        op.bulk_insert(settings, [{"key": "instance_id", "value": legacy, "updated_at": now}])


def downgrade():
    op.drop_table("instance_settings")
