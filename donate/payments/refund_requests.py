"""Refund requests outside database locks: reserve and commit, ask Stripe, record the answer.

No transaction is open while Stripe answers. An answer that never came (a timeout after Stripe
received the request) leaves the request `requested`, its amount reserved; it is settled by
listing the payment's refunds and matching our row's id in their metadata, never by asking again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from donate import ledger, money
from donate.extensions import db
from donate.ledger.transitions import parse_state
from donate.models import Donation, Refund, RefundStatus, utcnow
from donate.payments.events import METADATA_INSTANCE, METADATA_REFUND_ID
from donate.payments.stripe import PaymentProviderError, StripeGateway
from donate.payments.stripe_data import listed, mapping, text

# Longer than any request of ours can still be on its way to Stripe (three tries of 20 s): a
# request Stripe has no record of after this never reached it.
ANSWER_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class Answer:
    """What became of one request: Stripe's status, or REQUESTED while nobody knows."""

    refund_id: int
    status: RefundStatus
    stripe_refund_id: str | None = None
    refusal: str | None = None


def idempotency_key(donation_id: int, request_key: str) -> str:
    """The key Stripe sees for one dashboard request."""
    return f"refund-{donation_id}-{request_key}"


def ask_stripe(
    stripe: StripeGateway,
    request: ledger.RefundRequest,
    *,
    payment_intent: str,
    currency: str,
    request_key: str,
    reason: str,
    cause: str,
) -> Answer:
    """Send a committed request to Stripe, then record the answer in a short transaction.

    The caller must have committed the request and hold no transaction: nothing here touches
    the database until Stripe has answered.
    """
    try:
        refund = stripe.create_refund(
            payment_intent=payment_intent,
            amount_stripe=money.to_stripe_amount(request.amount_minor, currency),
            idempotency_key=idempotency_key(request.donation_id, request_key),
            reason=reason,
            refund_row_id=request.refund_id,
        )
    except PaymentProviderError as error:
        if error.retryable:
            # Timed out, cut off or a server error: Stripe may have refunded. The row stays
            # requested (reserved) until Stripe's event or a check says what happened.
            return Answer(request.refund_id, RefundStatus.REQUESTED)
        ledger.refuse_refund_request(request.refund_id, cause=cause)
        db.session.commit()
        detail = str(error).split(": ", 1)[-1]
        return Answer(request.refund_id, RefundStatus.REFUSED, refusal=detail)
    return _record(request.refund_id, refund, cause=cause)


def _record(refund_id: int, refund: dict[str, Any], *, cause: str) -> Answer:
    """Record Stripe's refund on our row, in its own transaction."""
    stripe_refund_id = text(refund, "id")
    if not stripe_refund_id:
        return Answer(refund_id, RefundStatus.REQUESTED)
    status = parse_state(RefundStatus, text(refund, "status")) or RefundStatus.PENDING
    if status in (RefundStatus.REQUESTED, RefundStatus.REFUSED):
        status = RefundStatus.PENDING  # our own states are never Stripe's answer
    row = ledger.record_refund_answer(
        refund_id, stripe_refund_id=stripe_refund_id, status=status, cause=cause
    )
    db.session.commit()
    return Answer(refund_id, row.status, stripe_refund_id=stripe_refund_id)


def _ours(refund: dict[str, Any], refund_id: int, namespace: str) -> bool:
    metadata = mapping(refund, "metadata")
    return text(metadata, METADATA_REFUND_ID) == str(refund_id) and (
        text(metadata, METADATA_INSTANCE) == namespace
    )


def settle_open_requests(
    stripe: StripeGateway, donation_id: int, *, cause: str, now: datetime | None = None
) -> list[Answer]:
    """Ask Stripe what became of a donation's unanswered requests, by listing its refunds.

    A refund carrying a request's id settles it; a request Stripe has no record of after
    ANSWER_GRACE is refused (the reserved amount is free again); a younger one keeps waiting.
    """
    now = now or utcnow()
    donation = db.session.get(Donation, donation_id)
    waiting = [(row.id, row.created_at) for row in ledger.open_requests(donation_id)]
    payment_intent = donation.stripe_payment_intent_id if donation else None
    db.session.rollback()  # end the read: no transaction while Stripe answers
    if not waiting or not payment_intent:
        return []
    refunds = listed(stripe.list_refunds(payment_intent=payment_intent), "data")
    answers = []
    for refund_id, created_at in waiting:
        found = next((r for r in refunds if _ours(r, refund_id, stripe.namespace)), None)
        if found is not None:
            answers.append(_record(refund_id, found, cause=cause))
        elif now - created_at >= ANSWER_GRACE:
            ledger.refuse_refund_request(refund_id, cause=cause)
            db.session.commit()
            answers.append(Answer(refund_id, RefundStatus.REFUSED, refusal="Stripe has no record"))
        else:
            answers.append(Answer(refund_id, RefundStatus.REQUESTED))
    return answers


def settle_every_open_request(stripe: StripeGateway, *, cause: str) -> list[Answer]:
    """Settle all unanswered requests (the reconcile command)."""
    donation_ids = db.session.execute(
        sa.select(Refund.donation_id)
        .where(Refund.status == RefundStatus.REQUESTED)
        .distinct()
        .order_by(Refund.donation_id)
    ).scalars()
    answers: list[Answer] = []
    for donation_id in list(donation_ids):
        answers.extend(settle_open_requests(stripe, donation_id, cause=cause))
    return answers
