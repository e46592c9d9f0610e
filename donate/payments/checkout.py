"""Giving: check what a donor asked for, open a pending donation and a Stripe Checkout Session."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask_babel import force_locale, gettext

from donate import fee_cover, ledger, money
from donate.extensions import db
from donate.goal_view import PublicGoal
from donate.models import Donation, DonationKind, DonationState
from donate.origins import safe_page_url
from donate.payments.stripe import CheckoutRequest, PaymentProviderError, StripeGateway
from donate.widget.thank_you import sign_gift

log = logging.getLogger(__name__)
MAX_NAME = 120
MAX_MESSAGE = 1000
MAX_ARTICLE = 200
MAX_TYPED_AMOUNT = 40  # "1.000.000,00 €" and friends, with room to spare
MAX_PRESET_DIGITS = 18  # beyond any 64-bit minor-unit amount


class GiftError(ValueError):
    """What is wrong with a gift, in a sentence for the donor; `field` names the form field."""

    def __init__(self, message: str, field: str = "amount") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Gift:
    """A validated gift, ready to become a pending donation.

    `amount_minor` is the gift the donor chose; `fee_cover_minor` what they add to cover fees,
    computed here from the goal's saved rule (a client's figure is never read).
    """

    amount_minor: int
    monthly: bool
    public_name: str | None
    public_message: str | None
    anonymous: bool
    article_id: str | None
    locale: str
    fee_cover_minor: int = 0


def read_gift(public_goal: PublicGoal, form: dict[str, str], locale: str) -> Gift:
    """Check a gift against the goal: open, amount within its limits and rules, monthly allowed."""
    with force_locale(locale):
        return _read_gift(public_goal, form, locale)


def _read_gift(public_goal: PublicGoal, form: dict[str, str], locale: str) -> Gift:
    goal = public_goal.goal
    if not public_goal.accepting_gifts():
        reasons = {
            "paused": gettext("Giving to this fundraiser is paused for now."),
            "closed": gettext("This fundraiser is closed. Thank you to everyone who gave."),
            "ended": gettext("This fundraiser has ended. Thank you to everyone who gave."),
            "upcoming": gettext("This fundraiser has not started yet."),
        }
        raise GiftError(
            reasons.get(public_goal.phase(), gettext("This fundraiser is not taking gifts.")),
            field="goal",
        )
    amount_minor = _amount(form, goal.currency, locale)
    money.validate_amount(
        amount_minor,
        goal.currency,
        minimum_minor=goal.minimum_minor,
        maximum_minor=goal.maximum_minor,
        locale=locale,
    )
    frequency = (form.get("frequency") or "once").strip().lower()
    if frequency not in ("once", "monthly"):
        raise GiftError(gettext("Choose a one-time or a monthly gift."), field="frequency")
    if frequency == "monthly" and not goal.monthly_enabled:
        raise GiftError(gettext("This fundraiser takes one-time gifts only."), field="frequency")
    name = (form.get("name") or "").strip()
    message = (form.get("message") or "").strip()
    if len(name) > MAX_NAME:
        raise GiftError(
            gettext("Keep your name under %(count)s characters.", count=MAX_NAME), field="name"
        )
    if len(message) > MAX_MESSAGE:
        raise GiftError(
            gettext("Keep your message under %(count)s characters.", count=MAX_MESSAGE),
            field="message",
        )
    anonymous = (form.get("anonymous") or "").lower() in ("1", "on", "true", "yes")
    article = (form.get("article") or "").strip()[:MAX_ARTICLE] or None
    covers = (form.get("cover_fees") or "").lower() in ("1", "on", "true", "yes")
    return Gift(
        amount_minor=amount_minor,
        fee_cover_minor=fee_cover.fee_for(goal, amount_minor) if covers else 0,
        monthly=frequency == "monthly",
        public_name=None if anonymous else (name or None),
        public_message=message or None,
        anonymous=anonymous or not name,
        article_id=article,
        locale=locale,
    )


def _amount(form: dict[str, str], currency: str, locale: str) -> int:
    typed = (form.get("amount") or "").strip()
    preset = (form.get("amount_minor") or "").strip()
    # No gift needs more digits than these; longer input is refused before any number is built.
    if len(typed) > MAX_TYPED_AMOUNT or len(preset) > MAX_PRESET_DIGITS:
        raise GiftError(gettext("Choose one of the amounts or type your own."))
    if typed:
        return money.parse_amount(typed, currency, locale)
    if preset:
        amount_minor = money.whole_number(preset)
        if amount_minor is None:
            raise GiftError(gettext("Choose one of the amounts or type your own."))
        return amount_minor
    raise GiftError(gettext("Choose an amount or type your own."))


def fee_line_name(locale: str) -> str:
    """The name of the fee cover's line item on Stripe's page, in the donor's language."""
    with force_locale(locale):
        return gettext("Contribution to fees")


def allowed_source_url(source_url: str | None, allowed_origins: list[str]) -> str | None:
    """The article to return to, only when it is on one of the site's allowed origins."""
    return safe_page_url((source_url or "").split("#", 1)[0], allowed_origins)


def start_checkout(
    public_goal: PublicGoal,
    gift: Gift,
    *,
    source_url: str | None,
    public_url: str,
    stripe: StripeGateway,
) -> str:
    """Open a pending donation and its Checkout Session; return the URL to send the donor to.

    The donation is committed before Stripe is called, so a session always has its donation;
    if Stripe fails, the donation is marked failed and nothing is counted.
    """
    goal = public_goal.goal
    donation = ledger.create_pending_donation(
        goal,
        amount_minor=gift.amount_minor + gift.fee_cover_minor,
        fee_cover_minor=gift.fee_cover_minor,
        kind=DonationKind.MONTHLY if gift.monthly else DonationKind.ONE_TIME,
        public_name=gift.public_name,
        public_message=gift.public_message,
        anonymous=gift.anonymous,
        source_url=source_url,
        article_id=gift.article_id,
        locale=gift.locale,
        cause="give",
    )
    db.session.commit()
    back = cancel_url(source_url, public_url, goal.slug)
    request = CheckoutRequest(
        donation_id=donation.id,
        goal_slug=goal.slug,
        goal_title=goal.title,
        amount_minor=gift.amount_minor,
        fee_cover_minor=gift.fee_cover_minor,
        fee_cover_label=fee_line_name(gift.locale),
        currency=goal.currency,
        monthly=gift.monthly,
        success_url=f"{public_url}/give/return?session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=back,
        locale=gift.locale,
        source_url=source_url,
    )
    try:
        session = stripe.create_checkout_session(request)
    except PaymentProviderError:
        ledger.close_pending_donation(donation.id, DonationState.FAILED, cause="give:stripe-error")
        db.session.commit()
        raise
    ledger.link_stripe_ids(donation.id, stripe_checkout_session_id=session.get("id"))
    db.session.commit()
    url = session.get("url")
    if not isinstance(url, str) or not url:
        raise PaymentProviderError(
            "Stripe returned a session without a URL.",
            user_message="Our payment provider did not open a payment page. Please try again.",
            retryable=True,
        )
    return url


def cancel_url(source_url: str | None, public_url: str, slug: str) -> str:
    """Back to the widget in the article (the loader scrolls to it), or to the goal page."""
    if source_url:
        return f"{source_url}#donate-cancel={quote(slug, safe='')}"
    return f"{public_url}/g/{quote(slug, safe='')}"


def thanks_url(donation: Donation, public_url: str, slug: str) -> str:
    """Back to the article with the thank-you state, or to the goal page's thank-you.

    The article's fragment carries a short-lived token for this gift: the loader hands it to
    the frame, which shows the donor's amount without making its cached URL personal.
    """
    if donation.source_url:
        token = sign_gift(donation)
        return f"{donation.source_url}#donate-thanks={quote(slug, safe='')}&t={token}"
    return f"{public_url}/g/{slug}?{urlencode({'thanks': '1'})}"
