"""The Stripe sandbox speaks to the official stripe library and signs and retries its webhooks."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from sandbox import RetryPolicy, start_in_thread
from sandbox.params import decode

SECRET = "whsec_test_sandbox_secret"
FAST_RETRIES = RetryPolicy(first_delay=0.05, factor=2.0, max_delay=0.2, max_attempts=3)
PAYMENT_EVENTS = ["payment_intent.succeeded", "charge.succeeded", "checkout.session.completed"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Local URLs only: no proxies, and redirects are returned rather than followed.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def http(url: str, data: bytes | None = None, json_body=None) -> tuple[int, dict, str]:
    """GET (or POST a form or JSON) and return status, headers and text, whatever the status."""
    headers = {}
    if json_body is not None:
        data, headers = json.dumps(json_body).encode(), {"Content-Type": "application/json"}
    request = urllib.request.Request(
        url, data=data, headers=headers, method="GET" if data is None else "POST"
    )
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as failure:
        with failure:
            return failure.code, failure.headers, failure.read().decode()


class Receiver:
    """A local webhook endpoint that records what arrives and answers scripted statuses."""

    def __init__(self) -> None:
        self.deliveries: list[dict] = []
        self.script: list[int] = []
        self.always: int | None = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    if receiver.always is not None:
                        status = receiver.always
                    else:
                        status = receiver.script.pop(0) if receiver.script else 200
                    receiver.deliveries.append(
                        {
                            "signature": self.headers["Stripe-Signature"],
                            "body": body,
                            "event": json.loads(body),
                            "status": status,
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhook"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def types(self, answered: int | None = 200) -> list[str]:
        """Return event types in arrival order (only the attempts answered `answered`)."""
        with self.lock:
            return [
                d["event"]["type"]
                for d in self.deliveries
                if answered is None or d["status"] == answered
            ]

    def of_type(self, event_type: str) -> list[dict]:
        with self.lock:
            return [d for d in self.deliveries if d["event"]["type"] == event_type]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def sandbox(receiver):
    handle = start_in_thread(
        webhook_url=receiver.url, webhook_secret=SECRET, retry=FAST_RETRIES, async_delay=None
    )
    yield handle
    handle.stop()


@pytest.fixture
def api_key():
    return f"sk_test_{uuid.uuid4().hex}"


@pytest.fixture
def client(sandbox, api_key):
    return stripe.StripeClient(api_key, base_addresses={"api": sandbox.url}, max_network_retries=0)


def control(sandbox, path: str, **body) -> dict:
    """POST a JSON control and return its JSON answer, which must be a success."""
    status, _, text = http(f"{sandbox.url}/_sandbox/{path}", json_body=body)
    assert status == 200, text
    return json.loads(text)


def control_error(sandbox, path: str, **body) -> tuple[int, dict]:
    """POST a control expected to fail; return its status and body."""
    status, _, text = http(f"{sandbox.url}/_sandbox/{path}", json_body=body)
    return status, json.loads(text)


def donation_session(client, mode: str = "payment", amount: int = 2500, **extra):
    """Create a Checkout Session the way the app does for one gift."""
    price_data = {
        "currency": "eur",
        "unit_amount": amount,
        "product_data": {"name": "Gift to the library fund"},
    }
    params = {
        "mode": mode,
        "success_url": "https://news.example/article?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://news.example/article",
        "client_reference_id": "17",
        "metadata": {"donation_id": "17"},
        "line_items": [{"quantity": 1, "price_data": price_data}],
    }
    if mode == "subscription":
        price_data["recurring"] = {"interval": "month"}
        params["subscription_data"] = {"metadata": {"donation_id": "17"}}
    else:
        params["submit_type"] = "donate"
        params["payment_intent_data"] = {"metadata": {"donation_id": "17"}}
    params.update(extra)
    return client.v1.checkout.sessions.create(params=params)


def paid_session(client, sandbox, **extra):
    session = donation_session(client, **extra)
    control(sandbox, f"checkout/sessions/{session.id}/pay")
    return client.v1.checkout.sessions.retrieve(session.id)


def verified(delivery: dict) -> bool:
    return stripe.WebhookSignature.verify_header(
        delivery["body"].decode(), delivery["signature"], SECRET, tolerance=300
    )


# --- the library talks to the sandbox ------------------------------------------


def test_global_api_base_reaches_the_sandbox_over_plain_http(sandbox, api_key, monkeypatch):
    monkeypatch.setattr(stripe, "api_base", sandbox.url)
    monkeypatch.setattr(stripe, "api_key", api_key)
    customer = stripe.Customer.create(email="reader@example.org")
    assert customer.id.startswith("cus_")
    assert stripe.Customer.retrieve(customer.id).email == "reader@example.org"


def test_form_encoding_decodes_into_nested_params():
    decoded = decode(
        [
            ("line_items[0][price_data][currency]", "eur"),
            ("line_items[0][quantity]", "1"),
            ("expand[]", "payment_intent"),
            ("expand[]", "line_items"),
            ("metadata[0]", "kept as a key"),
            ("created[gte]", "5"),
        ]
    )
    assert decoded == {
        "line_items": [{"price_data": {"currency": "eur"}, "quantity": "1"}],
        "expand": ["payment_intent", "line_items"],
        "metadata": {"0": "kept as a key"},
        "created": {"gte": "5"},
    }


# --- one-time gifts ------------------------------------------------------------


def test_paid_session_delivers_three_signed_events_in_order(client, sandbox, receiver):
    session = donation_session(client)
    assert session.status == "open" and session.payment_status == "unpaid"
    assert session.url == f"{sandbox.url}/pay/{session.id}"

    result = control(sandbox, f"checkout/sessions/{session.id}/pay")
    assert sandbox.flush(5)

    assert result["redirect_url"] == f"https://news.example/article?session={session.id}"
    assert receiver.types() == PAYMENT_EVENTS
    assert all(verified(delivery) for delivery in receiver.deliveries)
    completed = receiver.of_type("checkout.session.completed")[0]["event"]
    assert completed["object"] == "event" and completed["livemode"] is False
    assert completed["data"]["object"]["id"] == session.id
    assert completed["data"]["object"]["metadata"] == {"donation_id": "17"}

    fetched = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge"]}
    )
    assert (fetched.status, fetched.payment_status) == ("complete", "paid")
    assert fetched.payment_intent.metadata.to_dict() == {"donation_id": "17"}
    assert fetched.payment_intent.latest_charge.amount == 2500
    assert fetched.success_url.endswith("{CHECKOUT_SESSION_ID}")


def test_hosted_page_is_marked_simulated_and_pay_redirects(client, sandbox):
    session = donation_session(client)
    _, _, page = http(session.url)
    assert "Stripe sandbox — payments are simulated" in page
    assert "25.00 EUR" in page and "Pay with a declining card" in page

    status, headers, _ = http(session.url, b"outcome=succeeded&email=a%40b.example")
    assert status == 303 and headers["Location"].endswith(f"?session={session.id}")
    assert client.v1.checkout.sessions.retrieve(session.id).customer_details.email == "a@b.example"


def test_declined_card_keeps_session_open_and_fires_no_success(client, sandbox, receiver):
    session = donation_session(client)
    status, _, page = http(session.url, b"outcome=declined")
    assert status == 402 and "Your card was declined" in page
    assert sandbox.flush(5)

    fetched = client.v1.checkout.sessions.retrieve(session.id)
    assert (fetched.status, fetched.payment_status) == ("open", "unpaid")
    assert not set(receiver.types()) & set(PAYMENT_EVENTS)
    charges = client.v1.charges.list(params={"payment_intent": fetched.payment_intent})
    assert [charge.status for charge in charges.data] == ["failed"]


def test_delayed_payment_completes_unpaid_then_settles(client, sandbox, receiver):
    session = donation_session(client)
    control(sandbox, f"checkout/sessions/{session.id}/pay", outcome="delayed")
    pending = client.v1.checkout.sessions.retrieve(session.id)
    assert (pending.status, pending.payment_status) == ("complete", "unpaid")

    control(sandbox, f"checkout/sessions/{session.id}/settle", outcome="succeeded")
    assert sandbox.flush(5)

    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    types = receiver.types()
    assert types.index("checkout.session.completed") < types.index(
        "checkout.session.async_payment_succeeded"
    )


def test_expiring_a_session_fires_expired(client, sandbox, receiver):
    session = donation_session(client)
    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    assert sandbox.flush(5)
    assert receiver.types() == ["checkout.session.expired"]
    status, body = control_error(sandbox, f"checkout/sessions/{session.id}/pay")
    assert status == 400 and body["error"]["code"] == "checkout_session_not_open"


def test_lists_paginate_and_filter(client, sandbox):
    sessions = [donation_session(client) for _ in range(3)]
    control(sandbox, f"checkout/sessions/{sessions[0].id}/pay")

    first = client.v1.checkout.sessions.list(params={"limit": 2})
    assert [s.id for s in first.data] == [sessions[2].id, sessions[1].id] and first.has_more
    rest = client.v1.checkout.sessions.list(params={"limit": 2, "starting_after": sessions[1].id})
    assert [s.id for s in rest.data] == [sessions[0].id] and not rest.has_more

    intent = client.v1.checkout.sessions.retrieve(sessions[0].id).payment_intent
    by_intent = client.v1.checkout.sessions.list(params={"payment_intent": intent})
    assert [s.id for s in by_intent.data] == [sessions[0].id]
    future = client.v1.checkout.sessions.list(params={"created": {"gte": int(time.time()) + 60}})
    assert future.data == []
    events = client.v1.events.list(params={"type": "charge.*"})
    assert [e.type for e in events.data] == ["charge.succeeded"]


def test_an_empty_created_bound_is_unset_like_other_empty_parameters(client):
    """`created[gt]=` leaves that bound out; the others still apply."""
    customer = client.v1.customers.create(params={"email": "a@example.org"})
    unbounded = client.v1.customers.list(params={"created": {"gt": ""}})
    assert [c.id for c in unbounded.data] == [customer.id]
    future = int(time.time()) + 60
    bounded = client.v1.customers.list(params={"created": {"gt": "", "gte": future}})
    assert bounded.data == []


# --- monthly gifts -----------------------------------------------------------


def test_subscription_month_advance_pays_a_second_invoice(client, sandbox, receiver):
    session = donation_session(client, mode="subscription", amount=1000)
    control(sandbox, f"checkout/sessions/{session.id}/pay")
    subscription_id = client.v1.checkout.sessions.retrieve(session.id).subscription

    advanced = control(sandbox, f"subscriptions/{subscription_id}/advance")
    assert sandbox.flush(5)

    assert advanced["invoice"]["billing_reason"] == "subscription_cycle"
    paid = [d["event"]["data"]["object"] for d in receiver.of_type("invoice.paid")]
    assert len({invoice["id"] for invoice in paid}) == 2
    for invoice in paid:
        details = invoice["parent"]["subscription_details"]
        assert details == {"subscription": subscription_id, "metadata": {"donation_id": "17"}}
        assert "subscription" not in invoice and "payment_intent" not in invoice
        payments = client.v1.invoice_payments.list(
            params={"invoice": invoice["id"], "expand": ["data.payment.payment_intent"]}
        )
        intent = payments.data[0].payment.payment_intent
        assert intent.status == "succeeded" and intent.amount == 1000
        assert client.v1.charges.retrieve(intent.latest_charge).paid is True
    completed = receiver.of_type("checkout.session.completed")[0]["event"]["data"]["object"]
    assert completed["subscription"] == subscription_id
    assert completed["payment_status"] == "paid"
    assert receiver.types().index("customer.subscription.created") < receiver.types().index(
        "invoice.paid"
    )
    invoices = client.v1.invoices.list(params={"subscription": subscription_id})
    assert [i.billing_reason for i in invoices.data] == [
        "subscription_cycle",
        "subscription_create",
    ]


def test_cancel_at_period_end_ends_the_subscription_on_advance(client, sandbox, receiver):
    session = donation_session(client, mode="subscription", amount=1000)
    control(sandbox, f"checkout/sessions/{session.id}/pay")
    subscription_id = client.v1.checkout.sessions.retrieve(session.id).subscription

    updated = client.v1.subscriptions.update(subscription_id, params={"cancel_at_period_end": True})
    assert updated.cancel_at_period_end is True and updated.status == "active"
    assert control(sandbox, f"subscriptions/{subscription_id}/advance")["invoice"] is None
    assert control(sandbox, f"subscriptions/{subscription_id}/advance")["invoice"] is None
    assert sandbox.flush(5)

    assert client.v1.subscriptions.retrieve(subscription_id).status == "canceled"
    assert len(receiver.of_type("invoice.paid")) == 1
    change = receiver.of_type("customer.subscription.updated")[0]["event"]["data"]
    assert change["previous_attributes"]["cancel_at_period_end"] is False
    assert len(receiver.of_type("customer.subscription.deleted")) == 1


def test_portal_page_cancels_at_period_end(client, sandbox):
    session = donation_session(client, mode="subscription", amount=1000)
    control(sandbox, f"checkout/sessions/{session.id}/pay")
    paid = client.v1.checkout.sessions.retrieve(session.id)
    configuration = client.v1.billing_portal.configurations.create(
        params={"features": {"subscription_cancel": {"enabled": True, "mode": "at_period_end"}}}
    )
    portal = client.v1.billing_portal.sessions.create(
        params={
            "customer": paid.customer,
            "return_url": "https://news.example/account",
            "configuration": configuration.id,
        }
    )
    assert portal.url.startswith(f"{sandbox.url}/portal/bps_")
    assert "10.00 EUR per month" in http(portal.url)[2]

    form = f"action=cancel_at_period_end&subscription={paid.subscription}".encode()
    assert http(portal.url, form)[0] == 303
    subscription = client.v1.subscriptions.retrieve(paid.subscription)
    assert subscription.cancel_at_period_end is True and subscription.status == "active"

    form = f"action=cancel_now&subscription={paid.subscription}".encode()
    assert http(portal.url, form)[0] == 303
    assert client.v1.subscriptions.retrieve(paid.subscription).status == "canceled"


# --- refunds and disputes ------------------------------------------------------


def test_partial_refund_then_failed_refund(client, sandbox, receiver):
    session = paid_session(client, sandbox)
    refund = client.v1.refunds.create(
        params={
            "payment_intent": session.payment_intent,
            "amount": 1250,
            "metadata": {"donation_id": "17"},
        }
    )
    assert (refund.status, refund.amount) == ("succeeded", 1250)
    charge = client.v1.charges.retrieve(refund.charge)
    assert (charge.amount_refunded, charge.refunded) == (1250, False)

    failed = control(sandbox, f"refunds/{refund.id}/fail")
    assert sandbox.flush(5)

    assert failed["status"] == "failed"
    assert client.v1.charges.retrieve(refund.charge).amount_refunded == 0
    listed = client.v1.refunds.list(params={"payment_intent": session.payment_intent})
    assert [(r.id, r.status) for r in listed.data] == [(refund.id, "failed")]
    assert receiver.types()[len(PAYMENT_EVENTS) :] == [
        "refund.created",
        "charge.refunded",
        "refund.updated",
        "refund.failed",
        "refund.updated",
    ]
    refunded = receiver.of_type("charge.refunded")[0]["event"]["data"]
    assert refunded["object"]["amount_refunded"] == 1250
    assert refunded["previous_attributes"] == {"amount_refunded": 0}


def test_refund_control_refunds_the_rest_and_rejects_more(client, sandbox):
    session = paid_session(client, sandbox)
    refund = control(sandbox, f"payments/{session.payment_intent}/refund")
    assert refund["amount"] == 2500
    assert client.v1.charges.retrieve(refund["charge"]).refunded is True
    with pytest.raises(stripe.InvalidRequestError) as already:
        client.v1.refunds.create(params={"charge": refund["charge"], "amount": 1})
    assert already.value.code == "charge_already_refunded"


def test_refund_larger_than_the_charge_is_refused(client, sandbox):
    session = paid_session(client, sandbox)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": session.payment_intent, "amount": 2501})
    assert refused.value.code == "amount_too_large" and refused.value.param == "amount"


def test_dispute_lost_then_reversed_to_won(client, sandbox, receiver):
    session = paid_session(client, sandbox)
    dispute = control(sandbox, f"payments/{session.payment_intent}/dispute", amount=1000)
    assert (dispute["status"], dispute["amount"]) == ("needs_response", 1000)
    lost = control(sandbox, f"disputes/{dispute['id']}/lose")
    assert lost["status"] == "lost"
    won = control(sandbox, f"disputes/{dispute['id']}/reverse")
    assert sandbox.flush(5)

    assert won["status"] == "won"
    assert client.v1.disputes.retrieve(dispute["id"]).status == "won"
    dispute_events = [t for t in receiver.types() if t.startswith("charge.dispute.")]
    assert dispute_events == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
    ]
    closed = [
        d["event"]["data"]["object"]["status"] for d in receiver.of_type("charge.dispute.closed")
    ]
    assert closed == ["lost", "won"]


def test_inquiry_is_won_as_warning_closed(client, sandbox):
    session = paid_session(client, sandbox)
    inquiry = control(sandbox, f"payments/{session.payment_intent}/dispute", inquiry=True)
    assert inquiry["status"] == "warning_needs_response"
    assert control(sandbox, f"disputes/{inquiry['id']}/win")["status"] == "warning_closed"
    listed = client.v1.disputes.list(params={"payment_intent": session.payment_intent})
    assert [d.status for d in listed.data] == ["warning_closed"]


# --- idempotency and errors ------------------------------------------------------


def test_idempotency_key_replays_and_refuses_other_params(client):
    params = {"email": "reader@example.org"}
    created = client.v1.customers.create(params=params, options={"idempotency_key": "gift-1"})
    replayed = client.v1.customers.create(params=params, options={"idempotency_key": "gift-1"})
    assert replayed.id == created.id
    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create(
            params={"email": "other@example.org"}, options={"idempotency_key": "gift-1"}
        )
    assert len(client.v1.customers.list().data) == 1


def test_errors_surface_as_stripe_error_classes(client, sandbox):
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert unknown.value.http_status == 404 and unknown.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as recurring:
        donation_session(
            client,
            line_items=[
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 500,
                        "product_data": {"name": "Gift"},
                        "recurring": {"interval": "month"},
                    },
                }
            ],
        )
    assert "recurring" in recurring.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as too_small:
        donation_session(client, amount=10)
    assert too_small.value.code == "amount_too_small"
    for bad_key in ("not-a-key", "sk_live_abc"):
        stranger = stripe.StripeClient(
            bad_key, base_addresses={"api": sandbox.url}, max_network_retries=0
        )
        with pytest.raises(stripe.AuthenticationError):
            stranger.v1.customers.list()


# --- webhook delivery ------------------------------------------------------------


def test_failed_attempts_are_retried_with_fresh_signatures(receiver, api_key):
    receiver.script = [500]
    slow = RetryPolicy(first_delay=1.0, factor=2.0, max_delay=1.0, max_attempts=3)
    with start_in_thread(webhook_url=receiver.url, webhook_secret=SECRET, retry=slow) as handle:
        client = stripe.StripeClient(api_key, base_addresses={"api": handle.url})
        client.v1.customers.create(params={"email": "reader@example.org"})
        assert handle.flush(10)
        undelivered = client.v1.events.list(params={"delivery_success": False})

    first, second = receiver.deliveries
    assert first["event"]["id"] == second["event"]["id"]
    assert (first["status"], second["status"]) == (500, 200)
    assert all(verified(delivery) for delivery in (first, second))
    assert first["signature"].split(",")[0] != second["signature"].split(",")[0]
    assert undelivered.data == []


def test_exhausted_retries_show_as_undelivered(client, sandbox, receiver):
    receiver.always = 500
    customer = client.v1.customers.create(params={"email": "reader@example.org"})
    assert sandbox.flush(5)
    assert len(receiver.deliveries) == FAST_RETRIES.max_attempts
    undelivered = client.v1.events.list(params={"delivery_success": False})
    assert [(e.type, e.data.object.id) for e in undelivered.data] == [
        ("customer.created", customer.id)
    ]


def test_duplicate_chaos_delivers_each_event_twice(client, sandbox, receiver, api_key):
    control(sandbox, "chaos", api_key=api_key, duplicate=True)
    paid_session(client, sandbox)
    assert sandbox.flush(5)
    ids = [d["event"]["id"] for d in receiver.deliveries]
    assert len(ids) == 2 * len(PAYMENT_EVENTS) and len(set(ids)) == len(PAYMENT_EVENTS)
    assert sorted(receiver.types()) == sorted(PAYMENT_EVENTS * 2)


def test_drop_first_chaos_still_delivers_after_a_retry(client, sandbox, receiver, api_key):
    control(sandbox, "chaos", api_key=api_key, drop_first=True)
    customer = client.v1.customers.create(params={"email": "reader@example.org"})
    assert sandbox.flush(5)
    assert receiver.types() == ["customer.created"]
    listing = json.loads(http(f"{sandbox.url}/_sandbox/deliveries?api_key={api_key}")[2])
    assert [len(d["attempts"]) for d in listing["data"]] == [2]
    assert receiver.deliveries[0]["event"]["data"]["object"]["id"] == customer.id


def test_shuffle_and_late_chaos_still_deliver_each_event_once(client, sandbox, receiver, api_key):
    control(sandbox, "chaos", api_key=api_key, shuffle=True, late=0.05)
    paid_session(client, sandbox)
    assert sandbox.flush(5)
    assert sorted(receiver.types()) == sorted(PAYMENT_EVENTS)


def test_api_created_endpoint_gets_its_own_signed_deliveries(client, sandbox, receiver):
    second = Receiver()
    try:
        endpoint = client.v1.webhook_endpoints.create(
            params={"url": second.url, "enabled_events": ["customer.created"]}
        )
        assert endpoint.secret.startswith("whsec_")
        assert "secret" not in client.v1.webhook_endpoints.retrieve(endpoint.id)
        client.v1.customers.create(params={"email": "reader@example.org"})
        assert sandbox.flush(5)
        delivery = second.deliveries[0]
        assert stripe.WebhookSignature.verify_header(
            delivery["body"].decode(), delivery["signature"], endpoint.secret
        )
        disabled = client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})
        assert disabled.status == "disabled"
        assert client.v1.webhook_endpoints.delete(endpoint.id).deleted is True
    finally:
        second.close()


def test_state_survives_a_restart(tmp_path, api_key):
    state = tmp_path / "sandbox.json"
    with start_in_thread(state_path=state) as first:
        client = stripe.StripeClient(api_key, base_addresses={"api": first.url})
        session = donation_session(client)
    with start_in_thread(state_path=state) as second:
        client = stripe.StripeClient(api_key, base_addresses={"api": second.url})
        assert client.v1.checkout.sessions.retrieve(session.id).amount_total == 2500


# --- controls and the dashboard --------------------------------------------------


def test_dashboard_lists_payments_and_its_forms_act(client, sandbox):
    session = paid_session(client, sandbox)
    charge_id = client.v1.payment_intents.retrieve(session.payment_intent).latest_charge
    _, _, page = http(f"{sandbox.url}/_sandbox")
    assert session.id[:24] in page and charge_id in page and "refund half" in page

    status, headers, _ = http(f"{sandbox.url}/_sandbox/payments/{charge_id}/refund", b"amount=1000")
    assert (status, headers["Location"]) == (303, "/_sandbox")
    assert [r.amount for r in client.v1.refunds.list(params={"charge": charge_id}).data] == [1000]


def test_reset_forgets_only_the_named_key(client, sandbox, api_key):
    kept_client = stripe.StripeClient("sk_test_kept", base_addresses={"api": sandbox.url})
    kept = kept_client.v1.customers.create(params={"email": "kept@example.org"})
    session = donation_session(client)
    assert control(sandbox, "reset", api_key=api_key) == {"reset": api_key}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.retrieve(session.id)
    assert kept_client.v1.customers.retrieve(kept.id).email == "kept@example.org"
