"""Offline gifts keep their method in a column of its own; portal grants are given once.

The method used to open the gift's note ("Cash" or "Cash: the editor's note"), and voiding
overwrote the note with the reason. It is read back from every note that still starts with it;
voided gifts whose note was overwritten keep no method, and their note is marked as the reason.

portal_grants records each Checkout session whose return page gave a browser the short-lived
right to open the donor's Customer Portal, so a copied return URL gives it to nobody else.

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

# The labels the offline gift form wrote into notes, frozen as they were.
_LABELS = {"Cash": "cash", "Cheque": "cheque", "Bank transfer": "bank_transfer"}

_donations = sa.table(
    "donations",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("state", sa.String),
    sa.column("note", sa.Text),
    sa.column("offline_method", sa.String),
)


def split_method(note: str | None) -> tuple[str | None, str | None]:
    """The method a note opens with and the note without it; (None, note) when it has none."""
    if not note:
        return None, note
    first, newline, rest = note.partition("\n")
    for label, method in _LABELS.items():
        if first == label:
            return method, rest or None
        if first.startswith(label + ": "):
            remainder = first[len(label) + 2 :].strip()
            return method, newline.join(part for part in (remainder, rest) if part) or None
    return None, note


def _backfill() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_donations.c.id, _donations.c.state, _donations.c.note).where(
            _donations.c.kind == "offline"
        )
    ).all()
    for donation_id, state, note in rows:
        method, rest = split_method(note)
        if method is None and state == "voided" and note and not note.startswith("Voided: "):
            rest = f"Voided: {note}"
        if method is None and rest == note:
            continue
        connection.execute(
            _donations.update()
            .where(_donations.c.id == donation_id)
            .values(offline_method=method, note=rest)
        )


def upgrade() -> None:
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offline_method", sa.String(length=32), nullable=True))
    op.create_table(
        "portal_grants",
        sa.Column("checkout_session_id", sa.String(length=255), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("checkout_session_id", name=op.f("pk_portal_grants")),
    )
    _backfill()


def downgrade() -> None:
    op.drop_table("portal_grants")
    with op.batch_alter_table("donations", schema=None) as batch_op:
        batch_op.drop_column("offline_method")
