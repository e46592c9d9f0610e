"""Refuse to start when stored amounts of a currency would be read with another exponent.

Amounts are integer counts of a currency's display minor unit, so an exponent that changed
under them (as upgrading Babel once would have done to RSD) would show and charge every stored
amount 10 or 100 times off. Each currency's exponent is recorded when its first goal is saved
and compared with the committed table at startup: a few rows, one query.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from donate.currencies import CURRENCIES
from donate.extensions import db, insert_ignoring_duplicates
from donate.models import CurrencyExponent, utcnow

log = logging.getLogger(__name__)


class StoredExponentMismatch(RuntimeError):
    """The currency table disagrees with the exponent stored amounts were written with."""


def record_currency(code: str) -> None:
    """Remember the exponent this currency's amounts are stored with, once per currency."""
    insert_ignoring_duplicates(
        CurrencyExponent.__table__,
        {
            "currency": code,
            "display_exponent": CURRENCIES[code].display_exponent,
            "recorded_at": utcnow(),
        },
    )


def _problems(recorded: list[tuple[str, int]]) -> list[str]:
    """A clause per currency whose stored amounts the table would misread."""
    problems = []
    for code, exponent in recorded:
        current = CURRENCIES.get(code)
        if current is None:
            problems.append(f"{code} amounts are stored, but {code} is not in the currency table")
        elif current.display_exponent != exponent:
            problems.append(
                f"{code} amounts are stored with {exponent} decimals, "
                f"but the currency table now gives {current.display_exponent}"
            )
    return problems


def check_stored_exponents() -> None:
    """Raise StoredExponentMismatch, with a sentence for the operator, if any stored currency
    would now be read with another exponent; do nothing before the schema exists."""
    engine = db.engine
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table(CurrencyExponent.__tablename__):
                return  # a fresh database: `flask db upgrade` creates and fills the table
            recorded = connection.execute(
                sa.select(CurrencyExponent.currency, CurrencyExponent.display_exponent)
            ).all()
    except sa.exc.OperationalError:
        # No database yet: the app still starts, so /healthz can say so.
        log.warning("Could not reach the database to check stored currency exponents.")
        return
    finally:
        # No pooled connection survives into forked workers.
        engine.dispose()
    problems = _problems([(code, exponent) for code, exponent in recorded])
    if problems:
        raise StoredExponentMismatch(
            "Refusing to start: "
            + "; ".join(problems)
            + ". Every stored amount in those currencies would be shown and charged at the wrong"
            " scale. Restore the exponent in donate/currencies.py, or rescale the stored"
            " amounts in a migration and update currency_exponents, then start again."
        )
