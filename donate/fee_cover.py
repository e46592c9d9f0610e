"""Cover the fees: what a donor may add so that, after a fee of the owner's rule, the gift is whole.

Stripe's real fee depends on the card, the method and any conversion and is known only after the
payment, so the offer is a gross-up from the owner's rule (a percentage plus a fixed part):

    fee = ceil((gift + fixed) / (1 - pct)) - gift

in exact integers, with the percentage in basis points (hundredths of a percent). The result is
rounded up to the currency's step and never pushes one charge over Stripe's limit: when it would,
the offer shrinks to what still fits (down to nothing for a gift at the limit), since the donor
asked to add about the fee, not to have their gift refused. The total never falls under Stripe's
minimum, because the gift alone is already at or above it.
"""

from __future__ import annotations

import re
from decimal import Decimal

from donate import money
from donate.models import Goal

BASIS = 10_000
# A fee of half the gift is already beyond any real card fee; the rule stops there.
MAX_BASIS_POINTS = 5_000
_PERCENT = re.compile(r"^\s*(\d{1,2})(?:[.,](\d{1,2}))?\s*%?\s*$")


def gross_up(gift_minor: int, basis_points: int, fixed_minor: int) -> int:
    """ceil((gift + fixed) * 10000 / (10000 - bp)) - gift: the fee a gross-up adds, exactly."""
    if not 0 <= basis_points <= MAX_BASIS_POINTS:
        raise ValueError(f"basis_points must lie between 0 and {MAX_BASIS_POINTS}")
    if gift_minor < 0 or fixed_minor < 0:
        raise ValueError("gift and fixed part must not be negative")
    numerator = (gift_minor + fixed_minor) * BASIS
    denominator = BASIS - basis_points
    return -(-numerator // denominator) - gift_minor


def offer(gift_minor: int, currency: str, basis_points: int, fixed_minor: int) -> int:
    """The fee cover for a gift: the gross-up on the currency's step, within one charge's limit."""
    unit = money.get_currency(currency)
    fee = gross_up(gift_minor, basis_points, fixed_minor)
    fee += -fee % unit.step
    room = unit.maximum_minor - gift_minor
    return max(0, min(fee, room))


def fee_for(goal: Goal, gift_minor: int) -> int:
    """The fee cover this goal's saved rule offers for a gift; 0 where the goal offers none."""
    if not goal.fee_cover_enabled:
        return 0
    return offer(gift_minor, goal.currency, goal.fee_cover_basis_points, goal.fee_cover_fixed_minor)


def parse_percent(text: str) -> int:
    """Read "2.9", "2,9 %" or "0.25" as basis points (290, 290, 25); ValueError says why not."""
    found = _PERCENT.match(text or "")
    if not found:
        raise ValueError(
            "Enter the percentage as a number from 0 to 50 with at most two decimals, e.g. 2.9."
        )
    whole, fraction = found.group(1), found.group(2) or ""
    basis_points = int(whole) * 100 + int((fraction + "00")[:2])
    if basis_points > MAX_BASIS_POINTS:
        raise ValueError("The percentage can be at most 50.")
    return basis_points


def percent_text(basis_points: int) -> str:
    """Basis points as the admin form shows them: 290 as "2.9", 300 as "3"."""
    return format((Decimal(basis_points) / 100).normalize(), "f")


def rule_errors(
    *, enabled: bool, basis_points: int, fixed_minor: int, currency: str
) -> dict[str, str]:
    """What is wrong with a fee rule, by GoalSettings field; empty when it can be saved."""
    errors: dict[str, str] = {}
    if not 0 <= basis_points <= MAX_BASIS_POINTS:
        errors["fee_cover_basis_points"] = "The percentage must lie between 0 and 50."
    unit = money.get_currency(currency)
    if fixed_minor < 0:
        errors["fee_cover_fixed_minor"] = "The fixed part cannot be negative."
    elif fixed_minor % unit.step:
        shown = money.format_amount(unit.step, unit.code, "en")
        errors["fee_cover_fixed_minor"] = f"The fixed part must be a multiple of {shown}."
    elif fixed_minor > unit.maximum_minor:
        errors["fee_cover_fixed_minor"] = "The fixed part is above what one payment can carry."
    if enabled and not errors and basis_points == 0 and fixed_minor == 0:
        errors["fee_cover_basis_points"] = (
            "Enter a percentage or a fixed part: with neither, covering the fees adds nothing."
        )
    return errors
