"""The only code that changes a donation's, refund's or dispute's state or a goal's totals.

Every function here runs inside the caller's transaction, changes totals with relative UPDATEs
on the goal row, moves states forward only, is safe to call twice with the same arguments and
records the cause of each change (a Stripe event id, a user, a CLI command) in ledger_entries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from donate.extensions import db, hold_row, insert_ignoring_duplicates
from donate.models import (
    Dispute,
    DisputeStatus,
    Donation,
    DonationKind,
    DonationState,
    Goal,
    GoalDonor,
    LedgerEntry,
    Refund,
    RefundStatus,
    utcnow,
)

# How far along each status is; a status never moves to a lower rank.
_REFUND_RANK = {
    RefundStatus.PENDING: 0,
    RefundStatus.REQUIRES_ACTION: 1,
    RefundStatus.SUCCEEDED: 2,
    RefundStatus.FAILED: 3,
    RefundStatus.CANCELED: 3,
}
_DISPUTE_RANK = {
    DisputeStatus.WARNING_NEEDS_RESPONSE: 0,
    DisputeStatus.WARNING_UNDER_REVIEW: 1,
    DisputeStatus.NEEDS_RESPONSE: 1,
    DisputeStatus.UNDER_REVIEW: 2,
    DisputeStatus.LOST: 3,
    # A lost dispute can still be won on appeal (Stripe reverses the withdrawal), never the reverse.
    DisputeStatus.WON: 4,
    DisputeStatus.WARNING_CLOSED: 4,
    DisputeStatus.PREVENTED: 4,
}
_FINAL_DONATION_STATES = (
    DonationState.SUCCEEDED,
    DonationState.FAILED,
    DonationState.EXPIRED,
    DonationState.VOIDED,
)
_OPTIMISTIC_RETRIES = 8


class LedgerError(ValueError):
    """A change the ledger refuses: the message says why, nothing was changed."""


def donor_key_for(*, email: str | None, customer_id: str | None, donation_id: int) -> str:
    """Identify a distinct donor without keeping anything that erasure would have to remove."""
    if email and email.strip():
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:40]
        return f"email:{digest}"
    if customer_id:
        return f"customer:{customer_id}"
    return f"donation:{donation_id}"


def _change_totals(
    goal_id: int,
    *,
    donation_id: int | None,
    action: str,
    cause: str,
    raised: int = 0,
    donations: int = 0,
    donors: int = 0,
) -> None:
    """Move a goal's totals by relative amounts and record why, in the caller's transaction."""
    if not (raised or donations or donors):
        return
    db.session.execute(
        sa.update(Goal)
        .where(Goal.id == goal_id)
        .values(
            raised_minor=Goal.raised_minor + raised,
            donation_count=Goal.donation_count + donations,
            donor_count=Goal.donor_count + donors,
            totals_version=Goal.totals_version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.add(
        LedgerEntry(
            goal_id=goal_id,
            donation_id=donation_id,
            action=action,
            raised_delta=raised,
            donation_delta=donations,
            donor_delta=donors,
            cause=cause,
        )
    )
    _expire_goal(goal_id)


def _expire_goal(goal_id: int) -> None:
    """Make a loaded Goal object re-read its totals after a relative UPDATE."""
    goal = db.session.identity_map.get(db.session.identity_key(Goal, goal_id))  # type: ignore[arg-type]
    if goal is not None:
        db.session.expire(goal)


def _lock_goal(goal_id: int) -> None:
    """Hold the goal row before reading what decides a change of its totals."""
    hold_row(Goal.totals_version, goal_id)


def _fresh(model: type, row_id: int, *, lock: bool = True):  # noqa: ANN202
    """Read a row as committed now, locking it on databases that can."""
    query = sa.select(model).where(model.id == row_id).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    return db.session.execute(query).scalar_one()


# --- donations ---------------------------------------------------------------------------------


def create_pending_donation(
    goal: Goal,
    *,
    amount_minor: int,
    kind: DonationKind,
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
    donation = Donation(
        goal_id=goal.id,
        amount_minor=amount_minor,
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
    values: dict[str, object] = {
        "state": DonationState.SUCCEEDED,
        "settled_at": utcnow(),
        "state_cause": cause,
    }
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
    conditions = [Donation.id == donation_id, Donation.state == DonationState.PENDING]
    if invoice_id:
        conditions.append(Donation.stripe_invoice_id.is_(None))
    result = db.session.execute(
        sa.update(Donation)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
        return False
    donation = _fresh(Donation, donation_id, lock=False)
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
    _change_totals(
        donation.goal_id,
        donation_id=donation.id,
        action=action,
        cause=cause,
        raised=donation.amount_minor - donation.refunded_minor - donation.disputed_minor,
        donations=1,
        donors=1 if new_donor else 0,
    )


def close_pending_donation(donation_id: int, state: DonationState, *, cause: str) -> bool:
    """Fail or expire a pending donation; a settled one is never moved back."""
    if state not in (DonationState.FAILED, DonationState.EXPIRED):
        raise LedgerError("A pending donation can only fail or expire here.")
    result = db.session.execute(
        sa.update(Donation)
        .where(Donation.id == donation_id, Donation.state == DonationState.PENDING)
        .values(state=state, state_cause=cause)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


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
    inserted = insert_ignoring_duplicates(
        Donation.__table__,
        {
            "goal_id": goal.id,
            "subscription_id": subscription_id,
            "amount_minor": amount_minor,
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


def void_donation(donation_id: int, *, reason: str, cause: str) -> bool:
    """Take an offline or demo gift back out of the totals (entered by mistake), with a reason."""
    goal_id = db.session.execute(
        sa.select(Donation.goal_id).where(Donation.id == donation_id)
    ).scalar_one()
    _lock_goal(goal_id)
    donation = _fresh(Donation, donation_id)
    if donation.kind not in (DonationKind.OFFLINE, DonationKind.DEMO):
        raise LedgerError("Only offline gifts can be voided; refund a card payment instead.")
    if not reason.strip():
        raise LedgerError("Say why the gift is voided.")
    result = db.session.execute(
        sa.update(Donation)
        .where(Donation.id == donation_id, Donation.state == DonationState.SUCCEEDED)
        .values(state=DonationState.VOIDED, state_cause=cause, note=reason.strip())
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:
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
    _change_totals(
        donation.goal_id,
        donation_id=donation.id,
        action="void",
        cause=cause,
        raised=-(donation.amount_minor - donation.refunded_minor - donation.disputed_minor),
        donations=-1,
        donors=lost_donor,
    )
    db.session.expire(donation)
    return True


# --- refunds and disputes ---------------------------------------------------------------------


@dataclass
class _Deduction:
    """What refunds and disputes share: a row whose counted part comes off its donation."""

    model: type
    id_column: str
    donation_column: str
    rank: dict
    counts: frozenset
    action: str


_REFUNDS = _Deduction(
    Refund,
    "stripe_refund_id",
    "refunded_minor",
    _REFUND_RANK,
    frozenset({RefundStatus.SUCCEEDED}),
    "refund",
)
_DISPUTES = _Deduction(
    Dispute,
    "stripe_dispute_id",
    "disputed_minor",
    _DISPUTE_RANK,
    frozenset({DisputeStatus.LOST}),
    "dispute",
)


def record_refund(
    donation: Donation,
    *,
    stripe_refund_id: str | None,
    amount_minor: int,
    status: RefundStatus | str,
    cause: str,
    reason: str | None = None,
) -> Refund:
    """Create or advance a refund; a succeeded one comes off, a failed one puts it back."""
    return _record_deduction(
        _REFUNDS, donation, stripe_refund_id, amount_minor, RefundStatus(status), cause, reason
    )


def record_dispute(
    donation: Donation,
    *,
    stripe_dispute_id: str,
    amount_minor: int,
    status: DisputeStatus | str,
    cause: str,
    reason: str | None = None,
) -> Dispute:
    """Create or advance a dispute; only a lost one takes money off, a later win puts it back."""
    return _record_deduction(
        _DISPUTES, donation, stripe_dispute_id, amount_minor, DisputeStatus(status), cause, reason
    )


def _record_deduction(kind, donation, stripe_id, amount_minor, status, cause, reason):  # noqa: ANN001, ANN202, PLR0913
    if amount_minor <= 0:
        raise LedgerError(f"A {kind.action} must be more than zero.")
    if stripe_id is None:
        row = kind.model(
            donation_id=donation.id,
            amount_minor=amount_minor,
            currency=donation.currency,
            status=status,
            counted_minor=0,
            reason=reason,
            last_cause=cause,
        )
        db.session.add(row)
        db.session.flush()
        row_id = row.id
    else:
        insert_ignoring_duplicates(
            kind.model.__table__,
            {
                kind.id_column: stripe_id,
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
        row_id = db.session.execute(
            sa.select(kind.model.id).where(getattr(kind.model, kind.id_column) == stripe_id)
        ).scalar_one()

    for _attempt in range(_OPTIMISTIC_RETRIES):
        row = _fresh(kind.model, row_id)
        if row.donation_id != donation.id:
            raise LedgerError(f"{stripe_id} belongs to another donation.")
        new_status = status if kind.rank[status] >= kind.rank[row.status] else row.status
        # A partial dispute's amount can change while it is open; refunds keep theirs.
        new_amount = (
            amount_minor if kind is _DISPUTES and row.counted_minor == 0 else row.amount_minor
        )
        fresh_donation = _fresh(Donation, donation.id)
        wanted = new_amount if new_status in kind.counts else 0
        available = (
            fresh_donation.amount_minor
            - fresh_donation.refunded_minor
            - fresh_donation.disputed_minor
            + row.counted_minor
        )
        new_counted = max(0, min(wanted, available))
        delta = new_counted - row.counted_minor
        if new_status == row.status and delta == 0 and new_amount == row.amount_minor:
            return row
        changed = db.session.execute(
            sa.update(kind.model)
            .where(
                kind.model.id == row_id,
                kind.model.status == row.status,
                kind.model.counted_minor == row.counted_minor,
            )
            .values(
                status=new_status,
                counted_minor=new_counted,
                amount_minor=new_amount,
                last_cause=cause,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if not changed:
            continue  # someone else moved it between our read and write: read again
        if delta:
            column = getattr(Donation, kind.donation_column)
            db.session.execute(
                sa.update(Donation)
                .where(Donation.id == donation.id)
                .values({kind.donation_column: column + delta})
                .execution_options(synchronize_session=False)
            )
            if fresh_donation.state == DonationState.SUCCEEDED:
                _change_totals(
                    donation.goal_id,
                    donation_id=donation.id,
                    action=kind.action if delta > 0 else f"{kind.action}_reversed",
                    cause=cause,
                    raised=-delta,
                )
        db.session.expire(donation)
        return _fresh(kind.model, row_id, lock=False)
    raise LedgerError(f"The {kind.action} {stripe_id} kept changing underneath; try again.")


# --- recount ----------------------------------------------------------------------------------


@dataclass
class Drift:
    """What a recount found different from the stored totals, field by field (stored, actual)."""

    goal_id: int
    fields: dict[str, tuple[int, int]] = field(default_factory=dict)
    donations: dict[int, dict[str, tuple[int, int]]] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.fields or self.donations)


def recount(goal: Goal, *, cause: str, repair: bool = True) -> Drift:
    """Rebuild a goal's totals from the ledger rows; report any drift and, if asked, repair it."""
    drift = Drift(goal_id=goal.id)
    _lock_goal(goal.id)
    for deduction in (_REFUNDS, _DISPUTES):
        counted = (
            sa.select(
                deduction.model.donation_id,
                sa.func.coalesce(sa.func.sum(deduction.model.counted_minor), 0),
            )
            .join(Donation, Donation.id == deduction.model.donation_id)
            .where(Donation.goal_id == goal.id)
            .group_by(deduction.model.donation_id)
        )
        actual_by_donation = dict(db.session.execute(counted).all())
        stored = db.session.execute(
            sa.select(Donation.id, getattr(Donation, deduction.donation_column)).where(
                Donation.goal_id == goal.id
            )
        ).all()
        for donation_id, stored_value in stored:
            actual = int(actual_by_donation.get(donation_id, 0))
            if actual != stored_value:
                drift.donations.setdefault(donation_id, {})[deduction.donation_column] = (
                    stored_value,
                    actual,
                )
                if repair:
                    db.session.execute(
                        sa.update(Donation)
                        .where(Donation.id == donation_id)
                        .values({deduction.donation_column: actual})
                        .execution_options(synchronize_session=False)
                    )

    succeeded = sa.and_(Donation.goal_id == goal.id, Donation.state == DonationState.SUCCEEDED)
    raised, count, donors = db.session.execute(
        sa.select(
            sa.func.coalesce(
                sa.func.sum(
                    Donation.amount_minor - Donation.refunded_minor - Donation.disputed_minor
                ),
                0,
            ),
            sa.func.count(Donation.id),
            sa.func.count(sa.distinct(Donation.donor_key)),
        ).where(succeeded)
    ).one()
    current = _fresh(Goal, goal.id)
    for name, actual in (
        ("raised_minor", int(raised)),
        ("donation_count", int(count)),
        ("donor_count", int(donors)),
    ):
        stored_value = getattr(current, name)
        if stored_value != actual:
            drift.fields[name] = (stored_value, actual)
    if repair and drift.fields:
        deltas = {name: actual - stored for name, (stored, actual) in drift.fields.items()}
        _change_totals(
            goal.id,
            donation_id=None,
            action="recount",
            cause=cause,
            raised=deltas.get("raised_minor", 0),
            donations=deltas.get("donation_count", 0),
            donors=deltas.get("donor_count", 0),
        )
        _rebuild_goal_donors(goal.id)
    return drift


def _rebuild_goal_donors(goal_id: int) -> None:
    """Make the counted-donor markers match the succeeded donations after a repair."""
    db.session.execute(sa.delete(GoalDonor).where(GoalDonor.goal_id == goal_id))
    keys = db.session.execute(
        sa.select(Donation.donor_key)
        .where(
            Donation.goal_id == goal_id,
            Donation.state == DonationState.SUCCEEDED,
            Donation.donor_key.is_not(None),
        )
        .distinct()
    ).scalars()
    for key in keys:
        db.session.add(GoalDonor(goal_id=goal_id, donor_key=key))


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
    donation = _fresh(Donation, donation_id)
    if donation.kind != DonationKind.OFFLINE:
        raise LedgerError("Only offline gifts can be corrected; refund a card payment instead.")
    if donation.state != DonationState.SUCCEEDED:
        raise LedgerError(f"Only a counted gift can be corrected; this one is {donation.state}.")
    if amount_minor < donation.refunded_minor + donation.disputed_minor:
        raise LedgerError("The amount cannot be less than what was already taken off it.")
    if amount_minor == donation.amount_minor:
        return False
    note = "\n".join(part for part in (donation.note, f"Corrected: {reason.strip()}") if part)
    changed = db.session.execute(
        sa.update(Donation)
        .where(
            Donation.id == donation_id,
            Donation.state == DonationState.SUCCEEDED,
            Donation.amount_minor == donation.amount_minor,
        )
        .values(amount_minor=amount_minor, state_cause=cause, note=note)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise LedgerError("The gift changed while it was being corrected; look again and retry.")
    _change_totals(
        donation.goal_id,
        donation_id=donation.id,
        action="correct",
        cause=cause,
        raised=amount_minor - donation.amount_minor,
    )
    db.session.expire(donation)
    return True
