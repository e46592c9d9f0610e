"""The sandbox drains a webhook backlog without rescanning it for every attempt."""

from __future__ import annotations

from tests import test_sandbox as base

# The sandbox fixtures of tests/test_sandbox.py, shared by name.
api_key = base.api_key
client = base.client
receiver = base.receiver
sandbox = base.sandbox

BACKLOG = 300


class CountingDict(dict):
    """A deliveries table that counts lookups, to see how much of the backlog each send reads."""

    lookups = 0

    def get(self, *args):
        CountingDict.lookups += 1
        return super().get(*args)


def test_backlog_is_sent_in_order_reading_each_delivery_a_few_times(
    client, sandbox, receiver, api_key
):
    customer = client.v1.customers.create(params={"email": "reader@example.org"})
    sandbox.flush()
    store = sandbox.store
    with store.lock:
        account = store.account(api_key)
        account.data["deliveries"] = CountingDict(account.data["deliveries"])
        CountingDict.lookups = 0
    with store.change():
        emitted = [
            account.emit("customer.updated", customer.to_dict())["id"] for _ in range(BACKLOG)
        ]
    assert sandbox.flush(timeout=60)
    arrived = [
        d["event"]["id"] for d in receiver.deliveries if d["event"]["type"] == "customer.updated"
    ]
    assert arrived == emitted
    # A scan per attempt reads the whole backlog each time: about BACKLOG² / 2 lookups.
    assert CountingDict.lookups < 10 * BACKLOG


def test_retried_delivery_goes_behind_those_already_due(client, sandbox, receiver):
    receiver.script = [500]
    first = client.v1.customers.create(params={"email": "one@example.org"})
    second = client.v1.customers.create(params={"email": "two@example.org"})
    assert sandbox.flush(timeout=10)
    answered = [(d["event"]["data"]["object"]["id"], d["status"]) for d in receiver.deliveries]
    assert answered == [(first.id, 500), (second.id, 200), (first.id, 200)]


def test_reset_with_deliveries_queued_leaves_nothing_pending(client, sandbox, receiver, api_key):
    receiver.always = 500
    client.v1.customers.create(params={"email": "reader@example.org"})
    with sandbox.store.change():
        sandbox.store.reset(api_key)
    assert sandbox.flush(timeout=5)
    assert sandbox.sandbox.deliverer.pending() == 0
