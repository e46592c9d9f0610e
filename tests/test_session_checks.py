"""A completed Checkout Session settles a gift only when it is the one we opened, in full."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import Donation, DonationKind, DonationState, EventStatus, StripeEvent
from tests.factories import make_goal
from tests.stripe_events import checkout_session, event, metadata, post_event, shape


def _pending(amount_minor: int) -> Donation:
    goal = make_goal(maximum_minor=None)
    return ledger.create_pending_donation(
        goal, amount_minor=amount_minor, kind=DonationKind.ONE_TIME, cause="test"
    )


def _outcome(client, session: dict) -> tuple[DonationState, EventStatus]:
    db.session.expire_all()
    body = event("checkout.session.completed", session)
    assert post_event(client, body).status_code == 200
    db.session.expire_all()
    donation_id = int(session["metadata"]["donate_donation_id"])
    status = db.session.execute(
        sa.select(StripeEvent.status).where(StripeEvent.event_id == body["id"])
    ).scalar_one()
    return db.session.get(Donation, donation_id).state, status


def test_a_signed_session_naming_only_our_donation_id_settles_nothing(client):
    donation = _pending(1_000_000)
    bare = shape("checkout.session", metadata=metadata(donation), payment_status="paid")
    for field in ("id", "currency", "amount_total", "client_reference_id"):
        bare[field] = None
    bare["mode"] = "payment"
    assert _outcome(client, bare) == (DonationState.PENDING, EventStatus.IGNORED)


@pytest.mark.parametrize("missing", ["id", "currency", "amount_total"])
def test_a_session_lacking_its_id_currency_or_amount_settles_nothing(client, missing):
    donation = _pending(2_500)
    session = checkout_session(donation)
    del session[missing]
    assert _outcome(client, session) == (DonationState.PENDING, EventStatus.IGNORED)


def test_a_session_other_than_the_one_we_opened_settles_nothing(client):
    donation = _pending(2_500)
    ledger.link_stripe_ids(donation.id, stripe_checkout_session_id="cs_test_the_one_we_opened")
    session = checkout_session(donation, id="cs_test_another_one")
    assert _outcome(client, session) == (DonationState.PENDING, EventStatus.IGNORED)


def test_the_session_we_opened_with_its_amount_and_currency_settles(client):
    donation = _pending(2_500)
    ledger.link_stripe_ids(donation.id, stripe_checkout_session_id="cs_test_ours")
    session = checkout_session(donation, id="cs_test_ours")
    assert _outcome(client, session) == (DonationState.SUCCEEDED, EventStatus.PROCESSED)
