"""Cover the fees over real HTTP: the widget's post, the Stripe library, the sandbox, webhooks."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import stripe

from donate.extensions import db
from donate.models import Donation, DonationState, Goal, Subscription
from tests.factories import make_goal, make_site
from tests.test_payments_e2e import (
    checkout_session_id,
    control,
    donation_for,
    give,
    pay,
    settled_totals,
)

pytestmark = pytest.mark.live


@pytest.fixture
def goal(stripe_sandbox) -> Goal:
    goal = make_goal(
        make_site(default_currency="EUR"),
        slug="fee-goal",
        maximum_minor=None,
        fee_cover_enabled=True,
        fee_cover_basis_points=290,
        fee_cover_fixed_minor=30,
    )
    db.session.commit()
    return goal


def _stripe(sandbox) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_donate_e2e", base_addresses={"api": sandbox.url})


def _line_items(sandbox, session_id: str) -> list[dict]:
    page = _stripe(sandbox).v1.checkout.sessions.line_items.list(session_id).to_dict()
    return page["data"]


def test_a_gift_with_fee_cover_sends_two_line_items_and_counts_both(
    live_server, stripe_sandbox, goal
):
    # The client's figure for the fee is never read: only cover_fees=1 and the saved rule count.
    response = give(
        live_server, goal.slug, amount_minor="2500", cover_fees="1", fee_cover_minor="1"
    )
    session_id = checkout_session_id(response)
    items = _line_items(stripe_sandbox, session_id)
    assert [(i["description"], i["amount_total"]) for i in items] == [
        ("Keep the newsroom going", 2_500),
        ("Contribution to fees", 106),  # ceil((2500 + 30) / 0.971) - 2500
    ]
    assert all(i["price"]["recurring"] is None for i in items)
    session = _stripe(stripe_sandbox).v1.checkout.sessions.retrieve(session_id).to_dict()
    assert session["amount_total"] == 2_606
    donation = donation_for(session_id)
    assert (donation.amount_minor, donation.fee_cover_minor) == (2_606, 106)
    pay(stripe_sandbox, session_id)
    assert settled_totals(stripe_sandbox, goal.id) == (2_606, 1, 1)
    assert donation_for(session_id).state is DonationState.SUCCEEDED


def test_without_the_box_there_is_one_line_item(live_server, stripe_sandbox, goal):
    session_id = checkout_session_id(give(live_server, goal.slug, amount="12.50"))
    assert [i["amount_total"] for i in _line_items(stripe_sandbox, session_id)] == [1_250]
    assert donation_for(session_id).fee_cover_minor == 0


def test_the_fee_line_is_named_in_the_donors_language(live_server, stripe_sandbox, goal):
    session_id = checkout_session_id(
        give(live_server, goal.slug, amount_minor="1000", cover_fees="1", locale="de")
    )
    names = [i["description"] for i in _line_items(stripe_sandbox, session_id)]
    assert names[1] == "Beitrag zu den Gebühren"


def test_a_monthly_gift_carries_a_recurring_fee_line_into_each_month(
    live_server, stripe_sandbox, goal
):
    session_id = checkout_session_id(
        give(live_server, goal.slug, amount_minor="1000", frequency="monthly", cover_fees="on")
    )
    items = _line_items(stripe_sandbox, session_id)
    assert [i["amount_total"] for i in items] == [1_000, 61]  # ceil(1030 / 0.971) - 1000
    assert [i["price"]["recurring"]["interval"] for i in items] == ["month", "month"]
    pay(stripe_sandbox, session_id)
    assert settled_totals(stripe_sandbox, goal.id) == (1_061, 1, 1)
    subscription = db.session.execute(sa.select(Subscription)).scalar_one()
    assert (subscription.amount_minor, subscription.fee_cover_minor) == (1_061, 61)
    advanced = control(
        stripe_sandbox, f"subscriptions/{subscription.stripe_subscription_id}/advance"
    )
    assert advanced["invoice"]["amount_paid"] == 1_061
    assert settled_totals(stripe_sandbox, goal.id) == (2_122, 2, 1)
    rows = db.session.execute(
        sa.select(Donation.amount_minor, Donation.fee_cover_minor).order_by(Donation.id)
    ).all()
    assert [tuple(row) for row in rows] == [(1_061, 61), (1_061, 61)]


def test_the_sandbox_totals_several_items_and_refuses_what_stripe_refuses(stripe_sandbox):
    client = _stripe(stripe_sandbox)
    base = {"success_url": "https://example.org/ok", "cancel_url": "https://example.org/back"}

    def line(amount: int, **recurring: str) -> dict:
        data: dict = {"currency": "eur", "unit_amount": amount, "product_data": {"name": "x"}}
        if recurring:
            data["recurring"] = recurring
        return {"price_data": data, "quantity": 1}

    session = client.v1.checkout.sessions.create(
        {**base, "mode": "payment", "line_items": [line(2_500), line(106)]}
    )
    assert session.amount_total == 2_606
    refused = [
        # Over Stripe's eight digits together, though each item is within them.
        {"mode": "payment", "line_items": [line(99_999_999), line(1)]},
        # A recurring fee line in payment mode.
        {"mode": "payment", "line_items": [line(2_500), line(108, interval="month")]},
        # A one-time fee line beside a monthly gift.
        {"mode": "subscription", "line_items": [line(1_000, interval="month"), line(62)]},
        # A fee line billed on another interval than the gift.
        {
            "mode": "subscription",
            "line_items": [line(1_000, interval="month"), line(62, interval="year")],
        },
    ]
    for params in refused:
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.checkout.sessions.create({**base, **params})  # type: ignore[arg-type]
