"""The Stripe webhook endpoint: verify the signature, then hand the event to the inbox."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from donate.extensions import csrf
from donate.payments import inbox
from donate.payments.events import EventApplier
from donate.payments.stripe import InvalidSignature, gateway, verify_event

webhooks = Blueprint("webhooks", __name__)


@webhooks.post("/stripe/webhook")
@csrf.exempt
def receive_event() -> tuple[Response, int]:
    """400 for anything Stripe did not sign; 200 once stored and applied; 500 asks for a retry."""
    payload = request.get_data(cache=False)
    try:
        event = verify_event(
            payload,
            request.headers.get("Stripe-Signature"),
            current_app.config["STRIPE_WEBHOOK_SECRET"],
        )
    except InvalidSignature as error:
        return jsonify(error="invalid signature", message=str(error)), 400
    receipt = inbox.receive(event, payload.decode("utf-8"), EventApplier(gateway()))
    return jsonify(message=receipt.message), receipt.http_status
