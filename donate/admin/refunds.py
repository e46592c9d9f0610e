"""Asking Stripe for a refund, recorded at once; the total changes when the refund succeeds."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask_login import current_user

from donate import ledger, money
from donate.admin import audit
from donate.extensions import db, hold_row
from donate.models import Donation, DonationKind, DonationState, Refund, RefundStatus
from donate.payments.stripe import PaymentProviderError, gateway

_REFUNDABLE_KINDS = (DonationKind.ONE_TIME, DonationKind.MONTHLY)
# Refunds that have taken, or may still take, money off the gift.
_TAKEN = (RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED)
_KNOWN_STATUSES = frozenset(status.value for status in RefundStatus)


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
    """What remains: the amount less lost disputes and every refund asked for that may go through.

    A refund counts from the moment Stripe accepts the request (pending or requires_action), not
    only once it succeeds, so the page never offers the same money twice.
    """
    if not can_refund(donation):
        return 0
    asked = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_minor), 0)).where(
            Refund.donation_id == donation.id, Refund.status.in_(_TAKEN)
        )
    ).scalar_one()
    taken = max(donation.refunded_minor, int(asked)) + donation.disputed_minor
    return max(0, donation.amount_minor - taken)


def _hold(donation: Donation) -> None:
    """Lock the donation row until commit, so two refund requests for it take turns."""
    hold_row(Donation.refunded_minor, donation.id)
    db.session.expire(donation)


def _check_remaining(donation: Donation, amount_minor: int) -> None:
    """Refuse an amount that refunds already asked for (in this tab or another) have used up."""
    remaining = refundable_minor(donation)
    if remaining <= 0:
        raise RefundRefused("Nothing is left to refund on this donation.")
    if amount_minor > remaining:
        shown = money.format_amount(remaining, donation.currency, donation.goal.site.default_locale)
        raise RefundRefused(
            f"Only {shown} is left to refund: another refund was asked for in the meantime."
        )


def _ask_stripe(donation: Donation, amount_minor: int, reason: str, request_key: str) -> dict:
    """Send the refund to Stripe, idempotent on our ids; a refusal becomes a readable sentence."""
    try:
        return gateway().create_refund(
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


def request_refund(
    donation: Donation, *, amount_minor: int, reason: str, request_key: str
) -> RefundStatus:
    """Ask Stripe for a refund and record it at once; returns where Stripe says it stands.

    The donation stays locked from the check to the record, and the record shares Stripe's refund
    id with the webhook's, so a double submit or a second tab cannot refund the same money twice.
    """
    if not can_refund(donation):
        raise RefundRefused("Only a card payment that went through can be refunded here.")
    _hold(donation)
    _check_remaining(donation, amount_minor)
    refund = _ask_stripe(donation, amount_minor, reason, request_key)
    refund_id = str(refund.get("id") or "")
    status = str(refund.get("status") or "")
    known = RefundStatus(status) if status in _KNOWN_STATUSES else RefundStatus.PENDING
    if refund_id:
        ledger.record_refund(
            donation,
            stripe_refund_id=refund_id,
            amount_minor=amount_minor,
            status=known,
            cause=audit.actor_of(current_user),
            reason=reason,
        )
    audit.record(
        "refund.request",
        f"donation:{donation.id}",
        amount_minor=amount_minor,
        currency=donation.currency,
        reason=reason,
        stripe_refund_id=refund_id,
        stripe_status=status,
    )
    return known
