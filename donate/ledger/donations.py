"""Donations: open, settle, close, record offline gifts and instalments, void and correct."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa

from donate.extensions import db, insert_ignoring_duplicates
from donate.ledger.errors import LedgerError
from donate.ledger.matching import match_gift
from donate.ledger.store import change_totals, fresh, lock_goal, move_state
from donate.ledger.transitions import DONATION_MOVES
from donate.models import (
    Donation,
    DonationKind,
    DonationState,
    Goal,
    GoalDonor,
    utcnow,
)
from donate.receipts.numbers import number_counted_gift


def donor_key_for(*, email: str | None, customer_id: str | None, donation_id: int) -> str:
    """Identify a distinct donor without keeping anything that erasure would have to remove."""
    if email and email.strip():
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]
        return f"email:{digest}"
    if customer_id:
        return f"customer:{customer_id}"
    return f"donation:{donation_id}"


def create_pending_donation(
    goal: Goal,
    *,
    amount_minor: int,
    kind: DonationKind,
    fee_cover_minor: int = 0,
    donor_email: str | None = None,
    public_name: str | None = None,
    public_message: str | None = None,
    anonymous: bool = False,
    source_url: str | None = None,
    article_id: str | None = None,
    locale: str | None = None,
    cause: str,
) -> Donation:
    """Open a pending donation before a payment; totals do not move until it settles."""
    if kind not in (DonationKind.ONE_TIME, DonationKind.MONTHLY):
        raise LedgerError("Only one-time and monthly gifts wait for a payment.")
    if amount_minor <= 0:
        raise LedgerError("A gift must be more than zero.")
    if not 0 <= fee_cover_minor < amount_minor:
        raise LedgerError("The fee cover must be part of the gift, and less than all of it.")
    donation = Donation(
        goal_id=goal.id,
        amount_minor=amount_minor,
        fee_cover_minor=fee_cover_minor,
        currency=goal.currency,
        kind=kind,
        state=DonationState.PENDING,
        donor_email=donor_email,
        public_name=public_name,
        public_message=public_message,
        anonymous=anonymous,
        source_url=source_url,
        article_id=article_id,
        locale=locale,
        state_cause=cause,
    )
    db.session.add(donation)
    db.session.flush()
    return donation


def settle_donation(
    donation_id: int,
    *,
    cause: str,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
    customer_id: str | None = None,
    checkout_session_id: str | None = None,
    invoice_id: str | None = None,
    subscription_id: int | None = None,
    donor_email: str | None = None,
) -> bool:
    """Mark a pending donation paid and count it; the second caller (webhook or return) is a no-op.

    Returns True when this call settled it. With `invoice_id`, only a donation not yet tied to
    another invoice settles (the first instalment of a monthly gift).
    """
    values: dict[str, object] = {"settled_at": utcnow(), "state_cause": cause}
    for column, value in (
        ("stripe_payment_intent_id", payment_intent_id),
        ("stripe_charge_id", charge_id),
        ("stripe_customer_id", customer_id),
        ("stripe_checkout_session_id", checkout_session_id),
        ("stripe_invoice_id", invoice_id),
        ("subscription_id", subscription_id),
    ):
        if value:
            values[column] = value
    settled = move_state(
        Donation.state,
        donation_id,
        table=DONATION_MOVES,
        current=DonationState.PENDING,
        wanted=DonationState.SUCCEEDED,
        values=values,
        extra_conditions=(Donation.stripe_invoice_id.is_(None),) if invoice_id else (),
    )
    if not settled:
        return False
    donation = fresh(Donation, donation_id, lock=False)
    if donor_email and not donation.donor_email:
        donation.donor_email = donor_email
    _count_settled(donation, cause=cause, action="settle")
    return True


def _count_settled(donation: Donation, *, cause: str, action: str) -> None:
    """Add a newly succeeded donation to its goal: money, one donation and maybe a new donor."""
    donation.donor_key = donation.donor_key or donor_key_for(
        email=donation.donor_email,
        customer_id=donation.stripe_customer_id,
        donation_id=donation.id,
    )
    new_donor = insert_ignoring_duplicates(
        GoalDonor.__table__, {"goal_id": donation.goal_id, "donor_key": donation.donor_key}
    )
    change_totals(
        donation.goal_id,
        donation_id=donation.id,
        action=action,
        cause=cause,
        raised=donation.kept_minor,
        donations=1,
        donors=1 if new_donor else 0,
    )
    match_gift(donation, cause=cause)
    number_counted_gift(donation)


def close_pending_donation(donation_id: int, state: DonationState, *, cause: str) -> bool:
    """Fail or expire a pending donation; a settled one is never moved back."""
    if state not in (DonationState.FAILED, DonationState.EXPIRED):
        raise LedgerError("A pending donation can only fail or expire here.")
    return move_state(
        Donation.state,
        donation_id,
        table=DONATION_MOVES,
        current=DonationState.PENDING,
        wanted=state,
        values={"state_cause": cause},
    )


def record_succeeded_gift(
    goal: Goal,
    *,
    amount_minor: int,
    kind: DonationKind,
    cause: str,
    donor_email: str | None = None,
    public_name: str | None = None,
    public_message: str | None = None,
    anonymous: bool = False,
    offline_method: str | None = None,
    note: str | None = None,
    source_url: str | None = None,
    article_id: str | None = None,
    created_at: datetime | None = None,
) -> Donation:
    """Record a gift that is already received: offline (cash, cheque, transfer) or demo."""
    if kind not in (DonationKind.OFFLINE, DonationKind.DEMO):
        raise LedgerError("Only offline and demo gifts are recorded as already received.")
    if amount_minor <= 0:
        raise LedgerError("A gift must be more than zero.")
    now = utcnow()
    donation = Donation(
        goal_id=goal.id,
        amount_minor=amount_minor,
        currency=goal.currency,
        kind=kind,
        state=DonationState.SUCCEEDED,
        donor_email=donor_email,
        public_name=public_name,
        public_message=public_message,
        anonymous=anonymous,
        offline_method=offline_method,
        note=note,
        source_url=source_url,
        article_id=article_id,
        created_at=created_at or now,
        settled_at=created_at or now,
        state_cause=cause,
    )
    db.session.add(donation)
    db.session.flush()
    _count_settled(donation, cause=cause, action=f"record_{kind.value}")
    return donation


def record_instalment(
    goal: Goal,
    *,
    subscription_id: int | None,
    invoice_id: str,
    amount_minor: int,
    cause: str,
    fee_cover_minor: int = 0,
    payment_intent_id: str | None = None,
    charge_id: str | None = None,
    customer_id: str | None = None,
    donor_email: str | None = None,
    public_name: str | None = None,
    public_message: str | None = None,
    anonymous: bool = False,
    source_url: str | None = None,
    article_id: str | None = None,
    donor_key: str | None = None,
) -> Donation | None:
    """Count one paid invoice of a monthly gift, once per invoice id; None when already counted.

    `donor_key` carries the first gift's donor over, so a monthly donor is one donor.
    """
    if amount_minor <= 0:
        raise LedgerError("An instalment must be more than zero.")
    if not 0 <= fee_cover_minor <= amount_minor:
        raise LedgerError("An instalment's fee cover must be part of it.")
    inserted = insert_ignoring_duplicates(
        Donation.__table__,
        {
            "goal_id": goal.id,
            "subscription_id": subscription_id,
            "amount_minor": amount_minor,
            "fee_cover_minor": fee_cover_minor,
            "currency": goal.currency,
            "kind": DonationKind.MONTHLY.value,
            "state": DonationState.PENDING.value,
            "refunded_minor": 0,
            "disputed_minor": 0,
            "anonymous": anonymous,
            "message_hidden": False,
            "stripe_invoice_id": invoice_id,
            "donor_email": donor_email,
            "donor_key": donor_key,
            "public_name": public_name,
            "public_message": public_message,
            "source_url": source_url,
            "article_id": article_id,
            "created_at": utcnow(),
            "state_cause": cause,
        },
    )
    if not inserted:
        return None
    donation_id = db.session.execute(
        sa.select(Donation.id).where(Donation.stripe_invoice_id == invoice_id)
    ).scalar_one()
    settle_donation(
        donation_id,
        cause=cause,
        payment_intent_id=payment_intent_id,
        charge_id=charge_id,
        customer_id=customer_id,
    )
    return db.session.get(Donation, donation_id)


def _noted(note: str | None, line: str) -> str:
    """The note with one more line, so earlier lines (the editor's, a correction) stay."""
    return "\n".join(part for part in (note, line) if part)


def void_donation(donation_id: int, *, reason: str, cause: str) -> bool:
    """Take an offline or demo gift back out of the totals (entered by mistake), with a reason."""
    goal_id = db.session.execute(
        sa.select(Donation.goal_id).where(Donation.id == donation_id)
    ).scalar_one()
    lock_goal(goal_id)
    donation = fresh(Donation, donation_id)
    if donation.kind not in (DonationKind.OFFLINE, DonationKind.DEMO):
        raise LedgerError("Only offline gifts can be voided; refund a card payment instead.")
    if not reason.strip():
        raise LedgerError("Say why the gift is voided.")
    voided = move_state(
        Donation.state,
        donation_id,
        table=DONATION_MOVES,
        current=DonationState.SUCCEEDED,
        wanted=DonationState.VOIDED,
        # The reason joins the note; the method and the editor's note stay as they were.
        values={"state_cause": cause, "note": _noted(donation.note, f"Voided: {reason.strip()}")},
    )
    if not voided:
        return False
    still_giving = db.session.execute(
        sa.select(sa.func.count())
        .select_from(Donation)
        .where(
            Donation.goal_id == donation.goal_id,
            Donation.donor_key == donation.donor_key,
            Donation.state == DonationState.SUCCEEDED,
        )
    ).scalar_one()
    lost_donor = 0
    if not still_giving and donation.donor_key:
        db.session.execute(
            sa.delete(GoalDonor).where(
                GoalDonor.goal_id == donation.goal_id, GoalDonor.donor_key == donation.donor_key
            )
        )
        lost_donor = -1
    change_totals(
        donation.goal_id,
        donation_id=donation.id,
        action="void",
        cause=cause,
        raised=-donation.kept_minor,
        donations=-1,
        donors=lost_donor,
    )
    db.session.expire(donation)
    return True


def link_stripe_ids(donation_id: int, **ids: str | int | None) -> None:
    """Record Stripe identifiers learnt later (charge, customer, subscription); never overwrite."""
    allowed = {
        "stripe_checkout_session_id",
        "stripe_payment_intent_id",
        "stripe_charge_id",
        "stripe_customer_id",
        "subscription_id",
    }
    for column, value in ids.items():
        if column not in allowed:
            raise LedgerError(f"{column} is not a Stripe identifier of a donation.")
        if not value:
            continue
        db.session.execute(
            sa.update(Donation)
            .where(Donation.id == donation_id, getattr(Donation, column).is_(None))
            .values({column: value})
            .execution_options(synchronize_session=False)
        )


def correct_offline_gift(donation_id: int, *, amount_minor: int, reason: str, cause: str) -> bool:
    """Change a counted offline gift's amount (a typo, a cheque for less), with a reason.

    The goal's total moves by the difference; the reason is kept on the gift's note. Returns
    False when the gift already has this amount, so a repeat changes nothing.
    """
    if amount_minor <= 0:
        raise LedgerError("A gift must be more than zero; void it instead.")
    if not reason.strip():
        raise LedgerError("Say why the amount is corrected.")
    donation = fresh(Donation, donation_id)
    if donation.kind != DonationKind.OFFLINE:
        raise LedgerError("Only offline gifts can be corrected; refund a card payment instead.")
    if donation.state != DonationState.SUCCEEDED:
        raise LedgerError(f"Only a counted gift can be corrected; this one is {donation.state}.")
    if amount_minor < donation.refunded_minor + donation.disputed_minor:
        raise LedgerError("The amount cannot be less than what was already taken off it.")
    if amount_minor == donation.amount_minor:
        return False
    note = _noted(donation.note, f"Corrected: {reason.strip()}")
    changed = db.session.execute(
        sa.update(Donation)
        .where(
            Donation.id == donation_id,
            Donation.state == DonationState.SUCCEEDED,
            Donation.amount_minor == donation.amount_minor,
        )
        .values(amount_minor=amount_minor, state_cause=cause, note=note)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        raise LedgerError("The gift changed while it was being corrected; look again and retry.")
    change_totals(
        donation.goal_id,
        donation_id=donation.id,
        action="correct",
        cause=cause,
        raised=amount_minor - donation.amount_minor,
    )
    db.session.expire(donation)
    return True
