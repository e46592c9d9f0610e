"""Receipt numbers from a per-site counter row, moved in the transaction that counts the gift.

A database sequence would leave a gap for every rolled-back transaction; the counter row rolls
back with the gift, so numbers run 1, 2, 3, ... per site with no gap. Every counted gift gets
one (offline gifts too), whether or not the site sends receipts; the row lock on the counter
makes gifts of one site take turns for the moment between counting and commit.
"""

from __future__ import annotations

import sqlalchemy as sa

from donate.extensions import db, insert_ignoring_duplicates
from donate.models import (
    Donation,
    DonationKind,
    DonationState,
    Goal,
    OutboxKind,
    ReceiptCounter,
    Site,
)
from donate.outbox import queue

_counters = ReceiptCounter.__table__


def next_number(site_id: int) -> int:
    """Take the site's next receipt number in the caller's transaction."""
    insert_ignoring_duplicates(_counters, {"site_id": site_id, "last_number": 0})
    number: int = db.session.execute(
        sa.update(_counters)
        .where(_counters.c.site_id == site_id)
        .values(last_number=_counters.c.last_number + 1)
        .returning(_counters.c.last_number)
    ).scalar_one()
    return number


def _site_of(goal_id: int) -> Site:
    return db.session.execute(
        sa.select(Site).join(Goal, Goal.site_id == Site.id).where(Goal.id == goal_id)
    ).scalar_one()


def number_counted_gift(donation: Donation) -> None:
    """Give a gift that was just counted its receipt number, and queue its receipt if sent."""
    if donation.receipt_number is not None:
        return
    site = _site_of(donation.goal_id)
    donation.receipt_number = next_number(site.id)
    if site.receipts_enabled and donation.donor_email and donation.kind != DonationKind.DEMO:
        queue.enqueue(
            OutboxKind.RECEIPT, donation.donor_email, site_id=site.id, donation_id=donation.id
        )


def queue_refund_notice(donation: Donation, refund_id: int) -> None:
    """Tell the donor a refund came off their gift, when the site sends receipts."""
    if donation.receipt_number is None or not donation.donor_email:
        return
    site = _site_of(donation.goal_id)
    if site.receipts_enabled:
        queue.enqueue(
            OutboxKind.REFUND_NOTICE,
            donation.donor_email,
            site_id=site.id,
            donation_id=donation.id,
            refund_id=refund_id,
        )


def queue_copy(donation: Donation) -> bool:
    """An owner's resend: the same receipt again, marked as a copy; False when it cannot be."""
    if donation.receipt_number is None or not donation.donor_email:
        return False
    if donation.state != DonationState.SUCCEEDED:
        return False
    site = _site_of(donation.goal_id)
    queue.enqueue(
        OutboxKind.RECEIPT,
        donation.donor_email,
        site_id=site.id,
        donation_id=donation.id,
        copy=True,
    )
    return True
