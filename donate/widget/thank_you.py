"""The widget's thank-you: a short-lived signed token naming one gift, and what it may reveal.

The frame is public and cached, so it cannot know who just gave. The return from Checkout
carries a token (signed with SECRET_KEY under its own salt) in the article URL's fragment; the
frame trades it for this gift's amount and state, and the goal's bar, never for donor data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext
from itsdangerous import BadData, URLSafeTimedSerializer

from donate import money
from donate.models import Donation, DonationKind, DonationState, Goal
from donate.widget.settings import WidgetSettings

SALT = "donate.widget.thank-you"
# Long enough for a monthly donor to read their thank-you page and click back to the article.
MAX_AGE_SECONDS = 30 * 60


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def sign_gift(donation: Donation) -> str:
    """A token for this donation of this goal, URL-safe, readable for MAX_AGE_SECONDS."""
    return _serializer().dumps([donation.id, donation.goal_id])


def read_gift(token: str, goal_id: int, *, max_age: int = MAX_AGE_SECONDS) -> int | None:
    """The donation id a token names for this goal; None when forged, expired or another goal's."""
    if not token or len(token) > 200:
        return None
    try:
        payload = _serializer().loads(token, max_age=max_age)
    except BadData:
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not all(type(part) is int for part in payload)
        or payload[1] != goal_id
    ):
        return None
    return int(payload[0])


@dataclass(frozen=True)
class GiftState:
    """One gift as its donor's thank-you shows it: amount, whether it counts yet, the goal's bar."""

    state: str  # "counted", "confirming" or "failed"
    monthly: bool
    amount: str | None
    raised: str
    # None where the owner hides the percentage (always, or while the goal is small).
    percent_text: str | None
    bar: float
    gift_bar: float
    value_text: str

    def as_json(self) -> dict[str, Any]:
        """The endpoint's answer: this gift and the goal's public figures, nothing about a donor."""
        return {
            "state": self.state,
            "monthly": self.monthly,
            "amount": self.amount,
            "raised": self.raised,
            "percent_text": self.percent_text,
            "bar": self.bar,
            "gift_bar": self.gift_bar,
            "value_text": self.value_text,
        }


def _bar_share(amount_minor: int, target_minor: int) -> float:
    """Where an amount reaches on the bar, in percent of its width, capped at the end."""
    if target_minor <= 0:
        return 100.0
    return round(min(100.0, max(0, amount_minor) * 100 / target_minor), 2)


def describe_gift(donation: Donation, goal: Goal, locale: str) -> GiftState:
    """A paid gift counts; a bank debit still processing or a first monthly instalment not yet
    paid is being confirmed (the bar does not count it); anything else failed (say nothing)."""
    if donation.state == DonationState.SUCCEEDED:
        state = "counted"
    elif donation.state == DonationState.PENDING:
        state = "confirming"
    else:
        state = "failed"
    raised = goal.raised_minor
    counted = donation.net_minor if state == "counted" else 0
    bar = _bar_share(raised, goal.target_minor)
    before = _bar_share(raised - counted, goal.target_minor)
    with force_locale(locale):
        raised_text = money.format_amount(raised, goal.currency, locale, compact=True)
        target_text = money.format_amount(goal.target_minor, goal.currency, locale, compact=True)
        summary = gettext("%(raised)s raised of %(target)s", raised=raised_text, target=target_text)
        settings = WidgetSettings.from_goal(goal)
        if settings.show_percent and settings.figures_shown(goal.percent):
            percent_text: str | None = money.format_progress(raised, goal.target_minor, locale)
            value_text = gettext("%(summary)s, %(percent)s", summary=summary, percent=percent_text)
        else:
            percent_text, value_text = None, summary
    return GiftState(
        state=state,
        monthly=donation.kind == DonationKind.MONTHLY or donation.subscription_id is not None,
        amount=(
            None
            if state == "failed"
            else money.format_amount(donation.amount_minor, donation.currency, locale)
        ),
        raised=raised_text,
        percent_text=percent_text,
        bar=bar,
        gift_bar=round(bar - before, 2),
        value_text=value_text,
    )
