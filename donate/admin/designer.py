"""The embed designer's choices, read from a query: a snippet's look, and settings to preview.

Every value comes from a fixed list or a bounded number; anything else is refused with a message
(the preview answers 400), so neither a snippet nor a preview shows what the owner did not pick.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from donate.admin.embed import Look
from donate.models import Goal
from donate.widget.colours import PALETTE
from donate.widget.documents import VARIANTS
from donate.widget.languages import SUPPORTED_LANGUAGES
from donate.widget.settings import WidgetSettings, check_settings

# The palette's names once each ("gray" is another spelling of "grey").
COLOURS = tuple(name for name in PALETTE if name != "gray")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español"}
PREVIEW_WIDTHS = (320, 390, 720)


class ChoiceError(ValueError):
    """A designer parameter outside its list or range; the message says which and why."""


def _one_of(args: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = (args.get(name) or "").strip().lower()
    if not value:
        return default
    if value not in allowed:
        raise ChoiceError(f"{name} must be one of: {', '.join(allowed)}.")
    return value


def read_look(args: Mapping[str, str]) -> Look:
    """The variant, palette colour ("" for the site's) and language ("" for automatic) asked for."""
    return Look(
        variant=_one_of(args, "variant", VARIANTS, "full"),
        colour=_one_of(args, "color", COLOURS, ""),
        locale=_one_of(args, "locale", SUPPORTED_LANGUAGES, ""),
    )


def look_or_default(args: Mapping[str, str]) -> Look:
    """The look asked for, or the default look when any part of it is not one of ours."""
    try:
        return read_look(args)
    except ChoiceError:
        return Look()


# What the preview may override, by query name. The rules are check_settings', as for saving.
TRANSLATED = tuple(code for code in SUPPORTED_LANGUAGES if code != "en")
FLAGS = ("show_donor_count", "show_percent")


def cta_field(language: str) -> str:
    """The form field and query parameter of one language's call to action ("" = default)."""
    return f"cta_{language}" if language else "cta"


def settings_errors(settings: WidgetSettings, goal: Goal) -> dict[str, str]:
    """Every rule of donate.widget.settings the settings break for this saved goal."""
    return check_settings(
        settings,
        presets_minor=list(goal.presets_minor or []),
        currency=goal.currency,
        minimum_minor=goal.minimum_minor,
        maximum_minor=goal.maximum_minor,
        locale=goal.site.default_locale,
    )


def broken_rule(settings: WidgetSettings, goal: Goal) -> str | None:
    """The first rule of donate.widget.settings the settings break, as its sentence."""
    return next(iter(settings_errors(settings, goal).values()), None)


def _flag(value: str, name: str) -> bool:
    if value not in ("0", "1"):
        raise ChoiceError(f"{name} must be 0 or 1.")
    return value == "1"


def _whole(value: str, name: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        raise ChoiceError(f"{name} must be a whole number from {low} to {high}.")
    return int(value)


def overrides(args: Mapping[str, str], goal: Goal) -> WidgetSettings:
    """The goal's saved settings changed by the query; a parameter left out keeps its value."""
    saved = WidgetSettings.from_goal(goal)
    changes: dict[str, Any] = {}
    texts = dict(saved.call_to_action)
    for code in ("", *TRANSLATED):
        name = cta_field(code)
        if name in args:
            text = args[name].strip()
            if text:
                texts[code] = text
            else:
                texts.pop(code, None)
    changes["call_to_action"] = texts
    for name in FLAGS:
        if name in args:
            changes[name] = _flag(args[name], name)
    if "hide_below" in args:
        changes["hide_figures_below_percent"] = _whole(args["hide_below"], "hide_below", 0, 100)
    if "default_amount" in args:
        asked = args["default_amount"]
        if asked and not asked.isdigit():
            raise ChoiceError("default_amount must be a preset amount in minor units, or empty.")
        changes["default_preset_minor"] = int(asked) if asked else None
    settings = replace(saved, **changes)
    problem = broken_rule(settings, goal)
    if problem:
        raise ChoiceError(problem)
    return settings
