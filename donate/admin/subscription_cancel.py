"""Cancelling a monthly gift from the dashboard: read and commit, ask Stripe with no lock held,
then record the request; the subscription itself changes only when Stripe's event arrives."""

from __future__ import annotations

from flask_login import current_user

from donate.admin import audit
from donate.admin.monthly_donors import CANCEL_ACTION, MonthlyDonor, subject_of
from donate.extensions import db
from donate.models import utcnow
from donate.payments.stripe import PaymentProviderError, gateway

WHEN = ("now", "period_end")


class CancelRefused(RuntimeError):
    """Nothing was cancelled; the message is for the dashboard user."""


def _stripe_reason(error: PaymentProviderError) -> str:
    """Stripe's own sentence, without the library's class name in front."""
    text = str(error)
    return text.split(": ", 1)[1] if ": " in text else text


def request_cancel(donor: MonthlyDonor, *, when: str) -> None:
    """Ask Stripe to end the gift now or at the end of the paid period, and log who asked."""
    if when not in WHEN:
        raise CancelRefused("Choose whether to cancel now or at the end of the period.")
    if donor.final:
        raise CancelRefused("This monthly gift has already ended; nothing changed.")
    if when == "period_end" and not donor.may_cancel_at_period_end:
        raise CancelRefused(
            "This monthly gift already ends, or was asked to end, at the end of its period; "
            "nothing changed."
        )
    subscription = donor.subscription
    stripe_id = subscription.stripe_subscription_id
    # The same row state gives the same key: a double submit changes Stripe once, and a
    # request after the donor resumed the gift is a new one.
    key = f"donate-cancel-{stripe_id}-{subscription.updated_at.isoformat()}"
    subject, actor = subject_of(subscription), audit.actor_of(current_user)
    asked_at = utcnow()
    db.session.commit()  # nothing stays open while Stripe answers
    stripe = gateway()
    try:
        if when == "now":
            answer = stripe.cancel_subscription(stripe_id)
        else:
            answer = stripe.cancel_subscription_at_period_end(stripe_id, idempotency_key=key)
    except PaymentProviderError as error:
        db.session.rollback()
        if error.retryable:
            raise CancelRefused(
                "Stripe did not answer, so the gift may or may not be cancelled; its status "
                "here follows Stripe's news. Try again in a moment if nothing changes."
            ) from error
        raise CancelRefused(
            f"Stripe refused to cancel this monthly gift: {_stripe_reason(error)} Nothing changed."
        ) from error
    audit.record(
        CANCEL_ACTION,
        subject,
        when=when,
        asked_at=asked_at.isoformat(),
        stripe_subscription_id=stripe_id,
        stripe_status=str(answer.get("status") or ""),
        cancel_at_period_end=bool(answer.get("cancel_at_period_end")),
        by=actor,
    )
    db.session.commit()
