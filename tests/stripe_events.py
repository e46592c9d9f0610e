"""Signed Stripe events built from Stripe's published object shapes (fixtures/stripe)."""

from __future__ import annotations

import copy
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from donate.payments.stripe import sign_payload
from tests.conftest import WEBHOOK_SECRET

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stripe" / "fixtures3.json"
FOREIGN_EVENTS = FIXTURES.parent / "foreign-events"
_ids = itertools.count(1)


@cache
def _resources() -> dict[str, Any]:
    return json.loads(FIXTURES.read_text())["resources"]


def shape(name: str, **fields: Any) -> dict[str, Any]:
    """A copy of Stripe's sample object with the given fields overwritten."""
    obj = copy.deepcopy(_resources()[name])
    obj.update(fields)
    return obj


def new_id(prefix: str) -> str:
    return f"{prefix}_test{next(_ids):06d}"


def event(event_type: str, obj: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A Stripe event wrapping obj, in test mode."""
    return shape(
        "event",
        id=fields.pop("id", new_id("evt")),
        type=event_type,
        livemode=fields.pop("livemode", False),
        created=int(time.time()),
        data={"object": obj, **fields.pop("data_extra", {})},
        **fields,
    )


def post_event(client, evt: dict[str, Any] | str, *, secret: str = WEBHOOK_SECRET, header=None):
    """POST an event to the webhook as Stripe would, signed with our secret."""
    body = evt if isinstance(evt, str) else json.dumps(evt)
    signature = header if header is not None else sign_payload(body, secret)
    return client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def metadata(donation) -> dict[str, str]:
    return {"donate_donation_id": str(donation.id), "donate_goal": "x", "donate_source": ""}


def checkout_session(donation, *, paid: bool = True, mode: str = "payment", **fields: Any):
    """A completed Checkout Session for one of our donations."""
    values: dict[str, Any] = {
        "id": fields.pop("id", new_id("cs_test")),
        "mode": mode,
        "status": "complete",
        "payment_status": "paid" if paid else "unpaid",
        "client_reference_id": str(donation.id),
        "metadata": metadata(donation),
        "amount_total": donation.amount_minor,
        "currency": donation.currency.lower(),
        "customer": fields.pop("customer", new_id("cus")),
        "livemode": False,
        "payment_intent": fields.pop("payment_intent", new_id("pi") if mode == "payment" else None),
        "subscription": fields.pop(
            "subscription", new_id("sub") if mode == "subscription" else None
        ),
    }
    values.update(fields)
    return shape("checkout.session", **values)


def refund(payment_intent: str, amount: int, status: str = "succeeded", **fields: Any):
    return shape(
        "refund",
        id=fields.pop("id", new_id("re")),
        amount=amount,
        status=status,
        payment_intent=payment_intent,
        charge=fields.pop("charge", None),
        currency=fields.pop("currency", "usd"),
        **fields,
    )


def dispute(payment_intent: str, amount: int, status: str, **fields: Any):
    return shape(
        "dispute",
        id=fields.pop("id", new_id("dp")),
        amount=amount,
        status=status,
        payment_intent=payment_intent,
        charge=fields.pop("charge", new_id("ch")),
        currency=fields.pop("currency", "usd"),
        livemode=False,
        **fields,
    )


def invoice(
    subscription: str, donation, amount: int, *, payment_intent: str | None = None, **fields
):
    """A paid invoice of one of our monthly gifts, with its payment listed."""
    invoice_id = fields.pop("id", new_id("in"))
    payment = shape(
        "invoice_payment",
        id=new_id("inpay"),
        invoice=invoice_id,
        status="paid",
        amount_paid=amount,
        payment={
            "type": "payment_intent",
            "payment_intent": payment_intent or new_id("pi"),
            "charge": new_id("ch"),
        },
    )
    return shape(
        "invoice",
        id=invoice_id,
        amount_paid=amount,
        currency="usd",
        status="paid",
        livemode=False,
        customer=fields.pop("customer", new_id("cus")),
        billing_reason=fields.pop("billing_reason", "subscription_cycle"),
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": subscription, "metadata": metadata(donation)},
        },
        payments={"object": "list", "data": [payment], "has_more": False},
        **fields,
    )


@contextmanager
def stripe_stand_in(app, wsgi_app) -> Iterator[None]:  # noqa: ANN001
    """Point the app's Stripe gateway at a small WSGI stand-in for Stripe's API for the block."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    original = app.config["STRIPE_API_BASE"]
    app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{server.server_port}"
    app.extensions.pop("donate.stripe", None)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        app.config["STRIPE_API_BASE"] = original
        app.extensions.pop("donate.stripe", None)
