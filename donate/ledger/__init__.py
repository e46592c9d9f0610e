"""The only code that changes a donation's, refund's, dispute's or subscription's state or a
goal's totals.

Every function runs inside the caller's transaction, moves states only as the tables in
`transitions` allow, changes totals with relative UPDATEs on the goal row through `store`, is
safe to call twice with the same arguments, and records the cause of each change (a Stripe event
id, a user, a CLI command) in ledger_entries.
"""

from __future__ import annotations

from donate.ledger.deductions import (
    DISPUTES,
    REFUNDS,
    RefundRequest,
    can_refund,
    open_refund_request,
    open_requests,
    record_dispute,
    record_refund,
    record_refund_answer,
    refundable_minor,
    refuse_refund_request,
)
from donate.ledger.donations import (
    close_pending_donation,
    correct_offline_gift,
    create_pending_donation,
    donor_key_for,
    link_stripe_ids,
    record_instalment,
    record_succeeded_gift,
    settle_donation,
    void_donation,
)
from donate.ledger.errors import LedgerError, NothingLeftToRefund
from donate.ledger.recount import Drift, recount
from donate.ledger.subscriptions import move_subscription

__all__ = [
    "DISPUTES",
    "REFUNDS",
    "Drift",
    "LedgerError",
    "NothingLeftToRefund",
    "RefundRequest",
    "can_refund",
    "close_pending_donation",
    "correct_offline_gift",
    "create_pending_donation",
    "donor_key_for",
    "link_stripe_ids",
    "move_subscription",
    "open_refund_request",
    "open_requests",
    "record_dispute",
    "record_instalment",
    "record_refund",
    "record_refund_answer",
    "record_succeeded_gift",
    "recount",
    "refundable_minor",
    "refuse_refund_request",
    "settle_donation",
    "void_donation",
]
