"""Typed states in the database and in events: CHECK constraints refuse unknown values, events
with statuses we do not know are applied without a 500, appeals keep the money off until won, and
a monthly gift whose first payment failed never counts as running."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from donate import ledger
from donate.extensions import db
from donate.models import (
    Dispute,
    Donation,
    DonationKind,
    DonationState,
    EventStatus,
    Goal,
    Refund,
    RefundStatus,
    StripeEvent,
    Subscription,
    SubscriptionStatus,
)
from donate.payments.instance import instance_id
from tests.factories import make_goal, reload
from tests.stripe_events import checkout_session, dispute, event, invoice, post_event, refund, shape

pytest_plugins = ["tests.admin_fixtures"]


def _pending(goal: Goal, amount: int = 10_000, kind=DonationKind.ONE_TIME) -> Donation:
    donation = ledger.create_pending_donation(goal, amount_minor=amount, kind=kind, cause="test")
    db.session.commit()
    return donation


def _paid(client, goal: Goal, amount: int = 10_000) -> tuple[Donation, str]:
    donation = _pending(goal, amount)
    session = checkout_session(donation)
    post_event(client, event("checkout.session.completed", session))
    return donation, session["payment_intent"]


def _gift(donation: Donation) -> Donation:
    db.session.expire_all()
    return db.session.get(Donation, donation.id)


def _raised(goal: Goal) -> int:
    return reload(goal).raised_minor


def _stored(event_id: str) -> StripeEvent:
    db.session.expire_all()
    return db.session.execute(
        sa.select(StripeEvent).where(StripeEvent.event_id == event_id)
    ).scalar_one()


@pytest.mark.parametrize(
    ("model", "column"),
    [
        (Donation, "state"),
        (Refund, "status"),
        (Dispute, "status"),
        (Subscription, "status"),
    ],
)
def test_the_database_refuses_a_state_its_enum_does_not_know(client, model, column):
    goal = make_goal()
    donation, pi = _paid(client, goal)
    ledger.record_refund(
        donation, stripe_refund_id="re_x", amount_minor=100, status="pending", cause="t"
    )
    ledger.record_dispute(
        donation, stripe_dispute_id="dp_x", amount_minor=100, status="needs_response", cause="t"
    )
    db.session.add(
        Subscription(
            goal_id=goal.id,
            stripe_subscription_id="sub_x",
            status=SubscriptionStatus.ACTIVE,
            amount_minor=100,
            currency="USD",
        )
    )
    db.session.flush()
    # Raw SQL, past SQLAlchemy's own enum check: the database itself must refuse it.
    statement = sa.text(f"UPDATE {model.__tablename__} SET {column} = 'hibernating'")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(statement)


# --- disputes and their appeals -----------------------------------------------------------------


def test_an_appealed_dispute_keeps_the_money_off_until_it_is_won(client):
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    dp = dispute(pi, 10_000, "needs_response")
    post_event(client, event("charge.dispute.created", dp))
    post_event(client, event("charge.dispute.closed", {**dp, "status": "lost"}))
    assert _raised(goal) == 0
    for status in ("appeal_needs_response", "appeal_under_review"):
        appeal = event("charge.dispute.updated", {**dp, "status": status})
        assert post_event(client, appeal).status_code == 200
        assert _stored(appeal["id"]).status == EventStatus.PROCESSED  # no longer ignored
        assert _raised(goal) == 0
    row = db.session.execute(sa.select(Dispute)).scalar_one()
    assert row.status == "appeal_under_review"
    post_event(client, event("charge.dispute.funds_reinstated", {**dp, "status": "won"}))
    assert _raised(goal) == 10_000
    # A late copy of the appeal changes nothing: won is final.
    post_event(client, event("charge.dispute.updated", {**dp, "status": "appeal_under_review"}))
    assert _raised(goal) == 10_000


def test_a_lost_appeal_stays_lost(client):
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    dp = dispute(pi, 10_000, "under_review")
    post_event(client, event("charge.dispute.created", dp))
    post_event(client, event("charge.dispute.updated", {**dp, "status": "appeal_under_review"}))
    assert _raised(goal) == 0  # an appeal means it was lost first
    post_event(client, event("charge.dispute.closed", {**dp, "status": "lost"}))
    assert _raised(goal) == 0
    assert not ledger.recount(reload(goal), cause="check", repair=False).found


@pytest.mark.parametrize("what", ["refund", "dispute"])
def test_a_status_we_do_not_know_is_applied_with_a_note_not_a_500(client, what):
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    if what == "refund":
        obj, event_type = refund(pi, 4_000, status="reversed_by_bank"), "refund.updated"
    else:
        obj, event_type = dispute(pi, 4_000, "arbitration"), "charge.dispute.updated"
    unknown = event(event_type, obj)
    assert post_event(client, unknown).status_code == 200
    assert post_event(client, unknown).status_code == 200
    assert _stored(unknown["id"]).status == EventStatus.PROCESSED
    assert _raised(goal) == 10_000
    assert db.session.execute(sa.select(sa.func.count(Refund.id))).scalar_one() == 0
    assert db.session.execute(sa.select(sa.func.count(Dispute.id))).scalar_one() == 0


# --- monthly gifts ------------------------------------------------------------------------------


def _subscription(donation: Donation, subscription_id: str, status: str) -> dict:
    return shape(
        "subscription",
        id=subscription_id,
        status=status,
        cancel_at_period_end=False,
        metadata={"donate_donation_id": str(donation.id)},
        customer="cus_first_fails",
    )


def test_a_first_payment_that_fails_never_starts_a_monthly_gift(client, dashboard):
    d = dashboard
    donation = _pending(d.goal_a, 1_500, DonationKind.MONTHLY)
    session = checkout_session(donation, mode="subscription")
    subscription_id = session["subscription"]
    post_event(client, event("checkout.session.completed", session))
    post_event(
        client,
        event(
            "customer.subscription.created", _subscription(donation, subscription_id, "incomplete")
        ),
    )
    first = invoice(subscription_id, donation, 1_500, billing_reason="subscription_create")
    failed = {**first, "status": "open", "amount_paid": 0}
    post_event(client, event("invoice.payment_failed", failed))
    row = db.session.execute(sa.select(Subscription)).scalar_one()
    db.session.refresh(row)
    assert row.status == SubscriptionStatus.INCOMPLETE  # not past_due: it never ran
    from tests.admin_support import sign_in_as

    sign_in_as(client, d.owner)
    overview = client.get(f"/admin/sites/{d.site_a.id}/").text
    line = overview.split(d.goal_a.title, 1)[1].split("</tr>", 1)[0]
    assert line.rstrip().endswith(">0</a></td>")  # no monthly donor

    expired = _subscription(donation, subscription_id, "incomplete_expired")
    post_event(client, event("customer.subscription.updated", expired))
    db.session.refresh(row)
    assert row.status == SubscriptionStatus.INCOMPLETE_EXPIRED
    assert _gift(donation).state == DonationState.EXPIRED
    # Final: a late "active" copy does not revive it, and nothing was ever counted.
    post_event(
        client,
        event("customer.subscription.updated", _subscription(donation, subscription_id, "active")),
    )
    db.session.refresh(row)
    assert row.status == SubscriptionStatus.INCOMPLETE_EXPIRED
    assert reload(d.goal_a).donation_count == 1  # only the dashboard fixture's offline gift


def test_a_renewal_that_fails_makes_a_running_gift_past_due_and_it_still_counts(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    subscription_id = "sub_renewal_fails"
    post_event(
        client,
        event("customer.subscription.created", _subscription(donation, subscription_id, "active")),
    )
    renewal = invoice(subscription_id, donation, 1_500)
    post_event(client, event("invoice.payment_failed", {**renewal, "amount_paid": 0}))
    row = db.session.execute(sa.select(Subscription)).scalar_one()
    db.session.refresh(row)
    assert row.status == SubscriptionStatus.PAST_DUE
    assert row.status in ledger.transitions.SUBSCRIPTION_RUNNING


def test_a_late_failed_invoice_never_brings_an_unpaid_subscription_back_to_running(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    subscription_id = "sub_unpaid_then_late_failure"
    post_event(
        client,
        event("customer.subscription.created", _subscription(donation, subscription_id, "active")),
    )
    post_event(
        client,
        event("customer.subscription.updated", _subscription(donation, subscription_id, "unpaid")),
    )
    renewal = invoice(subscription_id, donation, 1_500)
    post_event(client, event("invoice.payment_failed", {**renewal, "amount_paid": 0}))
    row = db.session.execute(sa.select(Subscription)).scalar_one()
    db.session.refresh(row)
    assert row.status == SubscriptionStatus.UNPAID
    assert row.status not in ledger.transitions.SUBSCRIPTION_RUNNING


def test_an_unknown_subscription_status_keeps_the_old_one_and_applies_the_rest(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    subscription_id = "sub_unknown_status"
    post_event(
        client,
        event("customer.subscription.created", _subscription(donation, subscription_id, "active")),
    )
    odd = event(
        "customer.subscription.updated",
        {**_subscription(donation, subscription_id, "hibernating"), "cancel_at_period_end": True},
    )
    assert post_event(client, odd).status_code == 200
    assert post_event(client, odd).status_code == 200
    row = db.session.execute(sa.select(Subscription)).scalar_one()
    db.session.refresh(row)
    assert (row.status, row.cancel_at_period_end) == (SubscriptionStatus.ACTIVE, True)
    assert _stored(odd["id"]).status == EventStatus.PROCESSED


def test_a_first_event_in_an_unknown_status_stores_the_subscription_as_incomplete(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    created = event(
        "customer.subscription.created", _subscription(donation, "sub_new_status", "hibernating")
    )
    assert post_event(client, created).status_code == 200
    row = db.session.execute(sa.select(Subscription)).scalar_one()
    assert row.status == SubscriptionStatus.INCOMPLETE


# --- refund requests meet Stripe's events ---------------------------------------------------------


def test_stripes_event_lands_on_our_request_by_its_metadata_and_counts_once(client):
    goal = make_goal()
    donation, pi = _paid(client, goal)
    request = ledger.open_refund_request(
        donation.id, amount_minor=4_000, request_key="k" * 24, reason=None, cause="user:1"
    )
    db.session.commit()
    assert ledger.refundable_minor(_gift(donation)) == 6_000
    made = refund(
        pi,
        4_000,
        metadata={
            "donate_refund_id": str(request.refund_id),
            "donate_instance": instance_id(),
        },
    )
    post_event(client, event("refund.created", made))  # before Stripe's answer reached us
    post_event(client, event("refund.updated", made))
    ledger.record_refund_answer(
        request.refund_id, stripe_refund_id=made["id"], status=RefundStatus.SUCCEEDED, cause="u"
    )
    db.session.commit()
    rows = db.session.execute(sa.select(Refund)).scalars().all()
    assert [(r.id, r.status, r.stripe_refund_id) for r in rows] == [
        (request.refund_id, RefundStatus.SUCCEEDED, made["id"])
    ]
    assert _raised(goal) == 6_000
    assert ledger.refundable_minor(_gift(donation)) == 6_000


def test_another_instances_refund_id_in_metadata_is_not_ours(client):
    goal = make_goal()
    donation, pi = _paid(client, goal)
    request = ledger.open_refund_request(
        donation.id, amount_minor=4_000, request_key="k" * 24, reason=None, cause="user:1"
    )
    db.session.commit()
    theirs = refund(
        pi,
        1_000,
        metadata={"donate_refund_id": str(request.refund_id), "donate_instance": "elsewhere"},
    )
    post_event(client, event("refund.created", theirs))
    statuses = db.session.execute(sa.select(Refund.status).order_by(Refund.id)).scalars().all()
    assert statuses == [RefundStatus.REQUESTED, RefundStatus.SUCCEEDED]
    assert _raised(goal) == 9_000
