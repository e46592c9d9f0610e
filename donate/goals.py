"""Sites and goals: the rules for creating and changing them, shared by CLI and dashboard."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from babel import Locale, UnknownLocaleError

from donate import fee_cover, money
from donate.extensions import db
from donate.models import Donation, Goal, GoalStatus, Site
from donate.origins import OriginError, normalise_origins
from donate.site_links import HomeUrlError, normalise_home_url
from donate.stored_exponents import record_currency

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")
COLOUR = re.compile(r"^#[0-9a-f]{6}$")
MAX_PRESETS = 6
# Years a start or deadline may fall in: a typo like 0202 is refused, not drawn or compared.
EARLIEST_DATE, LATEST_DATE = 2000, 2100
# Line breaks, tabs and other control characters: a name travels into mail headers and pages.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class SettingsError(ValueError):
    """Invalid settings, with one readable sentence per field so a form can show each beside it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


@dataclass
class SiteSettings:
    """What a site owner chooses for a site."""

    name: str
    allowed_origins: list[str] = field(default_factory=list)
    default_currency: str = "USD"
    default_locale: str = "en"
    time_zone: str = "UTC"
    brand_colour: str = "#1d4ed8"
    home_url: str = ""
    receipts_enabled: bool = False
    receipt_organisation: str = ""
    receipt_address: str = ""
    receipt_tax_note: str = ""


def _checked_receipt_settings(settings: SiteSettings, errors: dict[str, str]) -> dict[str, object]:
    """What receipts print about the organisation: its name on one line, address and note free."""
    organisation = settings.receipt_organisation.strip()
    if len(organisation) > 200 or CONTROL.search(organisation):
        errors["receipt_organisation"] = (
            "Keep the organisation's name on one line, in 200 characters."
        )
    address = "\n".join(line.strip() for line in settings.receipt_address.strip().splitlines())
    if len(address) > 1000:
        errors["receipt_address"] = "Keep the address under 1,000 characters."
    tax_note = settings.receipt_tax_note.strip().replace("\r\n", "\n")
    if len(tax_note) > 2000:
        errors["receipt_tax_note"] = "Keep the tax note under 2,000 characters."
    return {
        "receipts_enabled": bool(settings.receipts_enabled),
        "receipt_organisation": organisation,
        "receipt_address": address,
        "receipt_tax_note": tax_note,
    }


def _checked_site(settings: SiteSettings) -> dict[str, object]:
    errors: dict[str, str] = {}
    values: dict[str, object] = {"name": settings.name.strip()}
    if not values["name"]:
        errors["name"] = "Give the site a name."
    elif CONTROL.search(str(values["name"])):
        errors["name"] = "Keep the site's name on one line, without tabs or control characters."
    try:
        values["allowed_origins"] = normalise_origins(settings.allowed_origins)
    except OriginError as error:
        errors["allowed_origins"] = str(error)
    try:
        values["default_currency"] = money.get_currency(settings.default_currency).code
    except ValueError as error:
        errors["default_currency"] = str(error)
    try:
        values["default_locale"] = str(Locale.parse(settings.default_locale.replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        errors["default_locale"] = f"{settings.default_locale!s} is not a locale we know."
    try:
        ZoneInfo(settings.time_zone)
        values["time_zone"] = settings.time_zone
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = f"{settings.time_zone!s} is not a time zone; try Europe/Paris or UTC."
    colour = settings.brand_colour.strip().lower()
    if not COLOUR.match(colour):
        errors["brand_colour"] = "The brand colour must look like #1d4ed8."
    values["brand_colour"] = colour
    try:
        values["home_url"] = normalise_home_url(settings.home_url)
    except HomeUrlError as error:
        errors["home_url"] = str(error)
    values.update(_checked_receipt_settings(settings, errors))
    if errors:
        raise SettingsError(errors)
    return values


def create_site(settings: SiteSettings) -> Site:
    """Create a site after checking every setting."""
    site = Site(**_checked_site(settings))
    db.session.add(site)
    db.session.flush()
    return site


@dataclass
class GoalSettings:
    """What a site owner chooses for a goal; amounts already in minor units of `currency`."""

    slug: str
    title: str
    currency: str
    target_minor: int
    presets_minor: list[int] = field(default_factory=list)
    minimum_minor: int | None = None
    maximum_minor: int | None = None
    monthly_enabled: bool = False
    description: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    milestones_minor: list[int] = field(default_factory=list)
    status: GoalStatus = GoalStatus.ACTIVE
    fee_cover_enabled: bool = False
    fee_cover_basis_points: int = 0
    fee_cover_fixed_minor: int = 0


def _checked_goal(settings: GoalSettings, *, goal_id: int | None, locale: str) -> dict[str, object]:
    """Check a goal's settings against each other and the currency's rules."""
    errors: dict[str, str] = {}
    slug = settings.slug.strip().lower()
    if not SLUG.match(slug):
        errors["slug"] = "Use lower-case letters, digits and dashes for the slug (at most 80)."
    elif db.session.execute(
        sa.select(Goal.id).where(Goal.slug == slug, Goal.id != (goal_id or 0))
    ).first():
        errors["slug"] = f"The slug {slug} is taken; choose another."
    title = settings.title.strip()
    if not title:
        errors["title"] = "Give the goal a title."
    elif len(title) > 200:
        errors["title"] = "Keep the title under 200 characters."
    elif CONTROL.search(title):
        errors["title"] = "Keep the title on one line, without tabs or control characters."
    try:
        currency = money.get_currency(settings.currency)
    except ValueError as error:
        raise SettingsError({"currency": str(error)}) from None
    code = currency.code

    def describe(amount: int) -> str:
        return money.format_amount(amount, code, locale)

    minimum = settings.minimum_minor or currency.minimum_minor or 0
    if currency.minimum_minor is None and not minimum:
        # Stripe's floor for this currency is the account's settlement minimum after
        # conversion, which only the site owner can know; one major unit would be a guess.
        errors["minimum_minor"] = (
            f"Stripe publishes no minimum charge for {code}; "
            f"set the minimum gift your Stripe account accepts."
        )
    elif minimum < (currency.minimum_minor or 0):
        errors["minimum_minor"] = (
            f"The minimum gift cannot be below Stripe's minimum charge, "
            f"{describe(currency.minimum_minor or 0)}."
        )
    elif minimum % currency.step:
        errors["minimum_minor"] = f"The minimum must be a multiple of {describe(currency.step)}."
    maximum = settings.maximum_minor
    if maximum is not None and maximum < minimum:
        errors["maximum_minor"] = "The maximum gift must be at least the minimum."
    elif maximum is not None and maximum > currency.maximum_minor:
        # Targets and milestones may be larger: only one charge is bound by Stripe's limit.
        errors["maximum_minor"] = (
            f"The maximum gift cannot be above the largest amount Stripe takes in one "
            f"payment, {describe(currency.maximum_minor)}."
        )
    if settings.target_minor <= 0:
        errors["target_minor"] = "The target must be more than zero."
    presets = list(settings.presets_minor)
    if len(presets) > MAX_PRESETS:
        errors["presets_minor"] = f"Offer at most {MAX_PRESETS} preset amounts."
    for preset in presets:
        try:
            money.validate_amount(
                preset, code, minimum_minor=minimum, maximum_minor=maximum, locale=locale
            )
        except money.AmountError as error:
            errors["presets_minor"] = f"Preset {describe(preset)}: {error}"
            break
    if len(set(presets)) != len(presets):
        errors["presets_minor"] = "Each preset amount should appear once."
    milestones = sorted(settings.milestones_minor)
    if any(m <= 0 or m > settings.target_minor for m in milestones):
        errors["milestones_minor"] = "Milestones must lie between zero and the target."
    if settings.starts_at and settings.ends_at and settings.ends_at <= settings.starts_at:
        errors["ends_at"] = "The deadline must come after the start."
    for name in ("starts_at", "ends_at"):
        moment = getattr(settings, name)
        if moment is not None and moment.tzinfo is None:
            errors[name] = "Give dates with their time zone."
        elif moment is not None and not (EARLIEST_DATE <= moment.year <= LATEST_DATE):
            errors[name] = f"Choose a date between {EARLIEST_DATE} and {LATEST_DATE}."
    errors.update(
        fee_cover.rule_errors(
            enabled=settings.fee_cover_enabled,
            basis_points=settings.fee_cover_basis_points,
            fixed_minor=settings.fee_cover_fixed_minor,
            currency=code,
        )
    )
    if errors:
        raise SettingsError(errors)
    return {
        "slug": slug,
        "title": title,
        "description": settings.description.strip(),
        "currency": code,
        "target_minor": settings.target_minor,
        "presets_minor": sorted(presets),
        "minimum_minor": minimum,
        "maximum_minor": maximum,
        "monthly_enabled": settings.monthly_enabled,
        "starts_at": settings.starts_at,
        "ends_at": settings.ends_at,
        "milestones_minor": milestones,
        "status": GoalStatus(settings.status),
        "fee_cover_enabled": settings.fee_cover_enabled,
        "fee_cover_basis_points": settings.fee_cover_basis_points,
        "fee_cover_fixed_minor": settings.fee_cover_fixed_minor,
    }


def create_goal(site: Site, settings: GoalSettings) -> Goal:
    """Create a goal on a site after checking its settings."""
    goal = Goal(
        site_id=site.id, **_checked_goal(settings, goal_id=None, locale=site.default_locale)
    )
    db.session.add(goal)
    db.session.flush()
    record_currency(goal.currency)
    return goal


def update_goal(goal: Goal, settings: GoalSettings) -> Goal:
    """Change a goal's settings; its currency is locked once a gift has been recorded."""
    values = _checked_goal(settings, goal_id=goal.id, locale=goal.site.default_locale)
    if values["currency"] != goal.currency and has_gifts(goal):
        raise SettingsError(
            {"currency": f"The currency stays {goal.currency}: this goal has received gifts."}
        )
    for name, value in values.items():
        setattr(goal, name, value)
    db.session.flush()
    record_currency(goal.currency)
    return goal


def has_gifts(goal: Goal) -> bool:
    """Whether any donation, in any state, names this goal."""
    return (
        db.session.execute(
            sa.select(Donation.id).where(Donation.goal_id == goal.id).limit(1)
        ).first()
        is not None
    )


def update_site(site: Site, settings: SiteSettings) -> Site:
    """Change a site's settings after checking every one, as create_site does."""
    for name, value in _checked_site(settings).items():
        setattr(site, name, value)
    db.session.flush()
    return site


def goal_rule_errors(settings: GoalSettings, *, goal_id: int | None, locale: str) -> dict[str, str]:
    """Every rule the settings break, without saving: forms report them all in one round."""
    try:
        _checked_goal(settings, goal_id=goal_id, locale=locale)
    except SettingsError as error:
        return error.errors
    return {}
