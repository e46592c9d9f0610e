"""Simulated time in the sandbox: incomplete subscriptions, session expiry, dispute appeals."""

from __future__ import annotations

import stripe

from tests import test_sandbox as base
from tests.test_sandbox import control, control_error, donation_session, paid_session

# The sandbox fixtures of tests/test_sandbox.py, shared by name.
api_key = base.api_key
client = base.client
receiver = base.receiver
sandbox = base.sandbox


def all_subscriptions(client) -> list:
    return client.v1.subscriptions.list(params={"status": "all"}).data


def first_invoice(client, subscription_id: str):
    return client.v1.invoices.list(params={"subscription": subscription_id}).data[0]


def monthly(client):
    return donation_session(client, mode="subscription", amount=1000)


def advance(sandbox, **amount) -> None:
    control(sandbox, "time/advance", **amount)


# --- subscription mode: declines, bank debits, 3-D Secure ----------------------------


def test_declined_card_keeps_the_donor_on_the_page_with_no_subscription(client, sandbox):
    session = monthly(client)
    result = control(sandbox, f"checkout/sessions/{session.id}/pay", outcome="declined")
    assert result["outcome"] == "declined" and result["redirect_url"] is None
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert all_subscriptions(client) == []


def test_bank_debit_leaves_the_subscription_incomplete_until_it_settles(client, sandbox, receiver):
    session = monthly(client)
    result = control(sandbox, f"checkout/sessions/{session.id}/pay", outcome="delayed")
    completed = client.v1.checkout.sessions.retrieve(session.id)
    subscription = client.v1.subscriptions.retrieve(completed.subscription)
    assert result["outcome"] == "delayed"
    assert (completed.status, completed.payment_status) == ("complete", "unpaid")
    assert subscription.status == "incomplete"
    assert first_invoice(client, subscription.id).status == "open"

    control(sandbox, f"checkout/sessions/{session.id}/settle", outcome="succeeded")
    sandbox.flush()
    assert client.v1.subscriptions.retrieve(subscription.id).status == "active"
    assert first_invoice(client, subscription.id).status == "paid"
    updated = receiver.of_type("customer.subscription.updated")[-1]["event"]["data"]
    assert updated["previous_attributes"]["status"] == "incomplete"
    assert receiver.of_type("invoice.paid")
    assert receiver.of_type("checkout.session.async_payment_succeeded")


def test_failed_bank_debit_expires_the_subscription_after_23_hours(client, sandbox, receiver):
    session = monthly(client)
    control(sandbox, f"checkout/sessions/{session.id}/pay", outcome="delayed")
    control(sandbox, f"checkout/sessions/{session.id}/settle", outcome="failed")
    subscription_id = client.v1.checkout.sessions.retrieve(session.id).subscription
    sandbox.flush()
    assert len(receiver.of_type("invoice.payment_failed")) == 1
    assert receiver.of_type("checkout.session.async_payment_failed")

    advance(sandbox, hours=22)
    assert client.v1.subscriptions.retrieve(subscription_id).status == "incomplete"
    advance(sandbox, hours=1)
    sandbox.flush()
    assert client.v1.subscriptions.retrieve(subscription_id).status == "incomplete_expired"
    assert first_invoice(client, subscription_id).status == "void"
    voided = receiver.of_type("invoice.voided")
    updated = receiver.of_type("customer.subscription.updated")[-1]["event"]["data"]
    assert len(voided) == 1
    assert updated["object"]["status"] == "incomplete_expired"
    assert updated["previous_attributes"]["status"] == "incomplete"


def test_unfinished_3d_secure_keeps_the_session_open_and_expires_after_23_hours(
    client, sandbox, receiver
):
    session = monthly(client)
    result = control(sandbox, f"checkout/sessions/{session.id}/pay", outcome="requires_action")
    [subscription] = all_subscriptions(client)
    assert result["redirect_url"] is None
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert subscription.status == "incomplete"
    assert first_invoice(client, subscription.id).status == "open"

    advance(sandbox, hours=23)
    sandbox.flush()
    assert client.v1.subscriptions.retrieve(subscription.id).status == "incomplete_expired"
    assert first_invoice(client, subscription.id).status == "void"
    assert receiver.of_type("invoice.payment_action_required")
    assert receiver.of_type("invoice.payment_failed")
    assert receiver.of_type("invoice.voided")
    assert not receiver.of_type("checkout.session.completed")


def test_paying_after_unfinished_3d_secure_activates_the_same_subscription(client, sandbox):
    session = monthly(client)
    control(sandbox, f"checkout/sessions/{session.id}/pay", outcome="requires_action")
    control(sandbox, f"checkout/sessions/{session.id}/pay")
    completed = client.v1.checkout.sessions.retrieve(session.id)
    [subscription] = all_subscriptions(client)
    assert completed.subscription == subscription.id
    assert subscription.status == "active"
    assert first_invoice(client, subscription.id).status == "paid"


# --- Checkout Sessions expire in simulated time ---------------------------------------


def test_session_expires_at_its_expires_at(client, sandbox, receiver):
    created = donation_session(client)
    session = donation_session(client, expires_at=created.created + 1800)
    advance(sandbox, minutes=29)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    advance(sandbox, minutes=1)
    sandbox.flush()
    expired = [
        d["event"]["data"]["object"]["id"] for d in receiver.of_type("checkout.session.expired")
    ]
    assert expired == [session.id]
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_sessions_expire_after_24_hours_by_default(client, sandbox, receiver):
    session = donation_session(client)
    assert session.expires_at == session.created + 86400
    advance(sandbox, hours=24)
    sandbox.flush()
    assert [
        d["event"]["data"]["object"]["id"] for d in receiver.of_type("checkout.session.expired")
    ] == [session.id]


def test_expire_control_expires_a_session_now(client, sandbox, receiver):
    session = donation_session(client)
    assert control(sandbox, f"checkout/sessions/{session.id}/expire")["status"] == "expired"
    status, body = control_error(sandbox, f"checkout/sessions/{session.id}/pay")
    assert status == 400 and body["error"]["code"] == "checkout_session_not_open"


def test_time_only_moves_forward(sandbox):
    status, body = control_error(sandbox, "time/advance", hours=-1)
    assert status == 400 and "forward" in body["error"]["message"]


# --- dispute appeals --------------------------------------------------------------


def lost_dispute(client, sandbox):
    session = paid_session(client, sandbox)
    dispute = control(sandbox, f"payments/{session.payment_intent}/dispute")
    control(sandbox, f"disputes/{dispute['id']}/lose")
    return dispute["id"]


def test_lost_dispute_appealed_and_won(client, sandbox, receiver):
    dispute_id = lost_dispute(client, sandbox)
    appealed = control(sandbox, f"disputes/{dispute_id}/appeal")
    assert appealed["status"] == "appeal_needs_response"

    answered = client.v1.disputes.update(
        dispute_id,
        params={
            "evidence": {"appeal": {"card": {"reason_for_filing": "Proof of delivery"}}},
            "submit": True,
        },
    )
    assert answered.status == "appeal_under_review"
    assert control(sandbox, f"disputes/{dispute_id}/win")["status"] == "won"
    sandbox.flush()
    statuses = [
        d["event"]["data"]["object"]["status"] for d in receiver.of_type("charge.dispute.updated")
    ]
    closed = [
        d["event"]["data"]["object"]["status"] for d in receiver.of_type("charge.dispute.closed")
    ]
    assert statuses[-2:] == ["appeal_needs_response", "appeal_under_review"]
    assert closed == ["lost", "won"]
    assert len(receiver.of_type("charge.dispute.funds_reinstated")) == 1


def test_lost_dispute_appealed_and_lost_again(client, sandbox, receiver):
    dispute_id = lost_dispute(client, sandbox)
    control(sandbox, f"disputes/{dispute_id}/appeal")
    assert control(sandbox, f"disputes/{dispute_id}/lose")["status"] == "lost"
    sandbox.flush()
    closed = [
        d["event"]["data"]["object"]["status"] for d in receiver.of_type("charge.dispute.closed")
    ]
    assert closed == ["lost", "lost"]
    assert not receiver.of_type("charge.dispute.funds_reinstated")


def test_only_lost_chargebacks_can_be_appealed(client, sandbox):
    session = paid_session(client, sandbox)
    dispute = control(sandbox, f"payments/{session.payment_intent}/dispute")
    status, body = control_error(sandbox, f"disputes/{dispute['id']}/appeal")
    assert status == 400 and "Only lost chargebacks" in body["error"]["message"]


def test_appeal_statuses_are_stripes(client, sandbox):
    dispute_id = lost_dispute(client, sandbox)
    control(sandbox, f"disputes/{dispute_id}/appeal")
    dispute = client.v1.disputes.retrieve(dispute_id)
    assert isinstance(dispute, stripe.Dispute)
    assert dispute.status == "appeal_needs_response"
