"""currency exponents: the display exponent each stored currency's amounts were written with

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 17:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The display exponents amounts were stored with before this revision: Babel's CLDR data up to
# Babel 2.18, overridden by Stripe's rules, for every currency the code accepted. Frozen here
# (not imported) so this revision records the past even after the table in the code changes.
_NOT_TWO = {
    'AFN': 0, 'ALL': 0, 'BHD': 3, 'BIF': 0, 'CLP': 0, 'DJF': 0, 'GNF': 0, 'IQD': 0, 'IRR': 0,
    'ISK': 0, 'JOD': 3, 'JPY': 0, 'KMF': 0, 'KPW': 0, 'KRW': 0, 'KWD': 3, 'LAK': 0, 'LBP': 0,
    'LYD': 3, 'MGA': 0, 'MMK': 0, 'OMR': 3, 'PYG': 0, 'RSD': 0, 'RWF': 0, 'SOS': 0, 'SYP': 0,
    'TND': 3, 'UGX': 0, 'VND': 0, 'VUV': 0, 'XAF': 0, 'XOF': 0, 'XPF': 0, 'YER': 0,
}


def upgrade():
    table = op.create_table('currency_exponents',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('display_exponent', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('display_exponent BETWEEN 0 AND 4', name=op.f('ck_currency_exponents_exponent_range')),
    sa.PrimaryKeyConstraint('currency', name=op.f('pk_currency_exponents'))
    )
    connection = op.get_bind()
    stored = connection.execute(sa.text(
        'SELECT currency FROM goals UNION SELECT currency FROM donations'
    )).scalars()
    now = sa.func.current_timestamp()
    rows = [
        {'currency': code.upper(), 'display_exponent': _NOT_TWO.get(code.upper(), 2)}
        for code in sorted({code.upper() for code in stored if code})
    ]
    for row in rows:
        connection.execute(table.insert().values(recorded_at=now, **row))


def downgrade():
    op.drop_table('currency_exponents')
