"""The dashboard's forms: each parses what people typed and says, beside the field, what is wrong.

Amounts are read with money.parse_amount in the site's locale; the rules for sites and goals are
donate.goals' (shared with the CLI), whose per-field messages `show_rule_errors` puts in place.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from babel.numbers import format_decimal
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from donate import fee_cover, money
from donate.accounts import AccountError, check_password_strength, normalise_email
from donate.admin import local_time
from donate.admin.amount_fields import read_amount, read_amounts
from donate.admin.display_fields import DisplayFields
from donate.goals import GoalSettings, SettingsError, SiteSettings, goal_rule_errors
from donate.models import DonationKind, DonationState, Goal, GoalStatus, Role, Site
from donate.widget.settings import WidgetSettings

CURRENCY_CHOICES = [SelectChoice(code, code) for code in money.CURRENCIES]
ROLE_CHOICES = [
    SelectChoice(Role.VIEWER.value, "Viewer: reads goals, donations and reports"),
    SelectChoice(Role.EDITOR.value, "Editor: also goals, donations, offline gifts and refunds"),
    SelectChoice(Role.OWNER.value, "Owner: also site settings and people"),
]
STATUS_CHOICES = [
    SelectChoice(GoalStatus.DRAFT.value, "Draft (not shown to readers)"),
    SelectChoice(GoalStatus.ACTIVE.value, "Active (taking gifts)"),
    SelectChoice(GoalStatus.PAUSED.value, "Paused (shown, not taking gifts)"),
    SelectChoice(GoalStatus.CLOSED.value, "Closed"),
]
OFFLINE_METHODS = {"cash": "Cash", "cheque": "Cheque", "bank_transfer": "Bank transfer"}
REFUND_REASONS = {
    "requested_by_customer": "The donor asked for it",
    "duplicate": "A duplicate payment",
    "fraudulent": "Fraudulent",
}


def _options(labels: dict[str, str]) -> list:
    return [SelectChoice(value, label) for value, label in labels.items()]


_LOCAL_INPUT = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
_REQUEST_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# No gift predates the platform; dates before this are typing mistakes (or probes).
EARLIEST_DAY = date(2000, 1, 1)


def _spelled(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _check_filter_day(field: DateField) -> None:
    """Keep a filter's date between 2000 and a year from now, where the calendar is safe."""
    latest = date.today() + timedelta(days=366)
    if field.data and not EARLIEST_DAY <= field.data <= latest:
        raise ValidationError(f"Choose a date from {_spelled(EARLIEST_DAY)} to {_spelled(latest)}.")


def amount_for_input(amount_minor: int | None, currency: str, locale: str) -> str:
    """An amount as a person would type it in this locale, without symbol or grouping."""
    if amount_minor is None:
        return ""
    value = money.minor_to_decimal(amount_minor, currency)
    return format_decimal(value, locale=locale.replace("-", "_"), group_separator=False)


def _with_zone(moment: datetime | None, zone: str) -> datetime | None:
    """A time typed in the site's time zone, made aware."""
    if moment is None:
        return None
    return moment.replace(tzinfo=ZoneInfo(zone))


def _in_zone(moment: datetime | None, zone: str) -> datetime | None:
    """A stored time as the site's wall clock shows it, for a datetime-local input."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


class RuleErrors:
    """Put donate.goals' per-field messages beside the fields they are about."""

    FIELD_FOR_RULE: dict[str, str] = {}

    def show_rule_errors(self, error: SettingsError) -> None:
        for rule, message in error.errors.items():
            field = getattr(self, self.FIELD_FOR_RULE.get(rule, rule), None)
            if field is None:
                self.form_errors.append(message)  # type: ignore[attr-defined]
            else:
                field.errors.append(message)


# --- signing in -------------------------------------------------------------------------------


class SignInForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired("Enter your e-mail address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ResetRequestForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired("Enter your e-mail address.")])


class NewPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired("Choose a password.")])
    confirm = PasswordField(
        "The same password again",
        validators=[EqualTo("password", "The two passwords differ; type them again.")],
    )

    def validate_password(self, field: PasswordField) -> None:
        try:
            check_password_strength(field.data)
        except AccountError as error:
            raise ValidationError(str(error)) from None


class NewAccountForm(NewPasswordForm):
    name = StringField("Your name", validators=[Optional(), Length(max=200)])


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels."""


# --- sites and people -------------------------------------------------------------------------


class SiteForm(RuleErrors, FlaskForm):
    FIELD_FOR_RULE = {}

    name = StringField("Name", validators=[DataRequired("Give the site a name."), Length(max=200)])
    allowed_origins = TextAreaField(
        "Where the widget may be embedded",
        description="One origin per line, such as https://news.example.org "
        "(add :* after a host to allow any port, e.g. http://localhost:*).",
    )
    default_currency = SelectField("Default currency", choices=CURRENCY_CHOICES, default="USD")
    default_locale = StringField(
        "Language and number format",
        description="A locale code such as en, en_GB, de or fr_CH.",
        validators=[DataRequired("Choose a locale, such as en.")],
        default="en",
    )
    time_zone = SelectField(
        "Time zone",
        choices=[SelectChoice(zone, zone) for zone in sorted(available_timezones())],
        default="UTC",
    )
    brand_colour = StringField(
        "Brand colour",
        description="Like #1d4ed8.",
        validators=[DataRequired("Choose a colour such as #1d4ed8.")],
        default="#1d4ed8",
    )
    home_url = StringField(
        "Home page",
        description="The goal page links back here, such as https://news.example.org/.",
        validators=[Optional()],
    )
    receipts_enabled = BooleanField(
        "E-mail each donor a thank-you with a receipt",
        description="Stripe's own receipts, if you turned them on there, are not tax receipts.",
    )
    receipt_organisation = StringField(
        "Organisation's name on receipts", description="Leave empty to use the site's name."
    )
    receipt_address = TextAreaField("Organisation's address on receipts")
    receipt_tax_note = TextAreaField(
        "Tax note on receipts",
        description="Printed as written, e.g. your charity number and what donors may deduct.",
    )

    @classmethod
    def for_site(cls, site: Site) -> SiteForm:
        return cls(
            data={
                "name": site.name,
                "allowed_origins": "\n".join(site.allowed_origins or []),
                "default_currency": site.default_currency,
                "default_locale": site.default_locale,
                "time_zone": site.time_zone,
                "brand_colour": site.brand_colour,
                "home_url": site.home_url or "",
                "receipts_enabled": site.receipts_enabled,
                "receipt_organisation": site.receipt_organisation,
                "receipt_address": site.receipt_address,
                "receipt_tax_note": site.receipt_tax_note,
            }
        )

    def settings(self) -> SiteSettings:
        return SiteSettings(
            name=self.name.data or "",
            allowed_origins=(self.allowed_origins.data or "").splitlines(),
            default_currency=self.default_currency.data or "",
            default_locale=(self.default_locale.data or "").strip(),
            time_zone=self.time_zone.data or "",
            brand_colour=(self.brand_colour.data or "").strip(),
            home_url=(self.home_url.data or "").strip(),
            receipts_enabled=bool(self.receipts_enabled.data),
            receipt_organisation=self.receipt_organisation.data or "",
            receipt_address=self.receipt_address.data or "",
            receipt_tax_note=self.receipt_tax_note.data or "",
        )


class InviteForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired("Enter their e-mail address.")])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.EDITOR.value)

    def validate_email(self, field: StringField) -> None:
        try:
            field.data = normalise_email(field.data)
        except AccountError as error:
            raise ValidationError(str(error)) from None


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


# --- goals ------------------------------------------------------------------------------------


class GoalForm(RuleErrors, DisplayFields, FlaskForm):
    FIELD_FOR_RULE = {
        "target_minor": "target",
        "presets_minor": "presets",
        "minimum_minor": "minimum",
        "maximum_minor": "maximum",
        "milestones_minor": "milestones",
        "fee_cover_basis_points": "fee_percent",
        "fee_cover_fixed_minor": "fee_fixed",
    }

    title = StringField("Title", validators=[DataRequired("Give the goal a title.")])
    slug = StringField(
        "Address",
        description="Lower-case letters, digits and dashes; it appears in the widget's links.",
        validators=[DataRequired("Choose an address such as spring-appeal.")],
    )
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    currency = SelectField("Currency", choices=CURRENCY_CHOICES)
    target = StringField("Target", validators=[DataRequired("Enter the amount to raise.")])
    presets = TextAreaField("Preset amounts", description="One amount per line, at most six.")
    minimum = StringField("Smallest gift", description="Stripe's minimum when left empty.")
    maximum = StringField("Largest gift", description="No limit when left empty.")
    monthly = BooleanField("Offer monthly giving")
    cover_fees = BooleanField("Offer donors to cover the fees")
    fee_percent = StringField(
        "Fee percentage", description="Of the whole payment, e.g. 2.9 for 2.9 %; 0 to 50."
    )
    fee_fixed = StringField("Fixed fee", description="Per payment, in the goal's currency.")
    starts_at = DateTimeLocalField("Starts", format=_LOCAL_INPUT, validators=[Optional()])
    ends_at = DateTimeLocalField("Deadline", format=_LOCAL_INPUT, validators=[Optional()])
    milestones = TextAreaField("Milestones", description="One amount per line.")
    status = SelectField("Status", choices=STATUS_CHOICES, default=GoalStatus.ACTIVE.value)

    def __init__(
        self,
        *args: Any,
        site: Site,
        goal: Goal | None = None,
        currency_locked: bool = False,
        **kwargs: Any,
    ) -> None:
        self.site = site
        self.goal = goal
        if goal is not None:
            kwargs.setdefault("data", self._data_of(goal, site))
        else:
            kwargs.setdefault("data", {"currency": site.default_currency})
        super().__init__(*args, **kwargs)
        if currency_locked and goal is not None:
            # The first gift fixed the currency; offering others would only invite an error.
            self.currency.choices = [SelectChoice(goal.currency, goal.currency)]
            self.currency.description = "Fixed by the first gift."
        self._settings: GoalSettings | None = None
        self._display: WidgetSettings | None = None

    @staticmethod
    def _data_of(goal: Goal, site: Site) -> dict[str, Any]:
        def shown(amount: int | None) -> str:
            return amount_for_input(amount, goal.currency, site.default_locale)

        return {
            "title": goal.title,
            "slug": goal.slug,
            "description": goal.description,
            "currency": goal.currency,
            "target": shown(goal.target_minor),
            "presets": "\n".join(shown(p) for p in goal.presets_minor or []),
            "minimum": shown(goal.minimum_minor),
            "maximum": shown(goal.maximum_minor),
            "monthly": goal.monthly_enabled,
            "starts_at": _in_zone(goal.starts_at, site.time_zone),
            "ends_at": _in_zone(goal.ends_at, site.time_zone),
            "milestones": "\n".join(shown(m) for m in goal.milestones_minor or []),
            "status": goal.status.value,
            "cover_fees": goal.fee_cover_enabled,
            "fee_percent": fee_cover.percent_text(goal.fee_cover_basis_points),
            "fee_fixed": shown(goal.fee_cover_fixed_minor or None),
        } | DisplayFields.display_data(goal, shown)

    def validate(self, extra_validators: Any = None) -> bool:
        fields_valid = super().validate(extra_validators)
        stale = getattr(self, "csrf_token", None)
        if self.currency.errors or (stale is not None and stale.errors):
            return False  # amounts cannot be read without a currency; a stale form is resent
        code, locale, zone = self.currency.data, self.site.default_locale, self.site.time_zone
        target = read_amount(self.target, code, locale)
        settings = GoalSettings(
            slug=self.slug.data or "",
            title=self.title.data or "",
            currency=code,
            target_minor=target or 0,
            presets_minor=read_amounts(self.presets, code, locale),
            minimum_minor=read_amount(self.minimum, code, locale),
            maximum_minor=read_amount(self.maximum, code, locale),
            monthly_enabled=bool(self.monthly.data),
            description=self.description.data or "",
            starts_at=_with_zone(self.starts_at.data, zone),
            ends_at=_with_zone(self.ends_at.data, zone),
            milestones_minor=read_amounts(self.milestones, code, locale),
            status=GoalStatus(self.status.data),
            fee_cover_enabled=bool(self.cover_fees.data),
            fee_cover_basis_points=self._fee_percent(),
            fee_cover_fixed_minor=self._fee_fixed(code, locale),
        )
        display = self.read_display_settings(
            currency=code,
            locale=locale,
            presets_minor=settings.presets_minor,
            minimum_minor=settings.minimum_minor,
            maximum_minor=settings.maximum_minor,
        )
        if not fields_valid or display is None or any(field.errors for field in self):
            self._add_rule_errors(settings)
            return False
        self._settings, self._display = settings, display
        return True

    def _fee_percent(self) -> int:
        """The fee percentage as basis points; empty is 0, a bad entry says why beside it."""
        text = (self.fee_percent.data or "").strip()
        if not text:
            return 0
        try:
            return fee_cover.parse_percent(text)
        except ValueError as error:
            self.fee_percent.errors.append(str(error))
            return 0

    def _fee_fixed(self, code: str, locale: str) -> int:
        """The fixed fee in minor units; empty or zero ("0", "0,00") is none."""
        if re.fullmatch(r"\s*0*(?:[.,]0*)?\s*", self.fee_fixed.data or ""):
            return 0
        return read_amount(self.fee_fixed, code, locale) or 0

    # Rules about a field that also read these: skipped when those could not be read, since the
    # value in their place is a stand-in and the message would be wrong.
    _RULE_READS = {
        "milestones_minor": ("target",),
        "maximum_minor": ("minimum",),
        "presets_minor": ("minimum", "maximum"),
        "ends_at": ("starts_at",),
    }

    def _add_rule_errors(self, settings: GoalSettings) -> None:
        """With some fields unreadable, still report what the others break, all in one round."""
        goal_id = self.goal.id if self.goal is not None else None
        for rule, message in goal_rule_errors(
            settings, goal_id=goal_id, locale=self.site.default_locale
        ).items():
            field = getattr(self, self.FIELD_FOR_RULE.get(rule, rule), None)
            unread = [getattr(self, name).errors for name in self._RULE_READS.get(rule, ())]
            if field is None or field.errors or any(unread):
                continue
            field.errors.append(message)

    def settings(self) -> GoalSettings:
        """The checked settings, for donate.goals to apply its shared rules to."""
        assert self._settings is not None, "validate() first"
        return self._settings

    def display_settings(self) -> WidgetSettings:
        """The checked widget display settings, to save on the goal."""
        assert self._display is not None, "validate() first"
        return self._display


class GoalStatusForm(FlaskForm):
    status = SelectField("Status", choices=STATUS_CHOICES)


# --- donations --------------------------------------------------------------------------------


class DonationFilterForm(FlaskForm):
    """The list's filters, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    goal = SelectField("Goal", validators=[Optional()])
    state = SelectField(
        "State",
        choices=[SelectChoice("", "Any state")]
        + [SelectChoice(s.value, s.value.title()) for s in DonationState],
        validators=[Optional()],
    )
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "Any kind")]
        + [SelectChoice(k.value, k.value.replace("_", "-").title()) for k in DonationKind],
        validators=[Optional()],
    )
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])
    q = StringField("Donor name or e-mail", validators=[Optional(), Length(max=200)])

    def __init__(self, *args: Any, goals: list[Goal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.goal.choices = [SelectChoice("", "All goals")] + [
            SelectChoice(str(g.id), g.title) for g in goals
        ]

    def validate_start(self, field: DateField) -> None:
        _check_filter_day(field)

    def validate_end(self, field: DateField) -> None:
        _check_filter_day(field)
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError("The end date comes before the start date.")

    @property
    def goal_id(self) -> int | None:
        return money.whole_number(self.goal.data or "")


class RefundForm(FlaskForm):
    amount = StringField("Amount", description="Leave empty to refund everything that remains.")
    reason = SelectField("Reason", choices=_options(REFUND_REASONS))
    # Chosen when the form is shown, so a double submit sends Stripe the same idempotency key.
    request_key = HiddenField(validators=[DataRequired()])

    def __init__(
        self, *args: Any, currency: str, locale: str, refundable_minor: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.currency, self.locale, self.refundable_minor = currency, locale, refundable_minor
        self.amount_minor: int | None = None

    def validate_request_key(self, field: HiddenField) -> None:
        if not _REQUEST_KEY.match(field.data or ""):
            raise ValidationError("The form has expired; open the donation again.")

    def validate_amount(self, field: StringField) -> None:
        shown = money.format_amount(self.refundable_minor, self.currency, self.locale)
        if self.refundable_minor <= 0:
            raise ValidationError("Nothing is left to refund on this donation.")
        amount = read_amount(field, self.currency, self.locale)
        if field.errors:
            return
        amount = self.refundable_minor if amount is None else amount
        if amount > self.refundable_minor:
            raise ValidationError(f"At most {shown} can be refunded.")
        if amount % money.get_currency(self.currency).step:
            raise ValidationError(f"{self.currency} refunds must be whole steps of the currency.")
        self.amount_minor = amount


class CheckRefundsForm(FlaskForm):
    """Only its CSRF token: asks Stripe what became of unanswered refund requests."""


class OfflineGiftForm(FlaskForm):
    goal = SelectField("Goal")
    amount = StringField("Amount", validators=[DataRequired("Enter the amount received.")])
    method = SelectField("Received as", choices=_options(OFFLINE_METHODS))
    received_on = DateField("Received on", validators=[InputRequired("Enter the date.")])
    donor_name = StringField("Donor's name", validators=[Optional(), Length(max=120)])
    donor_email = StringField("Donor's e-mail", validators=[Optional()])
    public_message = TextAreaField("Public message", validators=[Optional(), Length(max=1000)])
    anonymous = BooleanField("Show the gift as anonymous")
    note = TextAreaField("Private note", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args: Any, site: Site, goals: list[Goal], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        self.goals = {str(goal.id): goal for goal in goals}
        self.goal.choices = [SelectChoice(str(g.id), f"{g.title} ({g.currency})") for g in goals]
        self.amount_minor: int | None = None

    @property
    def chosen_goal(self) -> Goal:
        return self.goals[self.goal.data]

    def validate_donor_email(self, field: StringField) -> None:
        if not (field.data or "").strip():
            field.data = None
            return
        try:
            field.data = normalise_email(field.data)
        except AccountError as error:
            raise ValidationError(str(error)) from None

    def validate_received_on(self, field: DateField) -> None:
        if field.data and field.data < EARLIEST_DAY:
            raise ValidationError(
                f"The date cannot be before {_spelled(EARLIEST_DAY)}; check the year."
            )
        if field.data and field.data > local_time.today(self.site.time_zone):
            raise ValidationError("The date cannot be in the future.")

    def validate_amount(self, field: StringField) -> None:
        goal = self.goals.get(self.goal.data or "")
        if goal is None:
            return
        amount = read_amount(field, goal.currency, self.site.default_locale)
        if amount is not None:
            self.amount_minor = amount


class CorrectGiftForm(FlaskForm):
    amount = StringField("Correct amount", validators=[DataRequired("Enter the correct amount.")])
    reason = StringField(
        "Why", validators=[DataRequired("Say why the amount changes."), Length(max=500)]
    )

    def __init__(self, *args: Any, currency: str, locale: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency, self.locale = currency, locale
        self.amount_minor: int | None = None

    def validate_amount(self, field: StringField) -> None:
        self.amount_minor = read_amount(field, self.currency, self.locale)


class VoidGiftForm(FlaskForm):
    reason = StringField(
        "Why", validators=[DataRequired("Say why the gift is voided."), Length(max=500)]
    )


class MessageVisibilityForm(FlaskForm):
    visibility = HiddenField(validators=[DataRequired()])

    def validate_visibility(self, field: HiddenField) -> None:
        if field.data not in ("hidden", "shown"):
            raise ValidationError("Choose to hide or show the message.")

    @property
    def hidden(self) -> bool:
        return self.visibility.data == "hidden"


class EraseDonorForm(FlaskForm):
    confirm = BooleanField(
        "I understand that the donor's name, e-mail and messages are removed for good",
        validators=[DataRequired("Tick the box to confirm the erasure.")],
    )
