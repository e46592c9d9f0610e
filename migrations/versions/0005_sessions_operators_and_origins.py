"""Sign-out epoch and operator role on users; allowed origins re-normalised with UTS-46.

Stored origins were already ASCII (Python's IDNA 2003 codec wrote them), so this mostly
lower-cases them and drops default ports; a host that IDNA 2003 folded (straße stored as
strasse) cannot be told from a real strasse here, and its owner re-enters it if needed.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import json

import idna
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def _renormalised(origin: str) -> str:
    """The stored origin with its host in UTS-46 A-labels, as browsers resolve it.

    Origins were stored with Python's IDNA 2003 codec; a host that UTS-46 reads differently
    (or that is not valid under it) is kept as it was rather than lost.
    """
    scheme, separator, rest = origin.partition("://")
    if not separator:
        return origin
    host, colon, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
    try:
        ascii_host = host if host.isascii() else idna.encode(host, uts46=True).decode("ascii")
    except (UnicodeError, ValueError):
        return origin
    if port == _DEFAULT_PORTS.get(scheme.lower()):
        colon, port = "", ""
    return f"{scheme.lower()}://{ascii_host.lower()}{colon}{port}"


def _renormalise_origins() -> None:
    connection = op.get_bind()
    sites = sa.table("sites", sa.column("id", sa.Integer), sa.column("allowed_origins", sa.JSON))
    for site_id, origins in connection.execute(sa.select(sites.c.id, sites.c.allowed_origins)):
        stored = json.loads(origins) if isinstance(origins, str) else (origins or [])
        renewed = list(dict.fromkeys(_renormalised(origin) for origin in stored))
        if renewed != stored:
            connection.execute(
                sites.update().where(sites.c.id == site_id).values(allowed_origins=renewed)
            )


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("is_operator", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    _renormalise_origins()


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("is_operator")
        batch_op.drop_column("session_epoch")
