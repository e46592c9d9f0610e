"""The designer's form for a goal's saved display settings: call to action, figures, default."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from donate import money
from donate.admin.designer import TRANSLATED, cta_field, settings_errors
from donate.models import Goal
from donate.widget.settings import WidgetSettings

LANGUAGE_LABELS = {"de": "In German", "fr": "In French", "es": "In Spanish"}
# Which field shows the message of each rule of check_settings.
FIELD_OF_RULE = {
    "call_to_action": "cta",
    "hide_figures_below_percent": "hide_below",
    "default_preset_minor": "default_amount",
}


class DisplayForm(FlaskForm):
    """What every widget of one goal says and shows; the preview's query uses the same names."""

    cta = StringField(
        "Call to action",
        description=(
            "The widget's heading, such as “Support our city hall investigation”. "
            "Empty: “Support” and the goal's title, in the reader's language."
        ),
    )
    cta_de = StringField(LANGUAGE_LABELS["de"])
    cta_fr = StringField(LANGUAGE_LABELS["fr"])
    cta_es = StringField(LANGUAGE_LABELS["es"])
    show_donor_count = BooleanField("Show the number of donors")
    show_percent = BooleanField("Show the percentage raised")
    hide_below = IntegerField(
        "Hide donors and percentage until (%)",
        [
            InputRequired("Enter a percentage from 0 to 100."),
            NumberRange(0, 100, "Choose a percentage from 0 to 100."),
        ],
        description="Percent of the target raised; 0 shows them from the start.",
    )
    default_amount = SelectField("Preselected amount", choices=[SelectChoice("", "None")])

    def __init__(self, goal: Goal, **kwargs: Any) -> None:
        self.goal = goal
        texts = dict(goal.call_to_action or {})
        data = {
            **{cta_field(code): texts.get(code, "") for code in ("", *TRANSLATED)},
            "show_donor_count": goal.show_donor_count,
            "show_percent": goal.show_percent,
            "hide_below": goal.hide_figures_below_percent,
            "default_amount": str(goal.default_preset_minor or ""),
        }
        super().__init__(data=data, **kwargs)
        locale = goal.site.default_locale
        self.default_amount.choices = [SelectChoice("", "None")] + [
            SelectChoice(str(amount), money.format_amount(amount, goal.currency, locale))
            for amount in goal.presets_minor or []
        ]
        self._settings: WidgetSettings | None = None

    def translation_fields(self) -> list[str]:
        """The call-to-action fields of the languages besides the default."""
        return [cta_field(code) for code in TRANSLATED]

    def has_translations(self) -> bool:
        """Whether any translation is filled in (the page then shows them open)."""
        return any(self[name].data for name in self.translation_fields())

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields, then the shared rules of donate.widget.settings on what they make."""
        if not super().validate(extra_validators):
            return False
        texts = {code: (self[cta_field(code)].data or "").strip() for code in ("", *TRANSLATED)}
        goal = self.goal
        settings = replace(
            WidgetSettings.from_goal(goal),
            call_to_action={code: text for code, text in texts.items() if text},
            show_donor_count=bool(self.show_donor_count.data),
            show_percent=bool(self.show_percent.data),
            hide_figures_below_percent=int(self.hide_below.data or 0),
            default_preset_minor=int(self.default_amount.data)
            if self.default_amount.data
            else None,
        )
        errors = settings_errors(settings, goal)
        for rule, message in errors.items():
            self[FIELD_OF_RULE.get(rule, "cta")].errors.append(message)
        if errors:
            return False
        self._settings = settings
        return True

    def settings(self) -> WidgetSettings:
        """The checked settings, to save on the goal."""
        assert self._settings is not None, "validate() first"
        return self._settings
