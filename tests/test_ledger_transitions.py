"""The transition tables, pair by pair: every (from, to) of each state is either allowed or
refused, as written out here; and the states are exactly Stripe's (stripe-python's types)."""

from __future__ import annotations

import typing
from itertools import product

import pytest
import stripe

from donate.ledger import transitions
from donate.ledger.transitions import may_move, next_state, parse_state
from donate.models import DisputeStatus, DonationState, RefundStatus, SubscriptionStatus


def _pairs(text: str) -> set[tuple[str, str]]:
    """'a -> b c' lines into {(a, b), (a, c)}."""
    pairs = set()
    for line in text.strip().splitlines():
        source, _arrow, targets = line.partition("->")
        pairs |= {(source.strip(), target) for target in targets.split()}
    return pairs


ALLOWED_DONATION = _pairs(
    """
    pending -> succeeded failed expired
    succeeded -> voided
    """
)
ALLOWED_REFUND = _pairs(
    """
    requested -> pending requires_action succeeded failed canceled refused
    refused -> pending requires_action succeeded failed canceled
    pending -> requires_action succeeded failed canceled
    requires_action -> succeeded failed canceled
    succeeded -> failed
    """
)
ALLOWED_DISPUTE = _pairs(
    """
    warning_needs_response -> warning_under_review warning_closed prevented needs_response under_review won lost
    warning_under_review -> warning_closed prevented needs_response under_review won lost
    needs_response -> under_review prevented won lost appeal_needs_response appeal_under_review
    under_review -> won lost appeal_needs_response appeal_under_review
    lost -> won appeal_needs_response appeal_under_review
    appeal_needs_response -> appeal_under_review won lost
    appeal_under_review -> won lost
    """  # noqa: E501 - one line per state reads best
)
ALLOWED_SUBSCRIPTION = _pairs(
    """
    incomplete -> active trialing incomplete_expired canceled
    trialing -> active past_due unpaid paused canceled
    active -> trialing past_due unpaid paused canceled
    past_due -> active unpaid paused canceled
    unpaid -> active past_due paused canceled
    paused -> active trialing canceled
    """
)

TABLES = [
    ("donation", DonationState, transitions.DONATION_MOVES, ALLOWED_DONATION),
    ("refund", RefundStatus, transitions.REFUND_MOVES, ALLOWED_REFUND),
    ("dispute", DisputeStatus, transitions.DISPUTE_MOVES, ALLOWED_DISPUTE),
    ("subscription", SubscriptionStatus, transitions.SUBSCRIPTION_MOVES, ALLOWED_SUBSCRIPTION),
]
CASES = [
    pytest.param(
        table,
        source,
        target,
        (source.value, target.value) in allowed,
        id=f"{name}:{source.value}->{target.value}",
    )
    for name, states, table, allowed in TABLES
    for source, target in product(states, states)
]


@pytest.mark.parametrize(("table", "source", "target", "allowed"), CASES)
def test_each_pair_is_allowed_or_refused_as_written(table, source, target, allowed):
    assert may_move(table, source, target) is allowed
    assert next_state(table, source, target) == (target if allowed else source)


@pytest.mark.parametrize(("name", "states", "table", "allowed"), TABLES, ids=lambda x: x)
def test_every_state_has_a_row_and_the_written_pairs_name_real_states(name, states, table, allowed):
    assert set(table) == set(states)
    values = {state.value for state in states}
    assert {value for pair in allowed for value in pair} <= values


def _stripe_literals(resource: type, field: str) -> set[str]:
    """The values stripe-python's types give for a resource's field (our pinned API version)."""
    hint = resource.__annotations__[field]
    literals = set()
    for arg in typing.get_args(hint):
        if typing.get_origin(arg) is typing.Literal:
            literals |= set(typing.get_args(arg))
    return literals


def test_subscription_statuses_are_exactly_stripes_eight():
    assert {s.value for s in SubscriptionStatus} == _stripe_literals(stripe.Subscription, "status")
    assert len(SubscriptionStatus) == 8


def test_dispute_statuses_are_exactly_stripes_including_appeals():
    assert {s.value for s in DisputeStatus} == _stripe_literals(stripe.Dispute, "status")


def test_refund_statuses_are_stripes_plus_our_own_requested_and_refused():
    stripes = {"pending", "requires_action", "succeeded", "failed", "canceled"}
    assert {s.value for s in RefundStatus} == stripes | {"requested", "refused"}


def test_final_states_and_what_counts():
    assert transitions.SUBSCRIPTION_FINAL == {
        SubscriptionStatus.CANCELED,
        SubscriptionStatus.INCOMPLETE_EXPIRED,
    }
    assert transitions.SUBSCRIPTION_RUNNING == {"active", "trialing", "past_due"}
    assert transitions.DISPUTE_TAKES_OFF == {"lost", "appeal_needs_response", "appeal_under_review"}
    assert transitions.REFUND_TAKES_OFF == {"succeeded"}
    assert transitions.REFUND_RESERVES == {"requested", "pending", "requires_action"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("active", SubscriptionStatus.ACTIVE),
        ("incomplete_expired", SubscriptionStatus.INCOMPLETE_EXPIRED),
        ("hibernating", None),
        ("", None),
        (None, None),
        (7, None),
    ],
)
def test_unknown_values_parse_to_none_never_to_a_state(value, expected):
    assert parse_state(SubscriptionStatus, value) == expected
