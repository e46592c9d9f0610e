"""The give and return flow under gunicorn while Stripe's API drops off the network.

The app runs in a network namespace and reaches the Stripe sandbox through a forwarder; a
blackhole route then drops every packet it sends there. Giving answers within the give budget
with a sentence, leaves no pending gift that nothing will close, the return page says the payment
is being confirmed, and webhooks go on being stored and applied.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import requests

from donate.payments.stripe import sign_payload
from tests.isolated_host import Forwarder, IsolatedHost, UnixHTTPConnection, isolated_host
from tests.test_faults import PROJECT_ROOT, App

WEBHOOK_SECRET = "whsec_fault_tests_0123456789"
API_KEY = "sk_test_donate_faults"
# The give path's budget is 3.5 s; a click lets the frame open Checkout for about 5 s.
GIVE_ANSWER_WITHIN = 5

SEED = """
from donate import create_app
from donate.extensions import db
from tests.factories import make_goal
app = create_app()
with app.app_context():
    make_goal(slug="fault-goal", maximum_minor=None)
    db.session.commit()
"""


@pytest.fixture
def host() -> Iterator[IsolatedHost]:
    with isolated_host() as made:
        yield made


@pytest.fixture
def sandbox():
    from sandbox import RetryPolicy, start_in_thread

    handle = start_in_thread(
        port=0,
        webhook_url="http://127.0.0.1:9/stripe/webhook",  # the test delivers events itself
        webhook_secret=WEBHOOK_SECRET,
        retry=RetryPolicy(first_delay=0.01, factor=1, max_delay=0.01, max_attempts=1),
        async_delay=None,
    )
    try:
        yield handle
    finally:
        handle.stop()


def _give(app: App) -> tuple[int, dict]:
    connection = UnixHTTPConnection(app.socket_path, timeout=GIVE_ANSWER_WITHIN)
    try:
        connection.request(
            "POST",
            "/give/fault-goal",
            body=urlencode({"amount_minor": "2500"}),
            headers={
                "Origin": "http://localhost",
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def _post_event(app: App, event_type: str, obj: dict, event_id: str) -> int:
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "livemode": False,
            "api_version": "2025-01-27.acacia",
            "created": obj.get("created", 0),
            "data": {"object": obj},
        }
    )
    status, _, _ = app.request(
        "POST",
        "/stripe/webhook",
        body=body,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign_payload(body, WEBHOOK_SECRET),
        },
    )
    return status


def test_giving_while_stripe_is_black_holed(host, sandbox, tmp_path):
    database_path = tmp_path / "faults.sqlite3"
    environment = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{database_path}"}
    for command in (["-m", "flask", "--app", "wsgi", "db", "upgrade"], ["-c", SEED]):
        subprocess.run(
            [sys.executable, *command],
            cwd=PROJECT_ROOT,
            env=environment,
            check=True,
            capture_output=True,
        )
    port = int(sandbox.url.rsplit(":", 1)[1])
    forwarder = Forwarder(host.host_ip, port)
    app = App(
        host,
        tmp_path,
        {
            "DATABASE_URL": f"sqlite:///{database_path}",
            "STRIPE_API_BASE": f"http://{host.host_ip}:{forwarder.port}",
            "STRIPE_SECRET_KEY": API_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        },
    )
    try:
        status, answer = _give(app)
        assert status == 201, answer
        paid_session = answer["checkout_url"].rsplit("/", 1)[-1]
        paid = requests.post(
            f"{sandbox.url}/_sandbox/checkout/sessions/{paid_session}/pay",
            json={"outcome": "succeeded", "email": "reader@example.org"},
            timeout=30,
        )
        assert paid.status_code == 200, paid.text

        host.black_hole()

        # Giving: an answer within the give budget, with a sentence the frame shows.
        status, answer = _give(app)
        assert (status, answer["field"]) == (502, "payment")
        assert answer["error"] == (
            "We could not reach our payment provider. Nothing was charged; please try again "
            "in a moment."
        )

        # The donor who paid before the cut comes back: never told that nothing was charged.
        status, _, page = app.request("GET", f"/give/return?session_id={paid_session}")
        assert status == 502
        assert "We are confirming your gift" in page
        assert "Nothing was charged" not in page

        # Webhooks go on being stored; those that need no call to Stripe are applied.
        session = requests.get(
            f"{sandbox.url}/v1/checkout/sessions/{paid_session}",
            params={"expand[]": "payment_intent"},
            auth=(API_KEY, ""),
            timeout=30,
        ).json()
        assert _post_event(app, "checkout.session.completed", session, "evt_fault_1") == 200
        foreign_refund = {"id": "ch_fault_unknown", "object": "charge", "payment_intent": "pi_x"}
        assert _post_event(app, "charge.refunded", foreign_refund, "evt_fault_2") == 200

        with sqlite3.connect(database_path) as connection:
            donations = connection.execute(
                "SELECT state, stripe_checkout_session_id FROM donations ORDER BY id"
            ).fetchall()
            events = dict(connection.execute("SELECT event_id, status FROM stripe_events"))
        # The paid gift counts; the one Stripe never answered for is closed, not left pending.
        assert donations == [("succeeded", paid_session), ("failed", None)]
        assert events == {"evt_fault_1": "processed", "evt_fault_2": "parked"}
        assert "Traceback" not in app.log()
    finally:
        app.stop()
        forwarder.close()
