"""Dashboard refunds: reserve the amount and commit, ask Stripe with no lock held, say what
happened; and ask Stripe what became of a request whose answer never came."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask_login import current_user

from donate import ledger, money
from donate.admin import audit
from donate.extensions import db
from donate.models import Donation, Refund, RefundStatus
from donate.payments import refund_requests
from donate.payments.stripe import PaymentProviderError, gateway

can_refund = ledger.can_refund
refundable_minor = ledger.refundable_minor


class RefundRefused(RuntimeError):
    """The refund was not made; the message is for the dashboard user."""


@dataclass(frozen=True)
class RefundNews:
    """Where a request stands after the form was sent, for the message shown."""

    status: RefundStatus
    amount_minor: int
    repeated: bool = False


def new_request_key() -> str:
    """A key chosen when the form is shown: a double submit reuses it, Stripe refunds once."""
    return secrets.token_urlsafe(18)


def earlier_request(donation: Donation, request_key: str) -> Refund | None:
    """The request this form already made (a double click or a reload of the answer)."""
    return db.session.execute(
        sa.select(Refund).where(
            Refund.donation_id == donation.id, Refund.request_key == request_key
        )
    ).scalar_one_or_none()


def request_refund(
    donation: Donation, *, amount_minor: int | None, reason: str, request_key: str
) -> RefundNews:
    """Reserve the refund in our ledger and commit, then ask Stripe and record its answer.

    No database lock is held while Stripe answers. The same key never makes a second request.
    """
    if not ledger.can_refund(donation):
        raise RefundRefused("Only a card payment that went through can be refunded here.")
    actor = audit.actor_of(current_user)
    donation_id, currency = donation.id, donation.currency
    payment_intent = donation.stripe_payment_intent_id or ""
    locale = donation.goal.site.default_locale
    try:
        request = ledger.open_refund_request(
            donation_id,
            amount_minor=amount_minor,
            request_key=request_key,
            reason=reason,
            cause=actor,
        )
    except ledger.NothingLeftToRefund as problem:
        db.session.rollback()
        if problem.remaining_minor <= 0:
            raise RefundRefused(str(problem)) from problem
        shown = money.format_amount(problem.remaining_minor, currency, locale)
        raise RefundRefused(
            f"Only {shown} is left to refund: another refund was asked for in the meantime."
        ) from problem
    except ledger.LedgerError as problem:
        db.session.rollback()
        raise RefundRefused(str(problem)) from problem
    if not request.opened:
        db.session.rollback()
        return RefundNews(request.status, request.amount_minor, repeated=True)
    audit.record(
        "refund.request",
        f"donation:{donation_id}",
        amount_minor=request.amount_minor,
        currency=currency,
        reason=reason,
        refund_id=request.refund_id,
    )
    db.session.commit()
    answer = refund_requests.ask_stripe(
        gateway(),
        request,
        payment_intent=payment_intent,
        currency=currency,
        request_key=request_key,
        reason=reason,
        cause=actor,
    )
    audit.record(
        "refund.answer",
        f"donation:{donation_id}",
        refund_id=request.refund_id,
        stripe_refund_id=answer.stripe_refund_id or "",
        stripe_status=answer.status.value,
    )
    db.session.commit()
    if answer.refusal is not None:
        raise RefundRefused(f"Stripe refused the refund: {answer.refusal}")
    return RefundNews(answer.status, request.amount_minor)


def check_with_stripe(donation: Donation) -> list[refund_requests.Answer]:
    """Settle the donation's unanswered requests from Stripe's list of its refunds."""
    actor = audit.actor_of(current_user)
    donation_id = donation.id
    try:
        answers = refund_requests.settle_open_requests(gateway(), donation_id, cause=actor)
    except PaymentProviderError as error:
        raise RefundRefused(
            "Stripe could not be reached; nothing changed. Try again in a moment."
        ) from error
    if answers:
        audit.record(
            "refund.check",
            f"donation:{donation_id}",
            outcomes={str(answer.refund_id): answer.status.value for answer in answers},
        )
        db.session.commit()
    return answers
