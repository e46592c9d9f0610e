"""Refunds and disputes: what comes off a gift, and refund requests that reserve it first.

A dashboard refund is a row before it is a Stripe request: the row (state `requested`) reserves
its amount and carries the request's idempotency key, so however often the form is sent or
reloaded, the same money is never asked for twice. Stripe's answer, or Stripe's event, whichever
comes first, moves that same row on.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from donate.extensions import db, insert_ignoring_duplicates
from donate.ledger.errors import LedgerError, NothingLeftToRefund
from donate.ledger.matching import follow_gift
from donate.ledger.store import Deduction, apply_deduction, fresh, lock_donation, move_state
from donate.ledger.transitions import (
    DISPUTE_MOVES,
    DISPUTE_TAKES_OFF,
    REFUND_MOVES,
    REFUND_RESERVES,
    REFUND_TAKES_OFF,
)
from donate.models import (
    Dispute,
    DisputeStatus,
    Donation,
    DonationKind,
    DonationState,
    Refund,
    RefundStatus,
    utcnow,
)
from donate.receipts.numbers import queue_refund_notice

REFUNDS = Deduction(
    model=Refund,
    donation_column="refunded_minor",
    moves=REFUND_MOVES,
    takes_off=REFUND_TAKES_OFF,
    action="refund",
    amount_follows_report=False,
    on_taken_off=queue_refund_notice,
)
DISPUTES = Deduction(
    model=Dispute,
    donation_column="disputed_minor",
    moves=DISPUTE_MOVES,
    takes_off=DISPUTE_TAKES_OFF,
    action="dispute",
    amount_follows_report=True,
)
_REFUNDABLE_KINDS = (DonationKind.ONE_TIME, DonationKind.MONTHLY)


def _row_for_stripe_id(
    kind: Deduction,
    stripe_column: str,
    donation: Donation,
    stripe_id: str,
    amount_minor: int,
    status: RefundStatus | DisputeStatus,
    cause: str,
    reason: str | None,
) -> int:
    """The row for a Stripe id, created in its reported status (counting nothing yet) if new."""
    insert_ignoring_duplicates(
        kind.model.__table__,
        {
            stripe_column: stripe_id,
            "donation_id": donation.id,
            "amount_minor": amount_minor,
            "currency": donation.currency,
            "status": status.value,
            "counted_minor": 0,
            "reason": reason,
            "created_at": utcnow(),
            "updated_at": utcnow(),
            "last_cause": cause,
        },
    )
    row_id: int = db.session.execute(
        sa.select(kind.model.id).where(getattr(kind.model, stripe_column) == stripe_id)
    ).scalar_one()
    return row_id


def _check_amount(kind: Deduction, amount_minor: int) -> None:
    if amount_minor <= 0:
        raise LedgerError(f"A {kind.action} must be more than zero.")


def record_refund(
    donation: Donation,
    *,
    stripe_refund_id: str | None,
    amount_minor: int,
    status: RefundStatus | str,
    cause: str,
    reason: str | None = None,
    request_id: int | None = None,
) -> Refund:
    """Create or advance a refund; a succeeded one comes off, a failed one puts it back.

    `request_id` is our row's id from the refund's metadata: the refund Stripe made for a
    dashboard request lands on that request's row, so it is never counted twice.
    """
    _check_amount(REFUNDS, amount_minor)
    reported = RefundStatus(status)
    row_id = _request_row(donation.id, request_id, stripe_refund_id)
    if row_id is None and stripe_refund_id is None:
        row = Refund(
            donation_id=donation.id,
            amount_minor=amount_minor,
            currency=donation.currency,
            status=reported,
            counted_minor=0,
            reason=reason,
            last_cause=cause,
        )
        db.session.add(row)
        db.session.flush()
        row_id = row.id
    elif row_id is None:
        assert stripe_refund_id is not None
        row_id = _row_for_stripe_id(
            REFUNDS,
            "stripe_refund_id",
            donation,
            stripe_refund_id,
            amount_minor,
            reported,
            cause,
            reason,
        )
    link = {"stripe_refund_id": stripe_refund_id} if stripe_refund_id else None
    refund = apply_deduction(
        REFUNDS, donation.id, row_id, reported=reported, amount_minor=None, cause=cause, link=link
    )
    follow_gift(donation.id, cause=cause)
    db.session.expire(donation)
    assert isinstance(refund, Refund)
    return refund


def _request_row(
    donation_id: int, request_id: int | None, stripe_refund_id: str | None
) -> int | None:
    """Our request's row for this refund: by the metadata id when it is still free, or None."""
    if request_id is None:
        return None
    row = db.session.get(Refund, request_id)
    if row is None or row.donation_id != donation_id:
        return None
    if row.stripe_refund_id not in (None, stripe_refund_id):
        return None
    if stripe_refund_id:
        holder = db.session.execute(
            sa.select(Refund.id).where(Refund.stripe_refund_id == stripe_refund_id)
        ).scalar_one_or_none()
        if holder is not None and holder != request_id:
            return None  # recorded already under its own row (no metadata at the time)
    return request_id


def record_dispute(
    donation: Donation,
    *,
    stripe_dispute_id: str,
    amount_minor: int,
    status: DisputeStatus | str,
    cause: str,
    reason: str | None = None,
) -> Dispute:
    """Create or advance a dispute; a lost one takes money off until it is won, on appeal too."""
    _check_amount(DISPUTES, amount_minor)
    reported = DisputeStatus(status)
    row_id = _row_for_stripe_id(
        DISPUTES,
        "stripe_dispute_id",
        donation,
        stripe_dispute_id,
        amount_minor,
        reported,
        cause,
        reason,
    )
    dispute = apply_deduction(
        DISPUTES, donation.id, row_id, reported=reported, amount_minor=amount_minor, cause=cause
    )
    follow_gift(donation.id, cause=cause)
    db.session.expire(donation)
    assert isinstance(dispute, Dispute)
    return dispute


# --- refund requests from the dashboard --------------------------------------------------------


def can_refund(donation: Donation) -> bool:
    """Whether the donation is a Stripe payment that counted."""
    return (
        donation.kind in _REFUNDABLE_KINDS
        and donation.state == DonationState.SUCCEEDED
        and bool(donation.stripe_payment_intent_id)
    )


def refundable_minor(donation: Donation) -> int:
    """What may still be refunded: the amount less refunds, lost disputes and reservations.

    A refund asked for and not yet decided (ours `requested`, Stripe's pending or
    requires_action) reserves its amount, so the same money is never offered twice.
    """
    if not can_refund(donation):
        return 0
    reserved = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(Refund.amount_minor - Refund.counted_minor), 0)
        ).where(Refund.donation_id == donation.id, Refund.status.in_(REFUND_RESERVES))
    ).scalar_one()
    return max(0, donation.kept_minor - int(reserved))


@dataclass(frozen=True)
class RefundRequest:
    """Our row for a dashboard refund: what to send Stripe, and whether this call opened it."""

    refund_id: int
    donation_id: int
    amount_minor: int
    status: RefundStatus
    stripe_refund_id: str | None
    opened: bool


def _as_request(row: Refund, *, opened: bool) -> RefundRequest:
    return RefundRequest(
        refund_id=row.id,
        donation_id=row.donation_id,
        amount_minor=row.amount_minor,
        status=row.status,
        stripe_refund_id=row.stripe_refund_id,
        opened=opened,
    )


def open_refund_request(
    donation_id: int,
    *,
    amount_minor: int | None,
    request_key: str,
    reason: str | None,
    cause: str,
) -> RefundRequest:
    """Reserve a refund's amount under its request key; the caller commits, then asks Stripe.

    The donation row is held from the check to the insert, so two requests take turns. A key
    seen before returns its row unchanged (`opened` False): the form was sent twice.
    """
    lock_donation(donation_id)
    existing = db.session.execute(
        sa.select(Refund)
        .where(Refund.request_key == request_key)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if existing is not None:
        if existing.donation_id != donation_id:
            raise LedgerError("This refund form belongs to another donation; reload the page.")
        return _as_request(existing, opened=False)
    donation = fresh(Donation, donation_id)
    if not can_refund(donation):
        raise LedgerError("Only a card payment that went through can be refunded here.")
    remaining = refundable_minor(donation)
    if remaining <= 0:
        raise NothingLeftToRefund("Nothing is left to refund on this donation.", remaining_minor=0)
    amount = remaining if amount_minor is None else amount_minor
    _check_amount(REFUNDS, amount)
    if amount > remaining:
        raise NothingLeftToRefund(
            "Less is left to refund: another refund was asked for in the meantime.",
            remaining_minor=remaining,
        )
    row = Refund(
        donation_id=donation_id,
        amount_minor=amount,
        currency=donation.currency,
        status=RefundStatus.REQUESTED,
        counted_minor=0,
        reason=reason,
        request_key=request_key,
        last_cause=cause,
    )
    db.session.add(row)
    db.session.flush()
    return _as_request(row, opened=True)


def record_refund_answer(
    refund_id: int, *, stripe_refund_id: str, status: RefundStatus, cause: str
) -> Refund:
    """Stripe accepted our request: link its refund to our row and move the row to its status."""
    row = fresh(Refund, refund_id, lock=False)
    donation = fresh(Donation, row.donation_id, lock=False)
    holder = _request_row(row.donation_id, refund_id, stripe_refund_id)
    if holder is None:
        # Stripe's event recorded this refund on a row of its own first: ours reserves nothing.
        refuse_refund_request(refund_id, cause=cause)
        return fresh(Refund, refund_id, lock=False)
    return record_refund(
        donation,
        stripe_refund_id=stripe_refund_id,
        amount_minor=row.amount_minor,
        status=status,
        cause=cause,
        request_id=refund_id,
    )


def refuse_refund_request(refund_id: int, *, cause: str) -> bool:
    """Stripe refused our request or has no record of it: release the reserved amount."""
    return move_state(
        Refund.status,
        refund_id,
        table=REFUND_MOVES,
        current=RefundStatus.REQUESTED,
        wanted=RefundStatus.REFUSED,
        values={"last_cause": cause, "updated_at": utcnow()},
    )


def open_requests(donation_id: int) -> list[Refund]:
    """Requests whose outcome we do not know yet (Stripe did not answer in time)."""
    return list(
        db.session.execute(
            sa.select(Refund)
            .where(Refund.donation_id == donation_id, Refund.status == RefundStatus.REQUESTED)
            .order_by(Refund.id)
        ).scalars()
    )
