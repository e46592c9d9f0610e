"""How a locale writes an amount and a percentage, read off Babel's own output for the script.

The frame's script formats typed amounts with these (never the browser's Intl, whose data
disagrees with Babel's), so "€1,000.50" there is what money.format_amount writes here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_percent

from donate import money

# Six whole digits show the group separator and both group sizes ("1,23,456" in en-IN).
_WHOLE = 123456


@dataclass(frozen=True)
class MoneyPattern:
    """An amount is `pattern` with "#" replaced by digits grouped and split as here."""

    pattern: str
    decimal: str
    group: str
    primary: int
    secondary: int
    # Numbers with fewer whole digits than this are written without a group separator.
    min_digits: int
    percent: str


def _split(text: str) -> tuple[str, str, str]:
    """Prefix, the run from first to last digit, suffix."""
    digits = [i for i, char in enumerate(text) if char.isdigit()]
    return text[: digits[0]], text[digits[0] : digits[-1] + 1], text[digits[-1] + 1 :]


@lru_cache(maxsize=256)
def money_pattern(currency: str, locale: str) -> MoneyPattern:
    """Read the symbols and grouping of compact amounts in this currency and locale."""
    exponent = money.get_currency(currency).display_exponent
    unit = 10**exponent
    fraction = int("89".ljust(exponent, "0")[:exponent] or 0)
    prefix, core, suffix = _split(
        money.format_amount(_WHOLE * unit + fraction, currency, locale, compact=True)
    )
    decimal = ""
    if exponent:
        decimal = core[-exponent - 1]
        core = core[: -exponent - 1]
    groups: list[str] = [""]
    separator = ""
    for char in core:
        if char.isdigit():
            groups[-1] += char
        else:
            separator = separator or char
            groups.append("")
    primary = len(groups[-1]) if len(groups) > 1 else 0
    secondary = len(groups[-2]) if len(groups) > 2 else primary
    four = _split(money.format_amount(1000 * unit, currency, locale, compact=True))[1]
    percent = format_percent(Decimal(7) / 100, locale=locale)
    return MoneyPattern(
        pattern=f"{prefix}#{suffix}",
        decimal=decimal,
        group=separator,
        primary=primary,
        secondary=secondary,
        min_digits=4 if not four.isdigit() else 5,
        percent=percent.replace("7", "#", 1),
    )
