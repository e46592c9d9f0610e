"""The monthly donors pages' forms: the goal filter and the cancel buttons."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Optional

from donate import money
from donate.models import Goal


class MonthlyFilterForm(FlaskForm):
    """Narrow the list to one goal (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    goal = SelectField("Goal", validators=[Optional()])

    def __init__(self, *args: Any, goals: list[Goal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.goal.choices = [SelectChoice("", "All goals")] + [
            SelectChoice(str(goal.id), goal.title) for goal in goals
        ]

    @property
    def goal_id(self) -> int | None:
        return None if self.goal.errors else money.whole_number(self.goal.data or "")


class CancelMonthlyForm(FlaskForm):
    """One of the two cancel buttons: `when` is "now" or "period_end"."""

    when = HiddenField(validators=[AnyOf(["now", "period_end"], message="Choose when to cancel.")])
