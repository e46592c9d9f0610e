"""The sandbox's subscription cancel and update refuse what Stripe refuses, and send the events
the dashboard's cancel buttons wait for."""

from __future__ import annotations

import pytest
import stripe

from tests import test_sandbox as base
from tests.test_sandbox import control, donation_session, paid_session

# The sandbox fixtures of tests/test_sandbox.py, shared by name.
api_key = base.api_key
client = base.client
receiver = base.receiver
sandbox = base.sandbox


def active_subscription(client, sandbox) -> str:
    return paid_session(client, sandbox, mode="subscription", amount=1000).subscription


def test_cancel_now_sends_deleted_with_the_comment(client, sandbox, receiver):
    subscription_id = active_subscription(client, sandbox)
    ended = client.v1.subscriptions.cancel(
        subscription_id, params={"cancellation_details": {"comment": "From the dashboard."}}
    )
    assert ended.status == "canceled" and ended.ended_at and ended.canceled_at
    assert ended.cancellation_details.comment == "From the dashboard."
    assert ended.cancellation_details.reason == "cancellation_requested"
    sandbox.flush()
    [deleted] = receiver.of_type("customer.subscription.deleted")
    assert deleted["event"]["data"]["object"]["id"] == subscription_id
    assert deleted["event"]["data"]["object"]["status"] == "canceled"


def test_cancel_at_period_end_sends_updated_once(client, sandbox, receiver):
    subscription_id = active_subscription(client, sandbox)
    params = {"cancel_at_period_end": True, "cancellation_details": {"comment": "Dashboard."}}
    updated = client.v1.subscriptions.update(subscription_id, params=params)
    assert updated.status == "active" and updated.cancel_at_period_end is True
    assert updated.cancel_at == updated["items"].data[0].current_period_end
    client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    sandbox.flush()
    changes = [
        d["event"]["data"]
        for d in receiver.of_type("customer.subscription.updated")
        if "cancel_at_period_end" in d["event"]["data"].get("previous_attributes", {})
    ]
    assert len(changes) == 1  # the second update changed nothing, so no second event
    assert changes[0]["previous_attributes"]["cancel_at_period_end"] is False


def test_unknown_subscriptions_are_404_for_cancel_and_update(client):
    with pytest.raises(stripe.InvalidRequestError) as cancel:
        client.v1.subscriptions.cancel("sub_nobody")
    assert cancel.value.http_status == 404 and cancel.value.code == "resource_missing"
    assert "No such subscription: 'sub_nobody'" in str(cancel.value)
    with pytest.raises(stripe.InvalidRequestError) as update:
        client.v1.subscriptions.update("sub_nobody", params={"cancel_at_period_end": True})
    assert update.value.http_status == 404


def test_a_canceled_subscription_cannot_be_canceled_or_scheduled_again(client, sandbox, receiver):
    subscription_id = active_subscription(client, sandbox)
    client.v1.subscriptions.cancel(subscription_id)
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.subscriptions.cancel(subscription_id)
    assert again.value.code == "resource_already_canceled"
    assert f"The subscription {subscription_id} has already been canceled." in str(again.value)
    with pytest.raises(stripe.InvalidRequestError) as scheduled:
        client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    assert "can only update its cancellation_details and metadata" in str(scheduled.value)
    # What Stripe still allows on an ended subscription.
    kept = client.v1.subscriptions.update(
        subscription_id,
        params={"metadata": {"note": "x"}, "cancellation_details": {"comment": "Moved away."}},
    )
    assert kept.metadata["note"] == "x" and kept.cancellation_details.comment == "Moved away."
    sandbox.flush()
    assert len(receiver.of_type("customer.subscription.deleted")) == 1


def test_an_incomplete_subscription_only_takes_metadata_and_an_expired_one_is_ended(
    client, sandbox
):
    session = donation_session(client, mode="subscription", amount=1000)
    control(sandbox, f"checkout/sessions/{session.id}/pay", outcome="requires_action")
    [subscription] = client.v1.subscriptions.list(params={"status": "all"}).data
    assert subscription.status == "incomplete"
    with pytest.raises(stripe.InvalidRequestError) as scheduled:
        client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    assert "incomplete status can only update its metadata" in str(scheduled.value)
    assert client.v1.subscriptions.update(subscription.id, params={"metadata": {"a": "b"}})

    control(sandbox, "time/advance", hours=23)
    assert client.v1.subscriptions.retrieve(subscription.id).status == "incomplete_expired"
    with pytest.raises(stripe.InvalidRequestError) as cancel:
        client.v1.subscriptions.cancel(subscription.id)
    assert cancel.value.code == "resource_already_canceled"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})


def test_cancel_refuses_parameters_stripe_does_not_know(client, sandbox):
    subscription_id = active_subscription(client, sandbox)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.subscriptions.cancel(subscription_id, params={"at_period_end": True})  # type: ignore[typeddict-unknown-key]
    assert "at_period_end" in str(refused.value)
    assert client.v1.subscriptions.retrieve(subscription_id).status == "active"
