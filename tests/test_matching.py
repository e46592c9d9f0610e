"""Matching funds in the ledger: the pool caps matches, deductions undo them, recount keeps them."""

from __future__ import annotations

from itertools import permutations

import pytest
import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.ledger.matching import due_match
from donate.matches import MatchError, close_match, start_match
from donate.models import DonationKind, GoalMatch, LedgerEntry, MatchAllocation
from tests.factories import make_goal, make_offline_gift, reload
from tests.match_support import (
    assert_match_invariants,
    matched_by_donation,
    open_match,
    pending,
    settled,
    used,
)


def test_a_gift_is_doubled_and_counted_apart(db_session):
    goal = make_goal()
    match = open_match(goal, 500_000)
    settled(goal, 2_500, "ada@example.org")
    goal = reload(goal)
    assert (goal.raised_minor, goal.matched_minor) == (5_000, 2_500)
    assert (goal.donation_count, goal.donor_count) == (1, 1)
    assert used(match.id) == 2_500
    actions = db.session.execute(
        sa.select(LedgerEntry.action, LedgerEntry.raised_delta).order_by(LedgerEntry.id)
    ).all()
    assert actions[-2:] == [("settle", 2_500), ("match", 2_500)]
    assert_match_invariants(goal.id, match.id)


def test_many_gifts_never_take_more_than_the_pool(db_session):
    goal = make_goal()
    match = open_match(goal, 10_000)
    gifts = [settled(goal, 700 + 113 * i) for i in range(30)]
    assert used(match.id) == 10_000
    matched = matched_by_donation(goal.id)
    assert sum(matched.values()) == 10_000
    partial = [d for d in gifts if 0 < matched.get(d.id, 0) < d.amount_minor]
    assert len(partial) <= 1
    goal = reload(goal)
    assert goal.matched_minor == 10_000
    assert goal.raised_minor == sum(d.amount_minor for d in gifts) + 10_000
    assert goal.donation_count == 30
    assert_match_invariants(goal.id, match.id)


def test_settling_twice_matches_once(db_session):
    goal = make_goal()
    match = open_match(goal, 10_000)
    donation = settled(goal, 3_000)
    assert not ledger.settle_donation(donation.id, cause="again")
    assert used(match.id) == 3_000
    assert reload(goal).raised_minor == 6_000


def test_offline_gifts_and_closed_matches_are_not_matched(db_session):
    goal = make_goal()
    match = open_match(goal, 10_000)
    make_offline_gift(goal, 4_000)
    assert used(match.id) == 0
    close_match(goal)
    settled(goal, 1_000)
    goal = reload(goal)
    assert (goal.raised_minor, goal.matched_minor) == (5_000, 0)


@pytest.mark.parametrize(
    ("allocated", "basis", "net", "due"),
    [
        (1_000, 1_000, 667, 667),  # a third refunded from a full match
        (500, 1_000, 667, 334),  # reversed 166.5 rounds down to 166
        (333, 999, 1, 1),  # reversed 332.66 rounds down to 332
        (500, 1_000, 0, 0),
        (500, 1_000, 1_000, 500),
    ],
)
def test_a_match_shrinks_in_proportion_reversal_rounded_down(allocated, basis, net, due):
    allocation = MatchAllocation(allocated_minor=allocated, basis_minor=basis, matched_minor=0)
    assert due_match(allocation, net) == due


def test_partial_refund_reverses_proportionally_and_returns_to_the_pool(db_session):
    goal = make_goal()
    match = open_match(goal, 1_000)
    donation = settled(goal, 1_500)  # takes the whole pool: 1,000 of 1,500
    ledger.record_refund(
        donation, stripe_refund_id="re_1", amount_minor=500, status="succeeded", cause="r"
    )
    # A third of the gift came back: a third of its match, 333.33 rounded down to 333.
    assert matched_by_donation(goal.id) == {donation.id: 667}
    assert used(match.id) == 667
    goal = reload(goal)
    assert (goal.raised_minor, goal.matched_minor) == (1_000 + 667, 667)
    # The same event again changes nothing.
    ledger.record_refund(
        donation, stripe_refund_id="re_1", amount_minor=500, status="succeeded", cause="r"
    )
    assert used(match.id) == 667
    # The pool's returned 333 goes to the next gift.
    second = settled(goal, 5_000)
    assert matched_by_donation(goal.id)[second.id] == 333
    assert used(match.id) == 1_000
    assert_match_invariants(goal.id, match.id)


def test_full_refund_reverses_the_whole_match(db_session):
    goal = make_goal()
    match = open_match(goal, 10_000)
    donation = settled(goal, 2_000)
    ledger.record_refund(
        donation, stripe_refund_id="re_1", amount_minor=2_000, status="succeeded", cause="r"
    )
    assert matched_by_donation(goal.id) == {donation.id: 0}
    assert used(match.id) == 0
    goal = reload(goal)
    assert (goal.raised_minor, goal.matched_minor) == (0, 0)
    assert_match_invariants(goal.id, match.id)


def test_a_reversal_after_the_match_closed_stays_out_of_the_pool(db_session):
    goal = make_goal()
    match = open_match(goal, 10_000)
    donation = settled(goal, 2_000)
    close_match(goal)
    ledger.record_refund(
        donation, stripe_refund_id="re_1", amount_minor=2_000, status="succeeded", cause="r"
    )
    assert used(match.id) == 2_000
    assert reload(goal).matched_minor == 0
    assert_match_invariants(goal.id, match.id)


def test_lost_dispute_reverses_all_and_a_win_reinstates_what_the_pool_still_has(db_session):
    goal = make_goal()
    match = open_match(goal, 3_000)
    disputed = settled(goal, 2_000)
    ledger.record_dispute(
        disputed, stripe_dispute_id="dp_1", amount_minor=2_000, status="lost", cause="lost"
    )
    assert matched_by_donation(goal.id) == {disputed.id: 0}
    assert used(match.id) == 0
    # Meanwhile another gift takes 2,500 of the 3,000 pool: 500 is left.
    other = settled(goal, 2_500)
    ledger.record_dispute(
        disputed, stripe_dispute_id="dp_1", amount_minor=2_000, status="won", cause="won"
    )
    assert matched_by_donation(goal.id) == {disputed.id: 500, other.id: 2_500}
    assert used(match.id) == 3_000
    goal = reload(goal)
    assert (goal.raised_minor, goal.matched_minor) == (2_000 + 2_500 + 3_000, 3_000)
    assert_match_invariants(goal.id, match.id)


def test_a_won_dispute_with_the_pool_intact_gets_its_whole_match_back(db_session):
    goal = make_goal()
    match = open_match(goal, 10_000)
    donation = settled(goal, 2_000)
    for status in ("needs_response", "lost", "lost", "won", "lost"):
        ledger.record_dispute(
            donation, stripe_dispute_id="dp_1", amount_minor=2_000, status=status, cause=status
        )
    assert matched_by_donation(goal.id) == {donation.id: 2_000}
    assert reload(goal).raised_minor == 4_000
    assert_match_invariants(goal.id, match.id)


EVENTS = ["settle", "refund", "dispute_open", "dispute_lost"]


@pytest.mark.parametrize("order", list(permutations(EVENTS)))
def test_any_order_of_events_keeps_the_match_within_gift_and_pool(db_session, order):
    """A refund of 30 and a lost dispute of 50 on a 100 gift, two other gifts, a pool of 120."""
    goal = make_goal()
    match = open_match(goal, 12_000)
    donation = pending(goal, 10_000)
    first = settled(goal, 6_000)
    for step in order:
        if step == "settle":
            ledger.settle_donation(donation.id, cause="settle")
        elif step == "refund":
            ledger.record_refund(
                donation, stripe_refund_id="re_1", amount_minor=3_000, status="succeeded", cause="r"
            )
        elif step == "dispute_open":
            ledger.record_dispute(
                donation,
                stripe_dispute_id="dp_1",
                amount_minor=5_000,
                status="needs_response",
                cause="d",
            )
        else:
            ledger.record_dispute(
                donation, stripe_dispute_id="dp_1", amount_minor=5_000, status="lost", cause="l"
            )
    last = settled(goal, 9_000)
    goal = reload(goal)
    assert goal.donation_count == 3
    assert goal.raised_minor - goal.matched_minor == 2_000 + 6_000 + 9_000
    matched = matched_by_donation(goal.id)
    assert matched[first.id] == 6_000
    assert matched.get(donation.id, 0) <= 2_000
    assert matched.get(last.id, 0) <= 9_000
    assert_match_invariants(goal.id, match.id)


def test_recount_keeps_matches_and_repairs_a_drifted_matched_total(db_session):
    goal = make_goal()
    match = open_match(goal, 10_000)
    settled(goal, 2_000)
    settled(goal, 3_000)
    assert not ledger.recount(goal, cause="check").found
    db.session.execute(
        sa.update(type(goal))
        .where(type(goal).id == goal.id)
        .values(raised_minor=0, matched_minor=0)
    )
    drift = ledger.recount(goal, cause="repair")
    assert drift.fields["matched_minor"] == (0, 5_000)
    goal = reload(goal)
    assert (goal.raised_minor, goal.matched_minor) == (10_000, 5_000)
    assert_match_invariants(goal.id, match.id)


def test_one_open_match_per_goal_and_clear_refusals(db_session):
    goal = make_goal()
    open_match(goal, 10_000)
    with pytest.raises(MatchError) as refused:
        start_match(goal, sponsor="Someone else", pool_minor=5_000)
    assert "already has a match by The Ada Trust" in str(refused.value)
    with pytest.raises(MatchError) as refused:
        start_match(goal, sponsor="  ", pool_minor=0)
    assert refused.value.errors == {
        "sponsor": "Name the sponsor who gives the match.",
        "pool": "The pool must be more than zero.",
    }
    close_match(goal)
    second = start_match(goal, sponsor="Second sponsor", pool_minor=5_000)
    assert db.session.execute(sa.select(sa.func.count(GoalMatch.id))).scalar_one() == 2
    assert second.used_minor == 0


def test_the_fees_a_donor_covers_are_not_matched(db_session):
    goal = make_goal(slug="fees-unmatched", target_minor=1_000_000)
    match = open_match(goal, 100_000)
    donation = ledger.create_pending_donation(
        goal, amount_minor=2_590, fee_cover_minor=90, kind=DonationKind.ONE_TIME, cause="test"
    )
    ledger.settle_donation(donation.id, cause="evt_settle", payment_intent_id="pi_fees")
    db.session.commit()
    assert matched_by_donation(goal.id) == {donation.id: 2_500}
    assert used(match.id) == 2_500
    db.session.refresh(goal)
    assert (goal.raised_minor, goal.matched_minor) == (5_090, 2_500)
