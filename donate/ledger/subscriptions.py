"""Monthly gifts: a subscription's status follows Stripe's, never back from a final one."""

from __future__ import annotations

from donate.ledger.donations import close_pending_donation
from donate.ledger.store import move_state
from donate.ledger.transitions import SUBSCRIPTION_MOVES
from donate.models import DonationState, Subscription, SubscriptionStatus, utcnow


def move_subscription(
    subscription: Subscription,
    reported: SubscriptionStatus,
    *,
    cause: str,
    first_donation_id: int | None = None,
) -> bool:
    """Move a subscription to Stripe's reported status when the table allows; True if it moved.

    A subscription whose first payment never went through (incomplete_expired) never started:
    its opening donation, still pending, expires and nothing counts.
    """
    current = subscription.status
    moved = move_state(
        Subscription.status,
        subscription.id,
        table=SUBSCRIPTION_MOVES,
        current=current,
        wanted=reported,
        values={"updated_at": utcnow()},
    )
    if moved:
        subscription.status = reported
    expired = subscription.status == SubscriptionStatus.INCOMPLETE_EXPIRED
    if expired and first_donation_id is not None:
        close_pending_donation(first_donation_id, DonationState.EXPIRED, cause=cause)
    return moved
