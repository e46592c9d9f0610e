"""The form that opens a goal's match: the sponsor and the pool, in the goal's currency."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from donate import money
from donate.matches import SPONSOR_MAX_LENGTH, MatchError


class MatchForm(FlaskForm):
    sponsor = StringField(
        "Sponsor",
        description="Shown to readers: “Every gift doubled … by this sponsor”.",
        validators=[
            DataRequired("Name the sponsor who gives the match."),
            Length(max=SPONSOR_MAX_LENGTH, message="Keep the name to 120 characters."),
        ],
    )
    pool = StringField(
        "Pool",
        description="The most the sponsor gives; every gift is matched 1:1 until it is used up.",
        validators=[DataRequired("Enter how much the sponsor gives at most.")],
    )

    def __init__(self, *args: Any, currency: str, locale: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency, self.locale = currency, locale
        self.pool_minor: int | None = None

    def validate_pool(self, field: StringField) -> None:
        try:
            self.pool_minor = money.parse_amount(
                (field.data or "").strip(), self.currency, self.locale
            )
        except ValueError as error:
            field.errors.append(str(error))

    def show_match_errors(self, error: MatchError) -> None:
        """Put the rules' messages beside their fields, the rest above the form."""
        for name, message in error.errors.items():
            field = getattr(self, name, None)
            if field is None:
                self.form_errors.append(message)
            else:
                field.errors.append(message)


class CloseMatchForm(FlaskForm):
    """Only its CSRF token: ends the goal's open match."""
