"""A refund parked before its payment is applied when the payment settles, and the call to
Stripe that it needs is made with nothing locked: never across the settling transaction."""

from __future__ import annotations

import json

import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import Donation, DonationKind, EventStatus, Goal, StripeEvent
from tests.factories import make_goal
from tests.stripe_events import (
    checkout_session,
    event,
    metadata,
    new_id,
    post_event,
    refund,
    shape,
    stripe_stand_in,
)


class _StripeThatTriesToWrite:
    """Answers the refund list, after checking from another connection that the donation's row
    can be written at that moment (a lock held across the call would make that fail)."""

    def __init__(self, url: str, donation_id: int, refunds: list[dict]) -> None:
        self.donation_id = donation_id
        self.refunds = refunds
        self.writable_when_asked: list[bool] = []
        options = {"timeout": 0.3} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=options)

    def _can_write(self) -> bool:
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(sa.text("SET LOCAL lock_timeout = '300ms'"))
                connection.execute(
                    sa.update(Donation)
                    .where(Donation.id == self.donation_id)
                    .values(note=Donation.note)
                )
            return True
        except sa.exc.OperationalError:
            return False

    def __call__(self, environ, start_response):
        self.writable_when_asked.append(self._can_write())
        body = json.dumps(
            {"object": "list", "url": "/v1/refunds", "has_more": False, "data": self.refunds}
        ).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]


def test_a_parked_refund_is_applied_after_the_payment_commits(app, committed_db):
    goal = make_goal(slug="parked-refund")
    donation = ledger.create_pending_donation(
        goal, amount_minor=10_000, kind=DonationKind.ONE_TIME, cause="test"
    )
    db.session.commit()
    payment_intent, charge_id = new_id("pi"), new_id("ch")
    made = refund(payment_intent, 4_000, charge=charge_id, metadata={})
    stripe = _StripeThatTriesToWrite(
        str(db.engine.url.render_as_string(False)), donation.id, [made]
    )
    client = app.test_client()
    with stripe_stand_in(app, stripe):
        # Since API 2022-11-15 a charge no longer lists its refunds: applying needs Stripe.
        refunded = shape(
            "charge",
            id=charge_id,
            payment_intent=payment_intent,
            amount=10_000,
            amount_refunded=4_000,
            refunded=False,
            currency="usd",
            metadata=metadata(donation),
            livemode=False,
            refunds=None,
        )
        early = event("charge.refunded", refunded)
        assert post_event(client, early).status_code == 200
        db.session.expire_all()
        row = db.session.execute(
            sa.select(StripeEvent).where(StripeEvent.event_id == early["id"])
        ).scalar_one()
        assert row.status is EventStatus.PARKED

        paid = checkout_session(donation, payment_intent=payment_intent)
        assert post_event(client, event("checkout.session.completed", paid)).status_code == 200

    db.session.expire_all()
    assert stripe.writable_when_asked == [True]
    assert db.session.get(Goal, goal.id).raised_minor == 6_000
    assert db.session.get(Donation, donation.id).refunded_minor == 4_000
    row = db.session.execute(
        sa.select(StripeEvent).where(StripeEvent.event_id == early["id"])
    ).scalar_one()
    assert row.status is EventStatus.PROCESSED


class _StripeWhileThePaymentSettles(_StripeThatTriesToWrite):
    """Asked whose payment it is, settles the payment meanwhile (as the return page might) and
    says it is ours; asked for the refunds, checks nothing is locked and lists them."""

    def __init__(self, url, donation_id, refunds, settle) -> None:
        super().__init__(url, donation_id, refunds)
        self.settle = settle
        self.intent = {}

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].startswith("/v1/payment_intents/"):
            self.settle()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(self.intent).encode()]
        return super().__call__(environ, start_response)


def test_a_refund_whose_payment_settles_while_it_is_applied_asks_stripe_unlocked(app, committed_db):
    goal = make_goal(slug="settles-meanwhile")
    donation = ledger.create_pending_donation(
        goal, amount_minor=10_000, kind=DonationKind.ONE_TIME, cause="test"
    )
    db.session.commit()
    payment_intent, charge_id = new_id("pi"), new_id("ch")
    made = refund(payment_intent, 2_500, charge=charge_id, metadata={})
    paid = checkout_session(donation, payment_intent=payment_intent)

    def settle() -> None:
        assert (
            post_event(app.test_client(), event("checkout.session.completed", paid)).status_code
            == 200
        )

    stripe = _StripeWhileThePaymentSettles(
        str(db.engine.url.render_as_string(False)), donation.id, [made], settle
    )
    stripe.intent = shape(
        "payment_intent",
        id=payment_intent,
        amount=10_000,
        currency="usd",
        metadata=metadata(donation),
        livemode=False,
    )
    with stripe_stand_in(app, stripe):
        # No metadata on the charge: only Stripe can say the payment is ours.
        refunded = shape(
            "charge",
            id=charge_id,
            payment_intent=payment_intent,
            amount=10_000,
            amount_refunded=2_500,
            refunded=False,
            currency="usd",
            metadata={},
            livemode=False,
            refunds=None,
        )
        assert post_event(app.test_client(), event("charge.refunded", refunded)).status_code == 200

    db.session.expire_all()
    assert stripe.writable_when_asked and all(stripe.writable_when_asked)
    assert db.session.get(Goal, goal.id).raised_minor == 7_500
    assert db.session.get(Donation, donation.id).refunded_minor == 2_500
