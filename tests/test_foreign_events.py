"""Events of other integrations on the same Stripe account: kept, answered 200, never parked."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import stripe

from donate.extensions import db
from donate.models import Donation, EventStatus, Goal, StripeEvent
from tests.factories import make_goal
from tests.stripe_events import dispute, event, new_id, post_event, refund, shape, stripe_stand_in
from tests.test_payments_e2e import checkout_session_id, control, give, pay, settled_totals

pytestmark = pytest.mark.live


def _stored(event_id: str) -> StripeEvent:
    db.session.expire_all()
    return db.session.execute(
        sa.select(StripeEvent).where(StripeEvent.event_id == event_id)
    ).scalar_one()


def _foreign_charge(**fields) -> dict:
    return shape(
        "charge",
        id=fields.pop("id", new_id("ch")),
        payment_intent=fields.pop("payment_intent", new_id("pi")),
        amount=5_000,
        currency="usd",
        metadata={},
        livemode=False,
        **fields,
    )


def _foreign_invoice(metadata: dict) -> dict:
    invoice_id = new_id("in")
    return shape(
        "invoice",
        id=invoice_id,
        amount_paid=5_000,
        currency="usd",
        status="paid",
        livemode=False,
        customer=new_id("cus"),
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": new_id("sub"), "metadata": metadata},
        },
        payments={"object": "list", "data": [], "has_more": False},
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: event("charge.succeeded", _foreign_charge()),
        lambda: event("charge.refunded", _foreign_charge(amount_refunded=5_000, refunded=True)),
        lambda: event("refund.created", refund(new_id("pi"), 5_000, charge=new_id("ch"))),
        lambda: event("charge.dispute.created", dispute(new_id("pi"), 5_000, "needs_response")),
        lambda: event("invoice.paid", _foreign_invoice({})),
    ],
    ids=["charge.succeeded", "charge.refunded", "refund.created", "dispute", "invoice.paid"],
)
def test_an_event_about_an_object_stripe_does_not_have_is_ignored_not_parked(
    app, stripe_sandbox, build
):
    foreign = build()
    response = post_event(app.test_client(), foreign)
    assert response.status_code == 200, response.get_data(as_text=True)
    row = _stored(foreign["id"])
    assert row.status is EventStatus.IGNORED
    assert row.parked_on is None
    assert "Stripe has no" in row.error


def test_an_invoice_of_another_instance_is_ignored_without_asking_stripe(app, committed_db):
    # Stripe is unreachable here (a closed port): the metadata alone settles it.
    foreign = event("invoice.paid", _foreign_invoice({"donate_instance": "0123456789ab"}))
    assert post_event(app.test_client(), foreign).status_code == 200
    row = _stored(foreign["id"])
    assert row.status is EventStatus.IGNORED
    assert "not for a monthly gift opened by donate" in row.error


def test_a_payment_link_sale_and_its_refund_on_the_same_account_are_ignored(
    app, live_server, stripe_sandbox
):
    """Another integration's Checkout (no metadata of ours): its events are not ours, not parked."""
    goal = make_goal(slug="shared-account")
    db.session.commit()
    other = stripe.StripeClient("sk_test_donate_e2e", base_addresses={"api": stripe_sandbox.url})
    session = other.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "usd",
                        "unit_amount": 3_000,
                        "product_data": {"name": "T-shirt"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "https://shop.example.org/thanks",
        }
    )
    paid = pay(stripe_sandbox, session.id)
    payment_intent = paid["session"]["payment_intent"]
    control(stripe_sandbox, f"payments/{payment_intent}/refund")
    assert settled_totals(stripe_sandbox, goal.id) == (0, 0, 0)
    rows = db.session.execute(sa.select(StripeEvent.type, StripeEvent.status)).all()
    by_type = {event_type: status for event_type, status in rows}
    for event_type in ("charge.succeeded", "charge.refunded", "refund.created"):
        assert by_type[event_type] is EventStatus.IGNORED, event_type
    assert EventStatus.PARKED not in by_type.values()
    assert EventStatus.FAILED not in by_type.values()


def test_an_instalment_charge_without_our_metadata_is_still_ours(app, live_server, stripe_sandbox):
    """The first month's charge.succeeded arrives before invoice.paid and names only Stripe ids."""
    goal = make_goal(slug="instalment-charge", maximum_minor=None)
    db.session.commit()
    session_id = checkout_session_id(
        give(live_server, goal.slug, amount_minor="2000", frequency="monthly")
    )
    pay(stripe_sandbox, session_id)
    assert settled_totals(stripe_sandbox, goal.id) == (2_000, 1, 1)
    charge = db.session.execute(
        sa.select(StripeEvent).where(StripeEvent.type == "charge.succeeded")
    ).scalar_one()
    assert '"donate_' not in charge.payload.split('"metadata"', 1)[1].split("}", 1)[0]
    assert charge.status is EventStatus.PROCESSED
    donation = db.session.execute(sa.select(Donation)).scalar_one()
    control(stripe_sandbox, f"payments/{donation.stripe_charge_id}/refund", amount=500)
    assert settled_totals(stripe_sandbox, goal.id) == (1_500, 1, 1)


def test_stripe_unreachable_keeps_the_event_and_asks_for_a_retry(app, committed_db):
    """invoice.paid needs Stripe to know whose it is: unreachable is a 500, and the row stays."""
    foreign = event("invoice.paid", _foreign_invoice({}))
    response = post_event(app.test_client(), foreign)
    assert response.status_code == 500
    row = _stored(foreign["id"])
    assert row.status is EventStatus.FAILED
    assert "PaymentProviderError" in row.error
    assert db.session.execute(sa.select(sa.func.sum(Goal.raised_minor))).scalar() is None


class _StripeThatLooksAtTheInbox:
    """A stand-in for Stripe's API that notes whether the event was stored (and committed) before
    the app asked, as seen from another connection, then answers `resource_missing`."""

    def __init__(self, engine, event_id: str) -> None:
        self.engine = engine
        self.event_id = event_id
        self.stored_when_asked: list[bool] = []

    def __call__(self, environ, start_response):
        with self.engine.connect() as connection:
            found = connection.execute(
                sa.select(StripeEvent.id).where(StripeEvent.event_id == self.event_id)
            ).first()
        self.stored_when_asked.append(found is not None)
        body = (
            b'{"error": {"type": "invalid_request_error", "code": "resource_missing", '
            b'"message": "No such subscription"}}'
        )
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [body]


def test_the_event_is_committed_before_stripe_is_asked(app, committed_db):
    foreign = event("invoice.paid", _foreign_invoice({}))
    spy = _StripeThatLooksAtTheInbox(db.engine, foreign["id"])
    with stripe_stand_in(app, spy):
        assert post_event(app.test_client(), foreign).status_code == 200
    assert spy.stored_when_asked == [True]
    assert _stored(foreign["id"]).status is EventStatus.IGNORED
