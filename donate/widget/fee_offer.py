"""The widget's "cover the fees" offer: the goal's rule as the frame's script needs it, and labels.

The server renders the label for the preset the card checks (or the smallest), so the box reads
right without script; the script recomputes the same integers as the donor picks or types an amount.
The server computes the fee again from the saved rule when the gift is posted.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel import Locale
from babel.numbers import get_currency_symbol

from donate import fee_cover, money
from donate.models import Goal


@dataclass(frozen=True)
class FeeOffer:
    """A goal's fee rule for the frame, and the fee of each preset and of the smallest gift."""

    basis_points: int
    fixed_minor: int
    step: int
    charge_limit_minor: int
    # The positive currency pattern of the locale ("¤#,##0.00") and the currency's symbol.
    pattern: str
    symbol: str
    labels: dict[int, str]
    default_label: str

    def label_for(self, amount_minor: int | None) -> str:
        """The fee for a preset, once or monthly (or the smallest gift when none is chosen)."""
        if amount_minor is None:
            return self.default_label
        return self.labels.get(amount_minor, self.default_label)


def fee_offer(goal: Goal, locale: str, minimum_minor: int) -> FeeOffer | None:
    """The offer a goal makes, or None where its owner has not switched it on."""
    if not goal.fee_cover_enabled:
        return None
    unit = money.get_currency(goal.currency)

    def shown(gift: int) -> str:
        return money.format_amount(fee_cover.fee_for(goal, gift), goal.currency, locale)

    presets = sorted(goal.presets_minor or [])
    default_gift = presets[0] if presets else minimum_minor
    offered = {*presets, *(goal.monthly_presets_minor or [])}
    pattern = Locale.parse(locale).currency_formats["standard"].pattern.split(";")[0]
    return FeeOffer(
        basis_points=goal.fee_cover_basis_points,
        fixed_minor=goal.fee_cover_fixed_minor,
        step=unit.step,
        charge_limit_minor=unit.maximum_minor,
        pattern=pattern,
        symbol=get_currency_symbol(goal.currency, locale=locale),
        labels={gift: shown(gift) for gift in offered},
        default_label=shown(default_gift),
    )
