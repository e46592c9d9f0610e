"""Which state may follow which: pure tables for donations, refunds, disputes and subscriptions.

Nothing here touches the database. The store asks these tables before every conditional update,
and the tests walk every (from, to) pair of each table.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from donate.models import DisputeStatus, DonationState, RefundStatus, SubscriptionStatus

State = TypeVar("State", bound=enum.StrEnum)
Table = Mapping[State, frozenset[State]]

_D = DonationState
DONATION_MOVES: Mapping[DonationState, frozenset[DonationState]] = {
    _D.PENDING: frozenset({_D.SUCCEEDED, _D.FAILED, _D.EXPIRED}),
    # Only offline and demo gifts are voided (the ledger checks the kind).
    _D.SUCCEEDED: frozenset({_D.VOIDED}),
    _D.FAILED: frozenset(),
    _D.EXPIRED: frozenset(),
    _D.VOIDED: frozenset(),
}

_R = RefundStatus
_STRIPE_REFUND_STATUSES = frozenset(
    {_R.PENDING, _R.REQUIRES_ACTION, _R.SUCCEEDED, _R.FAILED, _R.CANCELED}
)
REFUND_MOVES: Mapping[RefundStatus, frozenset[RefundStatus]] = {
    # Ours, before Stripe answers: any answer of Stripe's, or a refusal.
    _R.REQUESTED: _STRIPE_REFUND_STATUSES | {_R.REFUSED},
    # Ours, final for us; but if Stripe ever reports the refund after all, Stripe's word wins.
    _R.REFUSED: _STRIPE_REFUND_STATUSES,
    _R.PENDING: frozenset({_R.REQUIRES_ACTION, _R.SUCCEEDED, _R.FAILED, _R.CANCELED}),
    _R.REQUIRES_ACTION: frozenset({_R.SUCCEEDED, _R.FAILED, _R.CANCELED}),
    # A succeeded refund can still fail (the card was closed): the money comes back.
    _R.SUCCEEDED: frozenset({_R.FAILED}),
    _R.FAILED: frozenset(),
    _R.CANCELED: frozenset(),
}
# Refunds whose amount comes off the gift's total.
REFUND_TAKES_OFF = frozenset({_R.SUCCEEDED})
# Refunds that may still take money off: what they ask for is not offered again.
REFUND_RESERVES = frozenset({_R.REQUESTED, _R.PENDING, _R.REQUIRES_ACTION})

_S = DisputeStatus
_APPEALS = frozenset({_S.APPEAL_NEEDS_RESPONSE, _S.APPEAL_UNDER_REVIEW})
_WARNING_OUTCOMES = frozenset({_S.WARNING_CLOSED, _S.PREVENTED})
_CHARGEBACK_OPEN = frozenset({_S.NEEDS_RESPONSE, _S.UNDER_REVIEW})
_DECIDED = frozenset({_S.WON, _S.LOST})
DISPUTE_MOVES: Mapping[DisputeStatus, frozenset[DisputeStatus]] = {
    # An inquiry may close, be prevented, or escalate to a chargeback and its decision.
    _S.WARNING_NEEDS_RESPONSE: frozenset({_S.WARNING_UNDER_REVIEW})
    | _WARNING_OUTCOMES
    | _CHARGEBACK_OPEN
    | _DECIDED,
    _S.WARNING_UNDER_REVIEW: _WARNING_OUTCOMES | _CHARGEBACK_OPEN | _DECIDED,
    _S.NEEDS_RESPONSE: frozenset({_S.UNDER_REVIEW, _S.PREVENTED}) | _DECIDED | _APPEALS,
    _S.UNDER_REVIEW: _DECIDED | _APPEALS,
    # A lost dispute may be appealed, or won on appeal (Stripe reinstates the money).
    _S.LOST: frozenset({_S.WON}) | _APPEALS,
    _S.APPEAL_NEEDS_RESPONSE: frozenset({_S.APPEAL_UNDER_REVIEW}) | _DECIDED,
    _S.APPEAL_UNDER_REVIEW: _DECIDED,
    _S.WON: frozenset(),
    _S.WARNING_CLOSED: frozenset(),
    _S.PREVENTED: frozenset(),
}
# Disputes whose amount is off the total: lost, and lost-and-appealed until the appeal is won.
DISPUTE_TAKES_OFF = frozenset({_S.LOST}) | _APPEALS

_U = SubscriptionStatus
_RUNNING = frozenset({_U.TRIALING, _U.ACTIVE, _U.PAST_DUE, _U.UNPAID, _U.PAUSED})
SUBSCRIPTION_MOVES: Mapping[SubscriptionStatus, frozenset[SubscriptionStatus]] = {
    # The first payment either succeeds (active, or a trial) or the subscription expires.
    _U.INCOMPLETE: frozenset({_U.ACTIVE, _U.TRIALING, _U.INCOMPLETE_EXPIRED, _U.CANCELED}),
    _U.TRIALING: (_RUNNING - {_U.TRIALING}) | {_U.CANCELED},
    _U.ACTIVE: (_RUNNING - {_U.ACTIVE}) | {_U.CANCELED},
    _U.PAST_DUE: frozenset({_U.ACTIVE, _U.UNPAID, _U.PAUSED, _U.CANCELED}),
    _U.UNPAID: frozenset({_U.ACTIVE, _U.PAST_DUE, _U.PAUSED, _U.CANCELED}),
    _U.PAUSED: frozenset({_U.ACTIVE, _U.TRIALING, _U.CANCELED}),
    _U.CANCELED: frozenset(),
    _U.INCOMPLETE_EXPIRED: frozenset(),
}
# Monthly gifts that are running: counted as monthly donors.
SUBSCRIPTION_RUNNING = frozenset({_U.ACTIVE, _U.TRIALING, _U.PAST_DUE})
SUBSCRIPTION_FINAL = frozenset(state for state, moves in SUBSCRIPTION_MOVES.items() if not moves)


def may_move(table: Mapping[State, frozenset[State]], current: State, wanted: State) -> bool:
    """Whether `wanted` may follow `current` in this table (staying put is not a move)."""
    return wanted in table[current]


def next_state(table: Mapping[State, frozenset[State]], current: State, reported: State) -> State:
    """The state after a report: the reported one when the table allows it, else the current."""
    return reported if may_move(table, current, reported) else current


def parse_state(enum_cls: type[State], value: object) -> State | None:
    """A value Stripe sent as one of our states, or None when we do not know it.

    Unknown values (a status Stripe added after our pinned version) must never reach a CHECK
    constraint: callers keep the current state and say so on the event.
    """
    if not isinstance(value, str):
        return None
    try:
        return enum_cls(value)
    except ValueError:
        return None
