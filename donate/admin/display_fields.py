"""The goal form's widget display fields: what owners type, read into WidgetSettings.

Texts are typed one per line: a call to action per language ("de: Unterstützen Sie ..."), and
impact lines per preset ("25: pays for one records request", "monthly 10: ..."). The rules are
donate.widget.settings', so the designer's preview and the saved goal agree.
"""

from __future__ import annotations

import re
from typing import Any

from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from donate import money
from donate.admin.amount_fields import read_amount, read_amounts
from donate.widget.languages import SUPPORTED_LANGUAGES
from donate.widget.settings import WidgetSettings, check_settings, impact_key

_LANGUAGE_LINE = re.compile(r"^([a-z]{2}):\s*(.*)$")
_IMPACT_LINE = re.compile(r"^(?:(monthly)\s+)?([^:]+):\s*(.*)$", re.IGNORECASE)


def parse_calls_to_action(text: str) -> tuple[dict[str, str], str | None]:
    """Lines of "xx: text" per language and one line without a prefix for every other."""
    texts: dict[str, str] = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        match = _LANGUAGE_LINE.match(line)
        language = match.group(1) if match and match.group(1) in SUPPORTED_LANGUAGES else ""
        value = match.group(2).strip() if language and match else line
        if language in texts:
            which = f"{language}:" if language else "without a language prefix"
            return texts, f"Give one call to action per language (two lines {which})."
        texts[language] = value
    return texts, None


def calls_to_action_text(texts: dict[str, str]) -> str:
    """The stored texts as the field shows them: the default first, then each language."""
    lines = [texts[""]] if texts.get("") else []
    lines += [f"{language}: {text}" for language, text in sorted(texts.items()) if language]
    return "\n".join(lines)


class DisplayFields:
    """Fields mixed into the goal form, with their reading and checking."""

    call_to_action = TextAreaField(
        "Call to action",
        description=(
            "Shown as the widget's heading, such as “Support our city hall investigation”. "
            "Add a line per language to translate it: “de: Unterstützen Sie …”. "
            "Empty: “Support” and the goal's title, in the reader's language."
        ),
    )
    show_donor_count = BooleanField("Show the number of donors", default=True)
    show_percent = BooleanField("Show the percentage raised", default=True)
    hide_figures_below_percent = IntegerField(
        "Hide donors and percentage until",
        description="Percent of the target raised; 0 shows them from the start.",
        default=0,
        validators=[
            Optional(),
            NumberRange(0, 100, "Choose a percentage from 0 to 100."),
        ],
    )
    default_preset = StringField(
        "Default amount", description="One of the preset amounts, chosen before the donor picks."
    )
    monthly_presets = TextAreaField(
        "Monthly preset amounts",
        description="One amount per line, at most six; empty offers the preset amounts.",
    )
    monthly_default = StringField("Default monthly amount")
    preset_impacts = TextAreaField(
        "What a gift does",
        description=(
            "One line per preset: “25: pays for one records request”, "
            "“monthly 10: keeps our archive open”."
        ),
    )

    @staticmethod
    def display_data(goal: Any, shown: Any) -> dict[str, Any]:
        """The form's values for a saved goal; `shown` writes an amount for typing."""
        impacts = []
        for key, text in sorted((goal.preset_impacts or {}).items()):
            frequency, _, amount = key.partition(":")
            prefix = "monthly " if frequency == "monthly" else ""
            impacts.append(f"{prefix}{shown(int(amount))}: {text}")
        return {
            "call_to_action": calls_to_action_text(dict(goal.call_to_action or {})),
            "show_donor_count": goal.show_donor_count,
            "show_percent": goal.show_percent,
            "hide_figures_below_percent": goal.hide_figures_below_percent,
            "default_preset": shown(goal.default_preset_minor),
            "monthly_presets": "\n".join(shown(p) for p in goal.monthly_presets_minor or []),
            "monthly_default": shown(goal.monthly_default_minor),
            "preset_impacts": "\n".join(impacts),
        }

    def read_display_settings(
        self,
        *,
        currency: str,
        locale: str,
        presets_minor: list[int],
        minimum_minor: int | None,
        maximum_minor: int | None,
    ) -> WidgetSettings | None:
        """The typed settings, or None with each problem noted beside its field."""
        form: Any = self
        texts, problem = parse_calls_to_action(form.call_to_action.data or "")
        if problem:
            form.call_to_action.errors.append(problem)
        impacts: dict[str, str] = {}
        for line in (form.preset_impacts.data or "").splitlines():
            if not line.strip():
                continue
            match = _IMPACT_LINE.match(line.strip())
            if not match:
                form.preset_impacts.errors.append(
                    f"“{line.strip()[:40]}”: write the amount, a colon, then what it does."
                )
                continue
            try:
                amount = money.parse_amount(match.group(2).strip(), currency, locale)
            except ValueError as error:
                form.preset_impacts.errors.append(f"{match.group(2).strip()}: {error}")
                continue
            frequency = "monthly" if match.group(1) else "once"
            impacts[impact_key(frequency, amount)] = match.group(3).strip()
        settings = WidgetSettings(
            call_to_action=texts,
            show_donor_count=bool(form.show_donor_count.data),
            show_percent=bool(form.show_percent.data),
            hide_figures_below_percent=form.hide_figures_below_percent.data or 0,
            default_preset_minor=read_amount(form.default_preset, currency, locale),
            monthly_presets_minor=tuple(read_amounts(form.monthly_presets, currency, locale)),
            monthly_default_minor=read_amount(form.monthly_default, currency, locale),
            preset_impacts=impacts,
        )
        errors = check_settings(
            settings,
            presets_minor=presets_minor,
            currency=currency,
            locale=locale,
            minimum_minor=minimum_minor,
            maximum_minor=maximum_minor,
        )
        fields = {
            "default_preset_minor": "default_preset",
            "monthly_presets_minor": "monthly_presets",
            "monthly_default_minor": "monthly_default",
        }
        for name, message in errors.items():
            field = getattr(form, fields.get(name, name))
            if not field.errors:
                field.errors.append(message)
        if any(getattr(form, name).errors for name in _FIELD_NAMES):
            return None
        return settings


_FIELD_NAMES = (
    "call_to_action",
    "show_donor_count",
    "show_percent",
    "hide_figures_below_percent",
    "default_preset",
    "monthly_presets",
    "monthly_default",
    "preset_impacts",
)
