"""The webhook: signed events from Stripe's shapes, applied exactly once in any order."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from itertools import permutations

import pytest
import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import (
    Donation,
    DonationKind,
    DonationState,
    EventStatus,
    Goal,
    LedgerEntry,
    StripeEvent,
    Subscription,
)
from donate.payments.stripe import sign_payload
from tests.conftest import WEBHOOK_SECRET
from tests.factories import make_goal, reload
from tests.stripe_events import (
    FOREIGN_EVENTS,
    checkout_session,
    dispute,
    event,
    invoice,
    new_id,
    post_event,
    refund,
    shape,
)


def _pending(goal: Goal, amount: int = 10_000, kind=DonationKind.ONE_TIME) -> Donation:
    donation = ledger.create_pending_donation(goal, amount_minor=amount, kind=kind, cause="test")
    db.session.commit()
    return donation


def _totals(goal: Goal) -> tuple[int, int, int]:
    goal = reload(goal)
    return goal.raised_minor, goal.donation_count, goal.donor_count


def _stored(event_id: str) -> StripeEvent:
    return db.session.execute(
        sa.select(StripeEvent).where(StripeEvent.event_id == event_id)
    ).scalar_one()


# --- signature ------------------------------------------------------------------------------


def test_forged_signature_is_400_and_stores_nothing(client):
    evt = event("checkout.session.completed", shape("checkout.session"))
    response = post_event(client, evt, secret="whsec_not_ours")
    assert response.status_code == 400
    assert db.session.execute(sa.select(StripeEvent)).first() is None


def test_missing_signature_is_400(client):
    response = client.post("/stripe/webhook", data=json.dumps(event("x.y", {})))
    assert response.status_code == 400


def test_stale_signature_is_400(client):
    body = json.dumps(event("checkout.session.completed", shape("checkout.session")))
    old = int(time.time()) - 301
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{old}.{body}".encode(), hashlib.sha256).hexdigest()
    assert post_event(client, body, header=f"t={old},v1={digest}").status_code == 400


def test_signed_but_malformed_json_is_400(client):
    body = '{"id": "evt_1", "type": '
    assert post_event(client, body).status_code == 400
    assert post_event(client, "[1, 2]").status_code == 400


def test_webhook_needs_no_csrf_token(app, client):
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    evt = event("customer.created", shape("customer"))
    assert post_event(client, evt).status_code == 200


# --- one-time gifts -------------------------------------------------------------------------


def test_paid_session_settles_the_donation(client):
    goal = make_goal()
    donation = _pending(goal)
    session = checkout_session(donation)
    response = post_event(client, event("checkout.session.completed", session))
    assert response.status_code == 200
    assert _totals(goal) == (10_000, 1, 1)
    db.session.refresh(donation)
    assert donation.state is DonationState.SUCCEEDED
    assert donation.stripe_payment_intent_id == session["payment_intent"]
    assert donation.stripe_checkout_session_id == session["id"]


def test_duplicate_event_counts_once(client):
    goal = make_goal()
    donation = _pending(goal)
    evt = event("checkout.session.completed", checkout_session(donation))
    for _ in range(3):
        assert post_event(client, evt).status_code == 200
    assert _totals(goal) == (10_000, 1, 1)
    assert _stored(evt["id"]).status is EventStatus.PROCESSED
    assert db.session.execute(sa.select(sa.func.count(LedgerEntry.id))).scalar_one() == 1


def test_two_events_for_one_session_count_once(client):
    goal = make_goal()
    donation = _pending(goal)
    session = checkout_session(donation)
    post_event(client, event("checkout.session.completed", session))
    post_event(client, event("checkout.session.completed", session))
    assert _totals(goal) == (10_000, 1, 1)


def test_unpaid_session_waits_for_the_delayed_payment(client):
    goal = make_goal()
    donation = _pending(goal)
    session = checkout_session(donation, paid=False)
    post_event(client, event("checkout.session.completed", session))
    assert _totals(goal) == (0, 0, 0)
    db.session.refresh(donation)
    assert donation.state is DonationState.PENDING
    session["payment_status"] = "paid"
    post_event(client, event("checkout.session.async_payment_succeeded", session))
    assert _totals(goal) == (10_000, 1, 1)


def test_failed_delayed_payment_marks_the_donation_failed(client):
    goal = make_goal()
    donation = _pending(goal)
    session = checkout_session(donation, paid=False)
    post_event(client, event("checkout.session.completed", session))
    post_event(client, event("checkout.session.async_payment_failed", session))
    db.session.refresh(donation)
    assert donation.state is DonationState.FAILED
    assert _totals(goal) == (0, 0, 0)


def test_expired_session_expires_the_pending_donation(client):
    goal = make_goal()
    donation = _pending(goal)
    session = checkout_session(donation, paid=False, status="expired", payment_intent=None)
    post_event(client, event("checkout.session.expired", session))
    db.session.refresh(donation)
    assert donation.state is DonationState.EXPIRED


# --- refunds and disputes ---------------------------------------------------------------------


def _paid(client, goal: Goal, amount: int = 10_000) -> tuple[Donation, str]:
    donation = _pending(goal, amount)
    session = checkout_session(donation)
    post_event(client, event("checkout.session.completed", session))
    return donation, session["payment_intent"]


def test_refund_half_then_its_repeats(client):
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    re = refund(pi, 5_000)
    for event_type in ("refund.created", "refund.updated", "refund.created"):
        assert post_event(client, event(event_type, re)).status_code == 200
    assert _totals(goal) == (5_000, 1, 1)


def test_charge_refunded_with_listed_refunds_counts_each_once(client):
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    re = refund(pi, 3_000)
    charge = shape(
        "charge",
        id=new_id("ch"),
        payment_intent=pi,
        amount_refunded=3_000,
        refunds={"object": "list", "data": [re], "has_more": False},
    )
    post_event(client, event("charge.refunded", charge))
    post_event(client, event("refund.created", re))
    assert _totals(goal) == (7_000, 1, 1)


def test_failed_refund_puts_the_money_back(client):
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    re = refund(pi, 10_000)
    post_event(client, event("refund.created", re))
    assert _totals(goal)[0] == 0
    post_event(client, event("refund.failed", {**re, "status": "failed"}))
    assert _totals(goal)[0] == 10_000


def test_lost_then_won_dispute(client):
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    dp = dispute(pi, 10_000, "needs_response")
    post_event(client, event("charge.dispute.created", dp))
    assert _totals(goal)[0] == 10_000
    post_event(client, event("charge.dispute.closed", {**dp, "status": "lost"}))
    assert _totals(goal)[0] == 0
    post_event(client, event("charge.dispute.funds_reinstated", {**dp, "status": "won"}))
    assert _totals(goal)[0] == 10_000


def test_inquiry_changes_nothing(client):
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    post_event(
        client, event("charge.dispute.created", dispute(pi, 10_000, "warning_needs_response"))
    )
    assert _totals(goal)[0] == 10_000


def test_partial_dispute_takes_off_its_amount(client):
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    post_event(client, event("charge.dispute.closed", dispute(pi, 2_500, "lost")))
    assert _totals(goal)[0] == 7_500


def test_refund_before_its_payment_is_parked_then_applied(client):
    goal = make_goal()
    donation = _pending(goal)
    session = checkout_session(donation)
    early = event("refund.created", refund(session["payment_intent"], 4_000))
    assert post_event(client, early).status_code == 200
    parked = _stored(early["id"])
    assert parked.status is EventStatus.PARKED
    assert parked.parked_on == session["payment_intent"]
    post_event(client, event("checkout.session.completed", session))
    assert _totals(goal) == (6_000, 1, 1)
    db.session.expire_all()
    assert _stored(early["id"]).status is EventStatus.PROCESSED


STEPS = ("complete", "refund", "dispute_opened", "dispute_lost")


@pytest.mark.parametrize("order", list(permutations(STEPS)))
def test_every_order_of_completion_refund_and_dispute_ends_exact(client, order):
    goal = make_goal()
    donation = _pending(goal, 10_000)
    session = checkout_session(donation)
    pi = session["payment_intent"]
    re = refund(pi, 3_000)
    dp = dispute(pi, 5_000, "needs_response")
    events = {
        "complete": event("checkout.session.completed", session),
        "refund": event("refund.created", re),
        "dispute_opened": event("charge.dispute.created", dp),
        "dispute_lost": event("charge.dispute.closed", {**dp, "status": "lost"}),
    }
    for step in order:
        assert post_event(client, events[step]).status_code == 200
    assert _totals(goal) == (2_000, 1, 1)
    assert not ledger.recount(reload(goal), cause="check", repair=False).found


# --- monthly gifts --------------------------------------------------------------------------


def test_first_month_is_counted_once_whatever_arrives_first(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    session = checkout_session(donation, mode="subscription")
    first = invoice(session["subscription"], donation, 1_500, billing_reason="subscription_create")
    post_event(client, event("invoice.paid", first))
    post_event(client, event("checkout.session.completed", session))
    post_event(client, event("invoice.paid", first))
    assert _totals(goal) == (1_500, 1, 1)
    db.session.refresh(donation)
    assert donation.state is DonationState.SUCCEEDED
    assert donation.stripe_invoice_id == first["id"]
    assert donation.subscription_id is not None


def test_session_completion_in_subscription_mode_counts_no_money(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    session = checkout_session(donation, mode="subscription")
    post_event(client, event("checkout.session.completed", session))
    assert _totals(goal) == (0, 0, 0)
    subscription = db.session.execute(sa.select(Subscription)).scalar_one()
    assert subscription.stripe_subscription_id == session["subscription"]


def test_each_monthly_invoice_is_one_instalment_and_refunds_find_it(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    session = checkout_session(donation, mode="subscription")
    post_event(client, event("checkout.session.completed", session))
    months = [invoice(session["subscription"], donation, 1_500) for _ in range(3)]
    for month in months:
        post_event(client, event("invoice.paid", month))
        post_event(client, event("invoice.paid", month))
    assert _totals(goal) == (4_500, 3, 1)
    second_pi = months[1]["payments"]["data"][0]["payment"]["payment_intent"]
    post_event(client, event("refund.created", refund(second_pi, 1_500)))
    assert _totals(goal) == (3_000, 3, 1)


def test_subscription_cancellation_is_kept(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    session = checkout_session(donation, mode="subscription")
    post_event(client, event("checkout.session.completed", session))
    sub = shape(
        "subscription",
        id=session["subscription"],
        status="active",
        cancel_at_period_end=True,
        metadata={"donate_donation_id": str(donation.id)},
    )
    post_event(client, event("customer.subscription.updated", sub))
    post_event(client, event("customer.subscription.deleted", {**sub, "status": "canceled"}))
    post_event(client, event("customer.subscription.updated", {**sub, "status": "active"}))
    subscription = db.session.execute(sa.select(Subscription)).scalar_one()
    db.session.refresh(subscription)
    assert subscription.status == "canceled"
    assert subscription.cancel_at_period_end is True


# --- events that are not ours -----------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(FOREIGN_EVENTS.glob("*.json")), ids=lambda p: p.stem)
def test_foreign_events_are_stored_answered_200_and_change_nothing(client, path):
    goal = make_goal()
    _paid(client, goal, 5_000)
    before = _totals(goal)
    entries = db.session.execute(sa.select(sa.func.count(LedgerEntry.id))).scalar_one()
    body = path.read_text()
    response = post_event(client, body)
    assert response.status_code == 200
    assert _totals(goal) == before
    assert db.session.execute(sa.select(sa.func.count(LedgerEntry.id))).scalar_one() == entries
    stored = _stored(json.loads(body)["id"])
    assert stored.status is EventStatus.IGNORED
    assert stored.payload == body


def test_a_livemode_event_reaching_a_test_key_is_kept_visible(client):
    goal = make_goal()
    donation = _pending(goal)
    evt = event(
        "checkout.session.completed", checkout_session(donation, livemode=True), livemode=True
    )
    assert post_event(client, evt).status_code == 200
    assert _totals(goal) == (0, 0, 0)
    stored = _stored(evt["id"])
    assert stored.livemode is True
    assert "livemode mismatch" in stored.error


def test_unknown_event_types_are_stored_and_ignored(client):
    evt = event("payout.paid", shape("payout"))
    assert post_event(client, evt).status_code == 200
    assert _stored(evt["id"]).status is EventStatus.IGNORED


def test_a_session_of_another_integration_is_ignored(client):
    goal = make_goal()
    donation = _pending(goal)
    session = checkout_session(donation, metadata={"order_id": "42"}, client_reference_id="42")
    post_event(client, event("checkout.session.completed", session))
    assert _totals(goal) == (0, 0, 0)


def test_a_failed_apply_is_500_and_kept_for_the_retry(client):
    """charge.refunded without its refunds must ask Stripe; Stripe unreachable means retry later."""
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    charge = shape(
        "charge", id=new_id("ch"), payment_intent=pi, amount_refunded=1_000, refunds=None
    )
    evt = event("charge.refunded", charge)
    response = post_event(client, evt)
    assert response.status_code == 500
    stored = _stored(evt["id"])
    assert stored.status is EventStatus.FAILED
    assert stored.attempts == 1
    assert "PaymentProviderError" in stored.error
    assert _totals(goal)[0] == 10_000
    again = post_event(client, evt)
    assert again.status_code == 500
    db.session.expire_all()
    assert _stored(evt["id"]).attempts == 2


def test_signature_is_checked_over_the_raw_body(client):
    body = json.dumps(event("payout.paid", shape("payout")))
    header = sign_payload(body, WEBHOOK_SECRET)
    reformatted = json.dumps(json.loads(body), indent=2)
    assert post_event(client, reformatted, header=header).status_code == 400


# --- every other handled type -------------------------------------------------------------------


def test_charge_succeeded_records_the_charge_so_a_dispute_naming_only_it_finds_the_gift(client):
    goal = make_goal()
    _donation, pi = _paid(client, goal)
    charge_id = new_id("ch")
    post_event(client, event("charge.succeeded", shape("charge", id=charge_id, payment_intent=pi)))
    dp = dispute(None, 10_000, "needs_response", charge=charge_id)
    post_event(client, event("charge.dispute.created", dp))
    post_event(client, event("charge.dispute.funds_withdrawn", {**dp, "status": "needs_response"}))
    post_event(client, event("charge.dispute.updated", {**dp, "status": "under_review"}))
    assert _totals(goal)[0] == 10_000
    post_event(client, event("charge.dispute.closed", {**dp, "status": "lost"}))
    assert _totals(goal)[0] == 0


def test_charge_succeeded_before_the_session_is_parked_then_applied(client):
    goal = make_goal()
    donation = _pending(goal)
    session = checkout_session(donation)
    charge_id = new_id("ch")
    early = event(
        "charge.succeeded", shape("charge", id=charge_id, payment_intent=session["payment_intent"])
    )
    post_event(client, early)
    assert _stored(early["id"]).status is EventStatus.PARKED
    post_event(client, event("checkout.session.completed", session))
    db.session.refresh(donation)
    assert donation.stripe_charge_id == charge_id


def test_subscription_created_and_payment_failure_keep_its_state(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    subscription_id = new_id("sub")
    sub = shape(
        "subscription",
        id=subscription_id,
        status="active",
        cancel_at_period_end=False,
        metadata={"donate_donation_id": str(donation.id)},
        customer=new_id("cus"),
    )
    post_event(client, event("customer.subscription.created", sub))
    row = db.session.execute(sa.select(Subscription)).scalar_one()
    assert (row.stripe_subscription_id, row.status, row.goal_id) == (
        subscription_id,
        "active",
        goal.id,
    )
    failed = invoice(subscription_id, donation, 1_500)
    post_event(
        client, event("invoice.payment_failed", {**failed, "status": "open", "amount_paid": 0})
    )
    db.session.refresh(row)
    assert row.status == "past_due"
    assert _totals(goal) == (0, 0, 0)


def test_every_event_type_we_subscribe_to_has_a_handler():
    from donate.payments.events import EventApplier
    from donate.payments.stripe import WEBHOOK_EVENTS, StripeGateway

    applier = EventApplier(StripeGateway("sk_test_x", api_base="http://127.0.0.1:9"))
    assert [t for t in WEBHOOK_EVENTS if not applier.handles(t)] == []


# --- sessions that only look like ours -----------------------------------------------------------


def test_a_session_of_another_donate_instance_is_ignored(client):
    goal = make_goal()
    donation = _pending(goal)
    session = checkout_session(donation)
    session["metadata"]["donate_instance"] = "another-instance"
    post_event(client, event("checkout.session.completed", session))
    assert _totals(goal) == (0, 0, 0)


def test_a_session_for_another_amount_or_currency_is_ignored(client):
    goal = make_goal()
    donation = _pending(goal, 10_000)
    post_event(
        client, event("checkout.session.completed", checkout_session(donation, amount_total=99))
    )
    post_event(
        client, event("checkout.session.completed", checkout_session(donation, currency="eur"))
    )
    assert _totals(goal) == (0, 0, 0)


def test_a_second_session_for_an_already_linked_donation_is_ignored(client):
    goal = make_goal()
    donation = _pending(goal)
    first = checkout_session(donation)
    post_event(client, event("checkout.session.completed", first))
    second = checkout_session(donation)
    post_event(client, event("checkout.session.completed", second))
    db.session.refresh(donation)
    assert donation.stripe_checkout_session_id == first["id"]
    assert _totals(goal) == (10_000, 1, 1)


def test_an_amount_our_currency_cannot_show_is_kept_visible_not_a_500(client):
    from donate.goals import SiteSettings, create_site

    site = create_site(SiteSettings(name="Belgrade", default_currency="RSD"))
    goal = make_goal(
        site,
        currency="RSD",
        minimum_minor=100,
        maximum_minor=None,
        presets_minor=[1_000],
        target_minor=1_000_000,
    )
    donation = _pending(goal, 1_000)
    session = checkout_session(donation, amount_total=100_000, currency="rsd")
    odd = event("refund.created", refund(session["payment_intent"], 15_050, currency="rsd"))
    assert post_event(client, odd).status_code == 200  # parked: the payment is unknown yet
    assert post_event(client, event("checkout.session.completed", session)).status_code == 200
    assert _totals(goal) == (1_000, 1, 1)
    db.session.expire_all()
    stored = _stored(odd["id"])
    assert stored.status is EventStatus.IGNORED
    assert "cannot be shown in RSD" in stored.error


def test_an_older_api_invoice_paid_before_its_session_counts(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    subscription_id = new_id("sub")
    old_style = invoice(subscription_id, donation, 1_500, billing_reason="subscription_create")
    old_style["parent"] = None
    old_style["subscription"] = subscription_id
    old_style["subscription_details"] = {"metadata": {"donate_donation_id": str(donation.id)}}
    assert post_event(client, event("invoice.paid", old_style)).status_code == 200
    assert _totals(goal) == (1_500, 1, 1)


def test_subscription_state_never_moves_backwards(client):
    goal = make_goal()
    donation = _pending(goal, 1_500, DonationKind.MONTHLY)
    session = checkout_session(donation, mode="subscription")
    post_event(client, event("checkout.session.completed", session))
    sub = shape(
        "subscription",
        id=session["subscription"],
        status="active",
        metadata={"donate_donation_id": str(donation.id)},
    )
    post_event(client, event("customer.subscription.updated", sub))
    post_event(client, event("customer.subscription.created", {**sub, "status": "incomplete"}))
    row = db.session.execute(sa.select(Subscription)).scalar_one()
    db.session.refresh(row)
    assert row.status == "active"
    post_event(client, event("customer.subscription.deleted", {**sub, "status": "canceled"}))
    failed = invoice(session["subscription"], donation, 1_500)
    post_event(client, event("invoice.payment_failed", {**failed, "amount_paid": 0}))
    db.session.refresh(row)
    assert row.status == "canceled"


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        ('{"id": "evt_deep", "type": "x", "data": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON"),
        (json.dumps({"id": "", "type": "checkout.session.completed", "data": {}}), "id"),
        (json.dumps({"id": "   ", "type": "checkout.session.completed", "data": {}}), "id"),
        (json.dumps({"id": "evt_" + "x" * 300, "type": "charge.refunded", "data": {}}), "id"),
        (json.dumps({"id": "evt_no_type", "type": "", "data": {}}), "type"),
        (json.dumps({"id": "evt_\u0000nul", "type": "charge.refunded", "data": {}}), "id"),
    ],
)
def test_a_signed_but_unusable_event_is_a_400_with_a_sentence(client, db_session, body, sentence):
    response = post_event(client, body)
    assert response.status_code == 400
    assert sentence in response.get_json()["message"]
    assert db.session.execute(sa.select(sa.func.count(StripeEvent.id))).scalar_one() == 0
