"""Operator commands that talk to Stripe, run against the sandbox."""

from __future__ import annotations

import pytest
import requests
import sqlalchemy as sa
import stripe

from donate.extensions import db
from donate.models import Donation, DonationKind, Goal, StripeEvent
from donate.payments.stripe import WEBHOOK_EVENTS
from tests.factories import make_goal, make_offline_gift
from tests.test_payments_e2e import checkout_session_id, control, give, pay

pytestmark = pytest.mark.live


def _client(sandbox) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_donate_e2e", base_addresses={"api": sandbox.url})


def test_stripe_setup_creates_then_updates(app, live_server, stripe_sandbox):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["donate", "stripe-setup"])
    assert first.exit_code == 0, first.output
    assert "Created webhook endpoint" in first.output
    assert "signing secret, shown only now: whsec_" in first.output
    endpoints = _client(stripe_sandbox).v1.webhook_endpoints.list().to_dict()["data"]
    assert len(endpoints) == 1
    assert endpoints[0]["url"] == f"{live_server.url}/stripe/webhook"
    assert set(endpoints[0]["enabled_events"]) == set(WEBHOOK_EVENTS)
    portal = _client(stripe_sandbox).v1.billing_portal.configurations.list().to_dict()["data"]
    ours = [c for c in portal if (c.get("metadata") or {}).get("donate") == "portal"]
    assert ours[0]["features"]["subscription_cancel"]["mode"] == "at_period_end"
    assert ours[0]["login_page"]["enabled"] is True

    second = runner.invoke(args=["donate", "stripe-setup"])
    assert second.exit_code == 0, second.output
    assert "Updated webhook endpoint" in second.output
    assert "whsec_" not in second.output
    assert len(_client(stripe_sandbox).v1.webhook_endpoints.list().to_dict()["data"]) == 1


def test_reconcile_applies_what_webhooks_missed_and_is_safe_to_repeat(
    app, live_server, stripe_sandbox, monkeypatch
):
    goal = make_goal(slug="reconcile-me", maximum_minor=None)
    make_offline_gift(goal, 10_000, kind=DonationKind.DEMO)
    db.session.commit()
    # Every delivery is refused (a wrong secret on our side), as if webhooks were down.
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", "whsec_rotated_by_mistake")
    paid = []
    for amount in ("1000", "2500", "4000"):
        session_id = checkout_session_id(give(live_server, goal.slug, amount_minor=amount))
        pay(stripe_sandbox, session_id)
        paid.append(session_id)
    expired = checkout_session_id(give(live_server, goal.slug, amount_minor="700"))
    control(stripe_sandbox, f"checkout/sessions/{expired}/expire")
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).raised_minor == 10_000

    runner = app.test_cli_runner()
    result = runner.invoke(args=["donate", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "session: 4 seen, 3 applied." in result.output
    db.session.expire_all()
    goal = db.session.get(Goal, goal.id)
    assert (goal.raised_minor, goal.donation_count) == (10_000 + 7_500, 4)
    states = dict(
        db.session.execute(sa.select(Donation.stripe_checkout_session_id, Donation.state)).all()
    )
    assert states[expired].value == "expired"

    # A refund made while webhooks are still down is found on the next run; the rerun adds nothing.
    pi = db.session.execute(
        sa.select(Donation.stripe_payment_intent_id).where(
            Donation.stripe_checkout_session_id == paid[0]
        )
    ).scalar_one()
    control(stripe_sandbox, f"payments/{pi}/refund", amount=400)
    again = runner.invoke(args=["donate", "reconcile"])
    assert again.exit_code == 0, again.output
    assert "refund: 1 seen, 1 applied." in again.output
    third = runner.invoke(args=["donate", "reconcile"])
    assert "refund: 1 seen, 0 applied." in third.output
    assert "Totals match the ledger." in third.output
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).raised_minor == 10_000 + 7_500 - 400


def test_replay_event_applies_a_stored_event_again_without_double_counting(
    app, live_server, stripe_sandbox
):
    goal = make_goal(slug="replay-me")
    db.session.commit()
    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="1500"))
    pay(stripe_sandbox, session_id)
    assert stripe_sandbox.flush(timeout=30)
    event_id = db.session.execute(
        sa.select(StripeEvent.event_id).where(StripeEvent.type == "checkout.session.completed")
    ).scalar_one()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["donate", "replay-event", event_id])
    assert result.exit_code == 0, result.output
    assert event_id in result.output
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).raised_minor == 1_500


def test_replay_event_fetches_an_event_we_never_stored(app, live_server, stripe_sandbox):
    goal = make_goal(slug="replay-fetch")
    db.session.commit()
    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="1500"))
    pay(stripe_sandbox, session_id)
    assert stripe_sandbox.flush(timeout=30)
    events = _client(stripe_sandbox).v1.events.list({"type": "charge.succeeded"}).to_dict()["data"]
    db.session.execute(sa.delete(StripeEvent).where(StripeEvent.event_id == events[0]["id"]))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["donate", "replay-event", events[0]["id"]])
    assert result.exit_code == 0, result.output
    assert (
        db.session.execute(
            sa.select(StripeEvent.status).where(StripeEvent.event_id == events[0]["id"])
        )
        .scalar_one()
        .value
        == "processed"
    )


def test_replay_event_refuses_a_bad_id(app, committed_db):
    result = app.test_cli_runner().invoke(args=["donate", "replay-event", "nonsense"])
    assert result.exit_code == 1
    assert "not a Stripe event id" in result.output


def test_sandbox_dashboard_is_reachable(stripe_sandbox):
    assert requests.get(f"{stripe_sandbox.url}/_sandbox", timeout=10).status_code == 200


def test_stripe_setup_portal_only_stores_the_configuration_and_makes_no_endpoint(
    app, live_server, stripe_sandbox
):
    from donate.models import InstanceSetting

    runner = app.test_cli_runner()
    result = runner.invoke(args=["donate", "stripe-setup", "--portal-only"])
    assert result.exit_code == 0, result.output
    assert "webhook" not in result.output.lower()
    assert _client(stripe_sandbox).v1.webhook_endpoints.list().to_dict()["data"] == []
    configurations = _client(stripe_sandbox).v1.billing_portal.configurations.list().data
    stored = db.session.execute(
        sa.select(InstanceSetting.value).where(InstanceSetting.key == "portal_configuration_test")
    ).scalar_one()
    assert [c.id for c in configurations] == [stored]
    login_url = db.session.execute(
        sa.select(InstanceSetting.value).where(InstanceSetting.key == "portal_login_url_test")
    ).scalar_one()
    assert login_url == configurations[0].login_page.url == f"{stripe_sandbox.url}/p/login/{stored}"

    again = runner.invoke(args=["donate", "stripe-setup", "--portal-only"])
    assert again.exit_code == 0, again.output
    assert f"Updated Customer Portal configuration {stored}" in again.output
    assert len(_client(stripe_sandbox).v1.billing_portal.configurations.list().data) == 1


def test_without_a_portal_configuration_the_donor_gets_a_sentence_not_a_500(
    app, live_server, stripe_sandbox
):
    goal = make_goal(slug="no-portal", maximum_minor=None, monthly_enabled=True)
    db.session.commit()
    session_id = checkout_session_id(
        give(live_server, goal.slug, amount_minor="1500", frequency="monthly")
    )
    result = pay(stripe_sandbox, session_id)
    with requests.Session() as browser:
        page = browser.get(result["redirect_url"], timeout=30)
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        portal = browser.post(
            f"{live_server.url}/give/portal",
            data={"csrf_token": token, "session_id": session_id},
            allow_redirects=False,
            timeout=30,
        )
    assert portal.status_code == 503
    assert "Managing a monthly gift online is not set up here yet" in portal.text
    # Nothing was asked of Stripe's portal: no session, no implicit default configuration.
    assert _client(stripe_sandbox).v1.billing_portal.configurations.list().data == []
