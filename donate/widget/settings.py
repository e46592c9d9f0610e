"""How an owner wants a goal's widget shown: call to action, what to hide, defaults, impacts.

The saved values live on the goal row; `WidgetSettings.from_goal` reads them, and the embed
designer's authenticated preview builds one from unsaved choices instead. `check_settings`
holds the rules (a default must be one of the presets, and so on) with one sentence per field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from donate import money

FREQUENCIES = ("once", "monthly")
MAX_PRESETS = 6
CALL_TO_ACTION_MAX_LENGTH = 120
IMPACT_MAX_LENGTH = 100
# Line breaks, tabs and other control characters: these texts are one line in the card.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def impact_key(frequency: str, amount_minor: int) -> str:
    """The key of one preset's impact line, as stored: "once:2500" or "monthly:1000"."""
    return f"{frequency}:{amount_minor}"


@dataclass(frozen=True)
class WidgetSettings:
    """A goal's display settings, frozen: one rendering reads one consistent set."""

    # Language code -> text; "" is the text for every language without its own; {} ours.
    call_to_action: Mapping[str, str] = field(default_factory=dict)
    show_donor_count: bool = True
    show_percent: bool = True
    # Donor count and percentage stay hidden until the raised percentage reaches this.
    hide_figures_below_percent: int = 0
    default_preset_minor: int | None = None
    monthly_presets_minor: tuple[int, ...] = ()
    monthly_default_minor: int | None = None
    # "once:2500" / "monthly:1000" -> a short line saying what that gift does.
    preset_impacts: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Copies, so a caller's dict changed later cannot change a frozen rendering's settings.
        object.__setattr__(self, "call_to_action", dict(self.call_to_action))
        object.__setattr__(self, "preset_impacts", dict(self.preset_impacts))
        object.__setattr__(self, "monthly_presets_minor", tuple(self.monthly_presets_minor))

    def __hash__(self) -> int:
        return hash(self.cache_key())

    @classmethod
    def from_goal(cls, goal: Any) -> WidgetSettings:
        """The settings saved on a goal row (or on anything with the same attributes)."""
        return cls(
            call_to_action=dict(goal.call_to_action or {}),
            show_donor_count=bool(goal.show_donor_count),
            show_percent=bool(goal.show_percent),
            hide_figures_below_percent=int(goal.hide_figures_below_percent or 0),
            default_preset_minor=goal.default_preset_minor,
            monthly_presets_minor=tuple(goal.monthly_presets_minor or ()),
            monthly_default_minor=goal.monthly_default_minor,
            preset_impacts=dict(goal.preset_impacts or {}),
        )

    def apply_to(self, goal: Any) -> None:
        """Save these settings on a goal row (checked first with `check_settings`)."""
        goal.call_to_action = dict(self.call_to_action)
        goal.show_donor_count = self.show_donor_count
        goal.show_percent = self.show_percent
        goal.hide_figures_below_percent = self.hide_figures_below_percent
        goal.default_preset_minor = self.default_preset_minor
        goal.monthly_presets_minor = list(self.monthly_presets_minor)
        goal.monthly_default_minor = self.monthly_default_minor
        goal.preset_impacts = dict(self.preset_impacts)

    def cache_key(self) -> tuple[Any, ...]:
        """Every value, hashable, for keys of cached renderings."""
        return (
            tuple(sorted(self.call_to_action.items())),
            self.show_donor_count,
            self.show_percent,
            self.hide_figures_below_percent,
            self.default_preset_minor,
            self.monthly_presets_minor,
            self.monthly_default_minor,
            tuple(sorted(self.preset_impacts.items())),
        )

    def call_to_action_for(self, language: str) -> str | None:
        """The owner's text for this language, else their default; None means use ours."""
        return self.call_to_action.get(language) or self.call_to_action.get("") or None

    def figures_shown(self, percent: int) -> bool:
        """Whether donor count and percentage are out of their "while small" hiding."""
        return percent >= self.hide_figures_below_percent

    def presets_for(self, frequency: str, once_presets: Sequence[int]) -> tuple[int, ...]:
        """The presets offered for a frequency: monthly ones of its own, else the one-off ones."""
        if frequency == "monthly" and self.monthly_presets_minor:
            return self.monthly_presets_minor
        return tuple(once_presets)

    def default_for(self, frequency: str) -> int | None:
        """The preset chosen before the donor chooses, for a frequency."""
        return self.monthly_default_minor if frequency == "monthly" else self.default_preset_minor

    def impact(self, frequency: str, amount_minor: int) -> str | None:
        """What one preset's gift does, in the owner's words, if they wrote any."""
        return self.preset_impacts.get(impact_key(frequency, amount_minor)) or None


def check_settings(
    settings: WidgetSettings,
    *,
    presets_minor: Sequence[int],
    currency: str,
    minimum_minor: int | None,
    maximum_minor: int | None,
    locale: str,
) -> dict[str, str]:
    """Every rule the settings break, as one sentence per field name of WidgetSettings."""
    errors: dict[str, str] = {}
    code = money.get_currency(currency).code

    def describe(amount: int) -> str:
        return money.format_amount(amount, code, locale)

    for language, text in settings.call_to_action.items():
        where = f" ({language})" if language else ""
        if not text.strip():
            errors["call_to_action"] = f"The call to action{where} is empty."
        elif len(text) > CALL_TO_ACTION_MAX_LENGTH:
            errors["call_to_action"] = (
                f"Keep the call to action{where} under {CALL_TO_ACTION_MAX_LENGTH} characters."
            )
        elif _CONTROL.search(text):
            errors["call_to_action"] = f"Keep the call to action{where} on one line."
    if not 0 <= settings.hide_figures_below_percent <= 100:
        errors["hide_figures_below_percent"] = "Choose a percentage from 0 to 100."
    once = list(presets_minor)
    if settings.default_preset_minor is not None and settings.default_preset_minor not in once:
        errors["default_preset_minor"] = (
            f"The default amount {describe(settings.default_preset_minor)} must be one of the "
            f"preset amounts."
        )
    monthly = list(settings.monthly_presets_minor)
    if len(monthly) > MAX_PRESETS:
        errors["monthly_presets_minor"] = f"Offer at most {MAX_PRESETS} monthly preset amounts."
    elif len(set(monthly)) != len(monthly):
        errors["monthly_presets_minor"] = "Each monthly preset amount should appear once."
    for preset in monthly:
        try:
            money.validate_amount(
                preset,
                code,
                minimum_minor=minimum_minor,
                maximum_minor=maximum_minor,
                locale=locale,
            )
        except money.AmountError as error:
            errors["monthly_presets_minor"] = f"Monthly preset {describe(preset)}: {error}"
            break
    offered = {"once": once, "monthly": monthly or once}
    monthly_default = settings.monthly_default_minor
    if monthly_default is not None and monthly_default not in offered["monthly"]:
        which = "monthly preset amounts" if monthly else "preset amounts"
        errors["monthly_default_minor"] = (
            f"The monthly default {describe(monthly_default)} must be one of the {which}."
        )
    for key, text in settings.preset_impacts.items():
        frequency, _, amount = key.partition(":")
        value = money.whole_number(amount)
        if frequency not in FREQUENCIES or value is None:
            errors["preset_impacts"] = f"{key} does not name a preset."
        elif value not in offered[frequency]:
            errors["preset_impacts"] = (
                f"{describe(value)}{' monthly' if frequency == 'monthly' else ''} is not one of "
                f"the preset amounts; an impact line belongs to a preset."
            )
        elif not text.strip() or len(text) > IMPACT_MAX_LENGTH or _CONTROL.search(text):
            errors["preset_impacts"] = (
                f"Keep the impact line of {describe(value)} to one line of at most "
                f"{IMPACT_MAX_LENGTH} characters."
            )
    return errors
