"""Giving end to end over real HTTP: the app, the Stripe library, the sandbox and its webhooks."""

from __future__ import annotations

import random
import re

import pytest
import requests
import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import Donation, DonationKind, DonationState, Goal, Subscription
from donate.widget.thank_you import read_gift
from tests.factories import make_goal

pytestmark = pytest.mark.live
ARTICLE = "http://localhost:8123/2026/11/council-budget"


@pytest.fixture
def goal(stripe_sandbox) -> Goal:
    goal = make_goal(slug="e2e-goal", maximum_minor=None)
    db.session.commit()
    return goal


def give(live_server, slug: str, *, ip: str | None = None, **form: str) -> requests.Response:
    """Post the widget's form as the frame would: our Origin, no cookies, no redirects followed."""
    form.setdefault("source_url", ARTICLE)
    headers = {"Origin": live_server.url}
    if ip:
        headers["X-Forwarded-For"] = ip
    return requests.post(
        f"{live_server.url}/give/{slug}",
        data=form,
        headers=headers,
        allow_redirects=False,
        timeout=30,
    )


def checkout_session_id(response: requests.Response) -> str:
    assert response.status_code == 303, response.text
    location = response.headers["Location"]
    assert "/pay/cs_" in location
    return location.rsplit("/", 1)[-1]


def control(sandbox, path: str, **body) -> dict:
    response = requests.post(f"{sandbox.url}/_sandbox/{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def pay(sandbox, session_id: str, outcome: str = "succeeded") -> dict:
    return control(
        sandbox, f"checkout/sessions/{session_id}/pay", outcome=outcome, email="reader@example.org"
    )


def csrf_token(page: requests.Response) -> str:
    """The CSRF token of a page's form, whichever order its attributes are in."""
    found = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page.text)
    assert found, page.text
    return re.search(r'value="([^"]+)"', found.group(0)).group(1)


def settled_totals(sandbox, goal_id: int) -> tuple[int, int, int]:
    """Totals once every webhook has been delivered (retries included)."""
    assert sandbox.flush(timeout=30)
    db.session.expire_all()
    goal = db.session.get(Goal, goal_id)
    return goal.raised_minor, goal.donation_count, goal.donor_count


def donation_for(session_id: str) -> Donation:
    db.session.expire_all()
    return db.session.execute(
        sa.select(Donation).where(Donation.stripe_checkout_session_id == session_id)
    ).scalar_one()


def test_give_once_pay_return_and_webhook_count_once(live_server, stripe_sandbox, goal):
    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="2500"))
    result = pay(stripe_sandbox, session_id)
    back = requests.get(result["redirect_url"], allow_redirects=False, timeout=30)
    assert back.status_code == 303
    location = back.headers["Location"]
    assert location.startswith(f"{ARTICLE}#donate-thanks={goal.slug}&t=")
    assert read_gift(location.split("&t=", 1)[1], goal.id) == donation_for(session_id).id
    again = requests.get(result["redirect_url"], allow_redirects=False, timeout=30)
    assert again.status_code == 303
    assert settled_totals(stripe_sandbox, goal.id) == (2_500, 1, 1)
    donation = donation_for(session_id)
    assert donation.state is DonationState.SUCCEEDED
    assert donation.stripe_payment_intent_id and donation.stripe_charge_id
    assert donation.donor_email == "reader@example.org"


def test_checkout_session_carries_what_stripe_needs(live_server, stripe_sandbox, goal):
    import stripe

    session_id = checkout_session_id(give(live_server, goal.slug, amount="12.50", locale="en"))
    client = stripe.StripeClient("sk_test_donate_e2e", base_addresses={"api": stripe_sandbox.url})
    session = client.v1.checkout.sessions.retrieve(session_id).to_dict()
    donation = donation_for(session_id)
    assert session["mode"] == "payment"
    assert session["submit_type"] == "donate"
    assert session["client_reference_id"] == str(donation.id)
    assert session["metadata"]["donate_donation_id"] == str(donation.id)
    assert session["amount_total"] == 1_250
    assert session["cancel_url"] == f"{ARTICLE}#donate-cancel={goal.slug}"
    assert "{CHECKOUT_SESSION_ID}" in session["success_url"]
    assert donation.state is DonationState.PENDING


def test_a_declined_card_changes_nothing(live_server, stripe_sandbox, goal):
    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="2500"))
    result = pay(stripe_sandbox, session_id, outcome="declined")
    assert result["outcome"] == "declined"
    assert settled_totals(stripe_sandbox, goal.id) == (0, 0, 0)
    assert donation_for(session_id).state is DonationState.PENDING


def test_an_expired_session_expires_the_donation(live_server, stripe_sandbox, goal):
    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="2500"))
    control(stripe_sandbox, f"checkout/sessions/{session_id}/expire")
    assert settled_totals(stripe_sandbox, goal.id) == (0, 0, 0)
    assert donation_for(session_id).state is DonationState.EXPIRED


def test_refund_half_then_a_failed_refund(live_server, stripe_sandbox, goal):
    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="5000"))
    pay(stripe_sandbox, session_id)
    assert settled_totals(stripe_sandbox, goal.id) == (5_000, 1, 1)
    pi = donation_for(session_id).stripe_payment_intent_id
    control(stripe_sandbox, f"payments/{pi}/refund", amount=2_500)
    assert settled_totals(stripe_sandbox, goal.id) == (2_500, 1, 1)
    second = control(stripe_sandbox, f"payments/{pi}/refund", amount=1_000)
    assert settled_totals(stripe_sandbox, goal.id) == (1_500, 1, 1)
    control(stripe_sandbox, f"refunds/{second['id']}/fail")
    assert settled_totals(stripe_sandbox, goal.id) == (2_500, 1, 1)


def test_lost_then_won_dispute(live_server, stripe_sandbox, goal):
    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="4000"))
    pay(stripe_sandbox, session_id)
    assert settled_totals(stripe_sandbox, goal.id)[0] == 4_000
    pi = donation_for(session_id).stripe_payment_intent_id
    dp = control(stripe_sandbox, f"payments/{pi}/dispute")
    assert settled_totals(stripe_sandbox, goal.id)[0] == 4_000
    control(stripe_sandbox, f"disputes/{dp['id']}/lose")
    assert settled_totals(stripe_sandbox, goal.id)[0] == 0
    control(stripe_sandbox, f"disputes/{dp['id']}/reverse")
    assert settled_totals(stripe_sandbox, goal.id)[0] == 4_000


def test_monthly_gift_advance_and_cancel_through_the_portal(app, live_server, stripe_sandbox, goal):
    setup = app.test_cli_runner().invoke(args=["donate", "stripe-setup", "--portal-only"])
    assert setup.exit_code == 0, setup.output
    session_id = checkout_session_id(
        give(live_server, goal.slug, amount_minor="1500", frequency="monthly")
    )
    result = pay(stripe_sandbox, session_id)
    with requests.Session() as browser:
        thanks = browser.get(result["redirect_url"], timeout=30)
        assert thanks.status_code == 200
        assert "Manage or cancel my monthly gift" in thanks.text
        # The first month is counted once, whichever of return page and webhooks came first.
        assert settled_totals(stripe_sandbox, goal.id) == (1_500, 1, 1)
        subscription = db.session.execute(sa.select(Subscription)).scalar_one()
        control(stripe_sandbox, f"subscriptions/{subscription.stripe_subscription_id}/advance")
        assert settled_totals(stripe_sandbox, goal.id) == (3_000, 2, 1)

        # The donor opens the Customer Portal from the thank-you page and cancels at period end.
        page = browser.get(result["redirect_url"], timeout=30)
        assert "Manage or cancel my monthly gift" in page.text  # a reload keeps the grant
        portal = browser.post(
            f"{live_server.url}/give/portal",
            data={"csrf_token": csrf_token(page)},
            allow_redirects=False,
            timeout=30,
        )
        assert portal.status_code == 303
        portal_url = portal.headers["Location"]
        assert "/portal/" in portal_url
        assert subscription.stripe_subscription_id in browser.get(portal_url, timeout=30).text
        cancelled = browser.post(
            portal_url,
            data={
                "subscription": subscription.stripe_subscription_id,
                "action": "cancel_at_period_end",
            },
            timeout=30,
        )
        assert cancelled.status_code == 200
    assert stripe_sandbox.flush(timeout=30)
    db.session.expire_all()
    assert db.session.execute(sa.select(Subscription.cancel_at_period_end)).scalar_one() is True
    control(stripe_sandbox, f"subscriptions/{subscription.stripe_subscription_id}/advance")
    assert settled_totals(stripe_sandbox, goal.id) == (3_000, 2, 1)
    db.session.expire_all()
    subscription = db.session.execute(sa.select(Subscription)).scalar_one()
    assert subscription.status == "canceled"
    instalments = db.session.execute(
        sa.select(sa.func.count(Donation.id)).where(
            Donation.kind == DonationKind.MONTHLY, Donation.state == DonationState.SUCCEEDED
        )
    ).scalar_one()
    assert instalments == 2


def test_refund_of_a_monthly_instalment_finds_it(live_server, stripe_sandbox, goal):
    session_id = checkout_session_id(
        give(live_server, goal.slug, amount_minor="2000", frequency="monthly")
    )
    pay(stripe_sandbox, session_id)
    subscription_id = (
        settled_totals(stripe_sandbox, goal.id)
        and db.session.execute(sa.select(Subscription.stripe_subscription_id)).scalar_one()
    )
    advanced = control(stripe_sandbox, f"subscriptions/{subscription_id}/advance")
    assert settled_totals(stripe_sandbox, goal.id) == (4_000, 2, 1)
    second = db.session.execute(
        sa.select(Donation).where(Donation.stripe_invoice_id == advanced["invoice"]["id"])
    ).scalar_one()
    assert second.stripe_payment_intent_id and second.stripe_charge_id
    control(stripe_sandbox, f"payments/{second.stripe_charge_id}/refund")
    assert settled_totals(stripe_sandbox, goal.id) == (2_000, 2, 1)


def test_a_webhook_retry_after_a_failed_apply_is_applied(
    live_server, stripe_sandbox, goal, app, monkeypatch
):
    """While Stripe's API is unreachable from the app, charge.refunded fails; a retry applies it."""
    import time

    from donate.models import EventStatus, StripeEvent
    from sandbox import RetryPolicy

    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="3000"))
    pay(stripe_sandbox, session_id)
    assert settled_totals(stripe_sandbox, goal.id) == (3_000, 1, 1)
    pi = donation_for(session_id).stripe_payment_intent_id
    stripe_sandbox.sandbox.deliverer.policy = RetryPolicy(
        first_delay=1.0, factor=1.0, max_delay=1.0, max_attempts=30
    )
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    app.extensions.pop("donate.stripe", None)
    control(stripe_sandbox, f"payments/{pi}/refund", amount=1_000)

    def charge_refunded() -> StripeEvent | None:
        db.session.expire_all()
        return db.session.execute(
            sa.select(StripeEvent).where(StripeEvent.type == "charge.refunded")
        ).scalar_one_or_none()

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        row = charge_refunded()
        if row is not None and row.status is EventStatus.FAILED:
            break
        time.sleep(0.05)
    assert row is not None and row.status is EventStatus.FAILED
    assert "PaymentProviderError" in row.error
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", stripe_sandbox.url)
    app.extensions.pop("donate.stripe", None)
    assert settled_totals(stripe_sandbox, goal.id) == (2_000, 1, 1)
    row = charge_refunded()
    assert row.status is EventStatus.PROCESSED
    assert row.attempts >= 2
    deliveries = requests.get(
        f"{stripe_sandbox.url}/_sandbox/deliveries", params={"event": row.event_id}, timeout=30
    ).json()["data"]
    statuses = [attempt.get("status") for attempt in deliveries[0]["attempts"]]
    assert statuses[0] == 500 and statuses[-1] == 200


def test_chaos_two_hundred_gifts_end_exact(live_server, stripe_sandbox, goal, app, monkeypatch):
    """Duplicated, shuffled, late deliveries: totals equal what was paid less what was refunded."""
    monkeypatch.setitem(app.config, "GIVE_RATE_LIMIT_PER_IP", "10000 per minute")
    monkeypatch.setitem(app.config, "GIVE_RATE_LIMIT_PER_NETWORK", "10000 per minute")
    control(stripe_sandbox, "chaos", duplicate=True, shuffle=True, late=0.05)
    rng = random.Random(2026)
    expected = 0
    refunds: list[tuple[str, int]] = []
    sessions = []
    for _ in range(200):
        amount = rng.choice([500, 1_000, 2_500, 5_000, 12_345])
        sessions.append(
            (checkout_session_id(give(live_server, goal.slug, amount_minor=str(amount))), amount)
        )
    for session_id, amount in sessions:
        if rng.random() < 0.1:
            pay(stripe_sandbox, session_id, outcome="declined")
            continue
        pay(stripe_sandbox, session_id)
        expected += amount
    assert stripe_sandbox.flush(timeout=120)
    db.session.expire_all()
    paid = db.session.execute(
        sa.select(Donation.stripe_payment_intent_id, Donation.amount_minor).where(
            Donation.state == DonationState.SUCCEEDED
        )
    ).all()
    for pi, amount in paid[:40]:
        part = amount // 2
        control(stripe_sandbox, f"payments/{pi}/refund", amount=part)
        refunds.append((pi, part))
    raised, count, _donors = settled_totals(stripe_sandbox, goal.id)
    assert count == len(paid)
    assert raised == expected - sum(part for _pi, part in refunds)
    assert not ledger.recount(db.session.get(Goal, goal.id), cause="check", repair=False).found
