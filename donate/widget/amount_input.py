"""What the amount field needs: the locale's separators, the goal's limits, and sentences.

money.py explains a refused amount in English and names the reason with a stable keyword; this
module says the same thing in the reader's language with this goal's limits filled in. The
frame's script shows these sentences without a round trip; the give endpoint can call
`explain_amount_error` for its 422 page, so the donor reads the same words either way.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from babel import Locale
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from flask_babel import force_locale, gettext, ngettext

from donate import money
from donate.goal_view import PublicGoal

# The frame's script names its findings with these keys; money.AmountError reasons map onto them.
REASON_KEYS = {
    "empty": "empty",
    "not_a_number": "nan",
    "too_many_decimals": "decimals",
    "not_positive": "positive",
    "below_minimum": "min",
    "above_maximum": "max",
    "too_large": "max",
    "off_step": "step",
    "misplaced_group": "groups",
    "several_decimal_separators": "several",
    "ambiguous_separator": "ambiguous",
    "other_currency": "currency",
    "other_digits": "digits",
}


@dataclass(frozen=True)
class NumberSymbols:
    """How a locale writes numbers, folded the way money.parse_amount folds typed text."""

    decimal: str
    group: str
    # The size of groups after the first: 3 mostly, 2 for Indian lakhs (1,00,000).
    secondary_grouping: int


@lru_cache(maxsize=256)
def number_symbols(locale: str) -> NumberSymbols:
    """Read the decimal and group symbols Babel knows for the locale."""
    parsed = Locale.parse(locale.replace("-", "_"))
    grouping = parsed.currency_formats["standard"].grouping
    group = unicodedata.normalize("NFKC", get_group_symbol(parsed)).strip() or " "
    return NumberSymbols(
        decimal=unicodedata.normalize("NFKC", get_decimal_symbol(parsed)).strip() or ".",
        group=group,
        secondary_grouping=grouping[1],
    )


@dataclass(frozen=True)
class AmountRules:
    """Everything the frame's script checks an amount against, and what it says when it refuses."""

    exponent: int
    step: int
    minimum_minor: int
    maximum_minor: int
    symbols: NumberSymbols
    messages: dict[str, str] = field(default_factory=dict)
    # The only characters read as digits, after full-width ones are folded; the script refuses
    # any other number character ("²", "⑩", "١٠") as money.parse_amount does.
    digits: str = money.ASCII_DIGITS


def goal_limits(public_goal: PublicGoal) -> tuple[int, int]:
    """The smallest and largest gift this goal takes, in minor units, Stripe's floor included."""
    goal = public_goal.goal
    minimum, maximum = money.gift_limits(
        goal.currency, minimum_minor=goal.minimum_minor, maximum_minor=goal.maximum_minor
    )
    # No minimum at all: the server refuses every gift with its own sentence.
    return minimum or 1, maximum


def _example(currency: money.Currency, decimal: str, whole: str) -> str:
    if currency.display_exponent == 0:
        return whole
    return whole + decimal + "50".ljust(currency.display_exponent, "0")


def _messages(public_goal: PublicGoal, locale: str, decimal: str) -> dict[str, str]:
    """Every sentence the amount field may need, keyed as the frame's script names them."""
    currency = money.get_currency(public_goal.goal.currency)
    code = currency.code
    minimum, maximum = goal_limits(public_goal)
    whole_only = gettext(
        "%(currency)s amounts must be whole numbers, without decimals.", currency=code
    )
    if currency.display_exponent == 0:
        decimals = whole_only
    else:
        decimals = ngettext(
            "%(currency)s amounts have at most %(num)s decimal.",
            "%(currency)s amounts have at most %(num)s decimals.",
            currency.display_exponent,
            currency=code,
        )
    if currency.step == 10**currency.display_exponent:
        step = whole_only
    else:
        step = gettext(
            "%(currency)s amounts must be a multiple of %(step)s.",
            currency=code,
            step=format_decimal(money.minor_to_decimal(currency.step, code), locale=locale),
        )
    return {
        "empty": gettext("Choose an amount or type your own."),
        "nan": gettext(
            "Please enter the amount in digits, for example %(example)s.",
            example=_example(currency, decimal, "25"),
        ),
        "decimals": decimals,
        "positive": gettext("Please enter an amount greater than zero."),
        "min": gettext(
            "The minimum gift is %(amount)s.", amount=money.format_amount(minimum, code, locale)
        ),
        "max": gettext(
            "The maximum gift is %(amount)s.", amount=money.format_amount(maximum, code, locale)
        ),
        "step": step,
        "groups": gettext("Please check the amount: its thousands separators are misplaced."),
        "several": gettext("Please use only one decimal separator in the amount."),
        "ambiguous": gettext(
            "Please type thousands without a separator (for example %(example)s) "
            "and decimals with “%(decimal)s”.",
            example=_example(currency, decimal, "1000"),
            decimal=decimal,
        ),
        "currency": gettext("Please enter the amount in %(currency)s.", currency=code),
        "digits": gettext(
            "Please type the amount with the digits 0 to 9, for example %(example)s.",
            example=_example(currency, decimal, "25"),
        ),
    }


def amount_rules(public_goal: PublicGoal, locale: str) -> AmountRules:
    """The goal's amount rules for this locale; call inside flask_babel.force_locale(locale)."""
    currency = money.get_currency(public_goal.goal.currency)
    symbols = number_symbols(locale)
    minimum, maximum = goal_limits(public_goal)
    return AmountRules(
        exponent=currency.display_exponent,
        step=currency.step,
        minimum_minor=minimum,
        maximum_minor=maximum,
        symbols=symbols,
        messages=_messages(public_goal, locale, symbols.decimal),
    )


def explain_amount_error(error: money.AmountError, public_goal: PublicGoal, locale: str) -> str:
    """The reader-language sentence for an amount money.py refused; its own words if unknown."""
    key = REASON_KEYS.get(error.reason)
    if key is None:
        return str(error)
    with force_locale(locale):
        return amount_rules(public_goal, locale).messages[key]
