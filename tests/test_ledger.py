"""The ledger: every change of state and totals is exact, idempotent and traceable."""

from __future__ import annotations

from itertools import permutations

import pytest
import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import (
    DonationKind,
    DonationState,
    Goal,
    LedgerEntry,
    Refund,
    RefundStatus,
)
from tests.factories import make_goal, make_offline_gift, reload


def _pending(goal: Goal, amount: int = 5_000, email: str | None = "ada@example.org"):
    return ledger.create_pending_donation(
        goal, amount_minor=amount, kind=DonationKind.ONE_TIME, donor_email=email, cause="test"
    )


def _settled(goal: Goal, amount: int = 5_000, email: str | None = "ada@example.org", n: int = 1):
    donation = _pending(goal, amount, email)
    ledger.settle_donation(donation.id, cause="evt_settle", payment_intent_id=f"pi_{donation.id}")
    return donation


def test_settling_counts_money_donation_and_donor(db_session):
    goal = make_goal()
    donation = _pending(goal)
    assert reload(goal).raised_minor == 0
    assert ledger.settle_donation(donation.id, cause="evt_1", payment_intent_id="pi_1")
    goal = reload(goal)
    assert (goal.raised_minor, goal.donation_count, goal.donor_count) == (5_000, 1, 1)
    assert goal.totals_version == 1
    entry = db.session.execute(sa.select(LedgerEntry)).scalar_one()
    assert (entry.action, entry.raised_delta, entry.cause) == ("settle", 5_000, "evt_1")


def test_settling_twice_counts_once(db_session):
    goal = make_goal()
    donation = _pending(goal)
    assert ledger.settle_donation(donation.id, cause="return:cs_1")
    assert not ledger.settle_donation(donation.id, cause="evt_1")
    goal = reload(goal)
    assert (goal.raised_minor, goal.donation_count, goal.totals_version) == (5_000, 1, 1)


def test_a_second_gift_from_the_same_email_is_the_same_donor(db_session):
    goal = make_goal()
    _settled(goal, 1_000, "Ada@Example.org")
    _settled(goal, 2_000, "ada@example.org ")
    _settled(goal, 3_000, None)
    goal = reload(goal)
    assert (goal.raised_minor, goal.donation_count, goal.donor_count) == (6_000, 3, 2)


def test_a_settled_donation_never_fails_or_expires(db_session):
    goal = make_goal()
    donation = _settled(goal)
    assert not ledger.close_pending_donation(donation.id, DonationState.EXPIRED, cause="late")
    db.session.refresh(donation)
    assert donation.state is DonationState.SUCCEEDED
    assert reload(goal).raised_minor == 5_000


def test_an_expired_donation_is_never_counted_later(db_session):
    goal = make_goal()
    donation = _pending(goal)
    assert ledger.close_pending_donation(donation.id, DonationState.EXPIRED, cause="evt_exp")
    assert not ledger.settle_donation(donation.id, cause="evt_late")
    assert reload(goal).raised_minor == 0


def test_partial_refund_comes_off_and_repeats_change_nothing(db_session):
    goal = make_goal()
    donation = _settled(goal, 10_000)
    for _ in range(3):
        ledger.record_refund(
            donation, stripe_refund_id="re_1", amount_minor=4_000, status="succeeded", cause="e1"
        )
    goal = reload(goal)
    assert goal.raised_minor == 6_000
    assert goal.donation_count == 1
    db.session.refresh(donation)
    assert donation.refunded_minor == 4_000
    assert donation.net_minor == 6_000


def test_failed_refund_puts_the_money_back(db_session):
    goal = make_goal()
    donation = _settled(goal, 10_000)
    ledger.record_refund(
        donation, stripe_refund_id="re_1", amount_minor=10_000, status="succeeded", cause="a"
    )
    assert reload(goal).raised_minor == 0
    ledger.record_refund(
        donation, stripe_refund_id="re_1", amount_minor=10_000, status="failed", cause="b"
    )
    assert reload(goal).raised_minor == 10_000
    # A late copy of the 'succeeded' update cannot move a failed refund back.
    ledger.record_refund(
        donation, stripe_refund_id="re_1", amount_minor=10_000, status="succeeded", cause="c"
    )
    assert reload(goal).raised_minor == 10_000
    refund = db.session.execute(sa.select(Refund)).scalar_one()
    assert refund.status is RefundStatus.FAILED


def test_refunds_never_take_a_donation_below_zero(db_session):
    goal = make_goal()
    donation = _settled(goal, 5_000)
    ledger.record_refund(
        donation, stripe_refund_id="re_a", amount_minor=4_000, status="succeeded", cause="a"
    )
    ledger.record_refund(
        donation, stripe_refund_id="re_b", amount_minor=4_000, status="succeeded", cause="b"
    )
    goal = reload(goal)
    assert goal.raised_minor == 0
    db.session.refresh(donation)
    assert donation.refunded_minor == 5_000


def test_dispute_inquiry_changes_nothing(db_session):
    goal = make_goal()
    donation = _settled(goal, 5_000)
    ledger.record_dispute(
        donation,
        stripe_dispute_id="dp_1",
        amount_minor=5_000,
        status="warning_needs_response",
        cause="e",
    )
    assert reload(goal).raised_minor == 5_000


def test_lost_dispute_comes_off_and_a_later_win_reinstates_it(db_session):
    goal = make_goal()
    donation = _settled(goal, 5_000)
    for status, expected in [
        ("needs_response", 5_000),
        ("lost", 0),
        ("lost", 0),
        ("won", 5_000),
        ("lost", 5_000),  # won is final
    ]:
        ledger.record_dispute(
            donation, stripe_dispute_id="dp_1", amount_minor=5_000, status=status, cause=status
        )
        assert reload(goal).raised_minor == expected, status


def test_partial_dispute_takes_off_its_amount(db_session):
    goal = make_goal()
    donation = _settled(goal, 5_000)
    ledger.record_dispute(
        donation, stripe_dispute_id="dp_1", amount_minor=2_000, status="lost", cause="e"
    )
    assert reload(goal).raised_minor == 3_000


EVENTS = ["settle", "refund", "dispute_open", "dispute_lost"]


@pytest.mark.parametrize("order", list(permutations(EVENTS)))
def test_any_order_of_refund_and_dispute_converges(db_session, order):
    """A refund of 30 and a lost dispute of 50 on a 100 gift leave 20, whatever the order."""
    goal = make_goal()
    donation = _pending(goal, 10_000)
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
    goal = reload(goal)
    assert goal.raised_minor == 2_000
    assert goal.donation_count == 1
    assert not ledger.recount(goal, cause="check", repair=False).found


def test_instalments_count_once_per_invoice(db_session):
    goal = make_goal()
    for _ in range(2):
        ledger.record_instalment(
            goal,
            subscription_id=None,
            invoice_id="in_1",
            amount_minor=1_500,
            cause="evt",
            donor_email="m@example.org",
        )
    ledger.record_instalment(
        goal,
        subscription_id=None,
        invoice_id="in_2",
        amount_minor=1_500,
        cause="evt",
        donor_email="m@example.org",
    )
    goal = reload(goal)
    assert (goal.raised_minor, goal.donation_count, goal.donor_count) == (3_000, 2, 1)


def test_offline_gift_counts_and_its_void_takes_it_back(db_session):
    goal = make_goal()
    gift = make_offline_gift(goal, 20_000, donor_email="cash@example.org")
    goal = reload(goal)
    assert (goal.raised_minor, goal.donation_count, goal.donor_count) == (20_000, 1, 1)
    assert ledger.void_donation(gift.id, reason="Entered twice", cause="user:1")
    assert not ledger.void_donation(gift.id, reason="Entered twice", cause="user:1")
    goal = reload(goal)
    assert (goal.raised_minor, goal.donation_count, goal.donor_count) == (0, 0, 0)


def test_card_payments_cannot_be_voided(db_session):
    goal = make_goal()
    donation = _settled(goal)
    with pytest.raises(ledger.LedgerError, match="refund"):
        ledger.void_donation(donation.id, reason="x", cause="user:1")


def test_recount_finds_and_repairs_drift(db_session):
    goal = make_goal()
    donation = _settled(goal, 7_000)
    ledger.record_refund(
        donation, stripe_refund_id="re_1", amount_minor=1_000, status="succeeded", cause="r"
    )
    db.session.execute(
        sa.update(Goal).where(Goal.id == goal.id).values(raised_minor=123, donor_count=9)
    )
    drift = ledger.recount(reload(goal), cause="test")
    assert drift.fields == {"raised_minor": (123, 6_000), "donor_count": (9, 1)}
    goal = reload(goal)
    assert (goal.raised_minor, goal.donor_count, goal.donation_count) == (6_000, 1, 1)
    assert not ledger.recount(goal, cause="again").found


def test_recount_repairs_a_donations_refunded_amount_from_its_refund_rows(db_session):
    goal = make_goal()
    donation = _settled(goal, 7_000)
    ledger.record_refund(
        donation, stripe_refund_id="re_1", amount_minor=1_000, status="succeeded", cause="r"
    )
    db.session.execute(sa.text("UPDATE donations SET refunded_minor = 0"))
    drift = ledger.recount(reload(goal), cause="test")
    assert drift.donations == {donation.id: {"refunded_minor": (0, 1_000)}}
    assert drift.fields == {}  # the goal's total was right; only the donation row had drifted
    assert reload(goal).raised_minor == 6_000
