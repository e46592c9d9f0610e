"""Asking Stripe for a refund; the total changes when Stripe's refund event reaches the webhook."""

from __future__ import annotations

import secrets

import sqlalchemy as sa

from donate import money
from donate.admin import audit
from donate.extensions import db
from donate.models import Donation, DonationKind, DonationState, Refund, RefundStatus
from donate.payments.stripe import PaymentProviderError, gateway

_REFUNDABLE_KINDS = (DonationKind.ONE_TIME, DonationKind.MONTHLY)


class RefundRefused(RuntimeError):
    """Stripe would not take the refund; the message is for the dashboard user."""


def new_request_key() -> str:
    """A key chosen when the form is shown: a double submit reuses it, Stripe refunds once."""
    return secrets.token_urlsafe(18)


def can_refund(donation: Donation) -> bool:
    """Whether the donation is a Stripe payment that counted."""
    return (
        donation.kind in _REFUNDABLE_KINDS
        and donation.state == DonationState.SUCCEEDED
        and bool(donation.stripe_payment_intent_id)
    )


def refundable_minor(donation: Donation) -> int:
    """What remains: the net amount less refunds Stripe is still working on."""
    if not can_refund(donation):
        return 0
    in_flight = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_minor), 0)).where(
            Refund.donation_id == donation.id,
            Refund.status.in_((RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION)),
        )
    ).scalar_one()
    return max(0, donation.net_minor - int(in_flight))


def request_refund(donation: Donation, *, amount_minor: int, reason: str, request_key: str) -> str:
    """Send the refund to Stripe, idempotent on our ids; returns Stripe's refund id."""
    if not can_refund(donation):
        raise RefundRefused("Only a card payment that went through can be refunded here.")
    try:
        refund = gateway().create_refund(
            payment_intent=donation.stripe_payment_intent_id or "",
            amount_stripe=money.to_stripe_amount(amount_minor, donation.currency),
            idempotency_key=f"refund-{donation.id}-{request_key}",
            reason=reason,
        )
    except PaymentProviderError as error:
        if error.retryable:
            raise RefundRefused(
                "Stripe could not be reached, so nothing was refunded; try again in a moment."
            ) from error
        detail = str(error).split(": ", 1)[-1]
        raise RefundRefused(f"Stripe refused the refund: {detail}") from error
    refund_id = str(refund.get("id") or "")
    audit.record(
        "refund.request",
        f"donation:{donation.id}",
        amount_minor=amount_minor,
        currency=donation.currency,
        reason=reason,
        stripe_refund_id=refund_id,
        stripe_status=str(refund.get("status") or ""),
    )
    return refund_id
