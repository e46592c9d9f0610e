"""Reconcile and replay-event against the sandbox while Stripe's webhooks never reach us."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
import stripe

from donate.extensions import db
from donate.models import (
    Donation,
    DonationKind,
    DonationState,
    EventStatus,
    Goal,
    InstanceSetting,
    StripeEvent,
    Subscription,
)
from tests.factories import make_goal
from tests.stripe_events import checkout_session, event, post_event
from tests.test_payments_e2e import checkout_session_id, control, give, pay

pytestmark = pytest.mark.live
API_KEY = "sk_test_donate_reconcile"


@pytest.fixture
def silent_sandbox(app, live_server, monkeypatch):
    """The sandbox with its webhooks pointed at a closed port: no event ever reaches the app."""
    from sandbox import RetryPolicy, start_in_thread

    handle = start_in_thread(
        port=0,
        webhook_url="http://127.0.0.1:9/stripe/webhook",
        webhook_secret="whsec_nobody_listens",
        retry=RetryPolicy(first_delay=0.01, factor=1, max_delay=0.01, max_attempts=1),
        async_delay=None,
    )
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", handle.url)
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", API_KEY)
    app.extensions.pop("donate.stripe", None)
    try:
        yield handle
    finally:
        handle.stop()
        app.extensions.pop("donate.stripe", None)


def _stripe(sandbox) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": sandbox.url})


def _totals(goal_id: int) -> tuple[int, int]:
    db.session.expire_all()
    goal = db.session.get(Goal, goal_id)
    return goal.raised_minor, goal.donation_count


def _gift(live_server, sandbox, slug: str, amount: str, **form: str) -> str:
    session_id = checkout_session_id(give(live_server, slug, amount_minor=amount, **form))
    pay(sandbox, session_id)
    assert sandbox.flush(timeout=30)
    return session_id


def test_reconcile_counts_missed_one_time_and_monthly_gifts_once(app, live_server, silent_sandbox):
    goal = make_goal(slug="missed-gifts", maximum_minor=None)
    db.session.commit()
    _gift(live_server, silent_sandbox, goal.slug, "2500")
    _gift(live_server, silent_sandbox, goal.slug, "1500", frequency="monthly")
    assert _totals(goal.id) == (0, 0)
    assert db.session.execute(sa.select(StripeEvent.id)).first() is None

    runner = app.test_cli_runner()
    first = runner.invoke(args=["donate", "reconcile"])
    assert first.exit_code == 0, first.output
    assert "invoice: 1 seen, 1 applied." in first.output
    assert _totals(goal.id) == (4_000, 2)
    # The session linked the subscription (incomplete here); Stripe has it active.
    subscription = db.session.execute(sa.select(Subscription)).scalar_one()
    assert subscription.status == "active"

    second = runner.invoke(args=["donate", "reconcile"])
    assert second.exit_code == 0, second.output
    assert "session: 2 seen, 0 applied." in second.output
    assert "invoice: 1 seen, 0 applied." in second.output
    assert "subscription: 1 seen, 0 applied." in second.output
    assert _totals(goal.id) == (4_000, 2)


def test_reconcile_brings_a_subscription_changed_during_an_outage_up_to_date(
    app, live_server, silent_sandbox
):
    goal = make_goal(slug="outage-monthly", maximum_minor=None)
    db.session.commit()
    _gift(live_server, silent_sandbox, goal.slug, "1500", frequency="monthly")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["donate", "reconcile"]).exit_code == 0
    stripe_id = db.session.execute(sa.select(Subscription.stripe_subscription_id)).scalar_one()
    control(silent_sandbox, f"subscriptions/{stripe_id}/cancel", at_period_end=True)
    assert silent_sandbox.flush(timeout=30)

    result = runner.invoke(args=["donate", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "subscription: 1 seen, 1 applied." in result.output
    db.session.expire_all()
    assert db.session.execute(sa.select(Subscription.cancel_at_period_end)).scalar_one() is True


def test_replay_event_applies_a_missed_invoice_event(app, live_server, silent_sandbox):
    goal = make_goal(slug="replay-invoice", maximum_minor=None)
    db.session.commit()
    _gift(live_server, silent_sandbox, goal.slug, "1500", frequency="monthly")
    paid = _stripe(silent_sandbox).v1.events.list({"type": "invoice.paid"}).data
    result = app.test_cli_runner().invoke(args=["donate", "replay-event", paid[0].id])
    assert result.exit_code == 0, result.output
    assert "processed" in result.output
    assert _totals(goal.id) == (1_500, 1)
    stored = db.session.execute(
        sa.select(StripeEvent.payload).where(StripeEvent.event_id == paid[0].id)
    ).scalar_one()
    assert json.loads(stored)["type"] == "invoice.paid"


def test_reconcile_exits_1_when_stripe_cannot_be_reached(app, committed_db):
    goal = make_goal(slug="unreachable")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["donate", "reconcile"])
    assert result.exit_code == 1
    assert "Stripe could not be read" in result.output
    assert "Traceback" not in result.output
    assert _totals(goal.id) == (0, 0)


def test_reconcile_exits_2_when_totals_had_drifted(app, live_server, silent_sandbox):
    goal = make_goal(slug="drifted")
    db.session.commit()
    db.session.execute(sa.update(Goal).where(Goal.id == goal.id).values(raised_minor=999))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["donate", "reconcile"])
    assert result.exit_code == 2, result.output
    assert "raised_minor was 999, the ledger says 0; repaired." in result.output
    again = app.test_cli_runner().invoke(args=["donate", "reconcile"])
    assert again.exit_code == 0, again.output


def test_reconcile_exits_2_while_a_stored_event_still_fails(
    app, live_server, silent_sandbox, monkeypatch
):
    from donate.payments import events

    goal = make_goal(slug="still-failing")
    donation = _pending(goal, 1_000)
    body = event("checkout.session.completed", checkout_session(donation))
    db.session.add(
        StripeEvent(
            event_id=body["id"],
            type=body["type"],
            payload=json.dumps(body),
            status=EventStatus.FAILED,
            error="OperationalError: the database went away",
        )
    )
    db.session.commit()

    def broken(*_args, **_kwargs):
        raise RuntimeError("the ledger is still broken")

    working = events.ledger.settle_donation
    monkeypatch.setattr(events.ledger, "settle_donation", broken)
    result = app.test_cli_runner().invoke(args=["donate", "reconcile"])
    assert result.exit_code == 2, result.output
    assert f"{body['id']} could not be applied" in result.output

    monkeypatch.setattr(events.ledger, "settle_donation", working)
    fixed = app.test_cli_runner().invoke(args=["donate", "reconcile"])
    assert fixed.exit_code == 0, fixed.output
    assert "stored event: 1 seen, 1 applied." in fixed.output
    assert _totals(goal.id) == (1_000, 1)


def _pending(goal: Goal, amount_minor: int) -> Donation:
    from donate import ledger

    return ledger.create_pending_donation(
        goal, amount_minor=amount_minor, kind=DonationKind.ONE_TIME, cause="test"
    )


def test_a_new_public_url_still_recognises_our_own_payments(
    app, live_server, silent_sandbox, monkeypatch
):
    goal = make_goal(slug="moved-instance", maximum_minor=None)
    db.session.commit()
    _gift(live_server, silent_sandbox, goal.slug, "2500")
    stored_id = db.session.execute(
        sa.select(InstanceSetting.value).where(InstanceSetting.key == "instance_id")
    ).scalar_one()

    # A deploy under another address, or a shell without the app's PUBLIC_URL.
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://give.example.org")
    app.extensions.pop("donate.stripe", None)
    result = app.test_cli_runner().invoke(args=["donate", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "session: 1 seen, 1 applied." in result.output
    assert _totals(goal.id) == (2_500, 1)
    session = _stripe(silent_sandbox).v1.checkout.sessions.list().data[0]
    assert session.metadata["donate_instance"] == stored_id


def test_replay_event_reapplies_an_ignored_event(app, client):
    goal = make_goal(slug="ignored-then-ours")
    donation = _pending(goal, 1_000)
    session = checkout_session(donation)
    session["metadata"]["donate_instance"] = "0123456789ab"
    body = event("checkout.session.completed", session)
    assert post_event(client, body).status_code == 200
    row = db.session.execute(
        sa.select(StripeEvent).where(StripeEvent.event_id == body["id"])
    ).scalar_one()
    assert row.status == EventStatus.IGNORED
    assert db.session.get(Donation, donation.id).state == DonationState.PENDING

    # The operator restores the id the instance had when it opened that session.
    from donate.payments.instance import instance_id

    instance_id()
    db.session.execute(
        sa.update(InstanceSetting)
        .where(InstanceSetting.key == "instance_id")
        .values(value="0123456789ab")
    )
    result = app.test_cli_runner().invoke(args=["donate", "replay-event", body["id"]])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Donation, donation.id).state == DonationState.SUCCEEDED
    assert db.session.get(StripeEvent, row.id).status == EventStatus.PROCESSED


def test_without_a_stored_id_the_instance_takes_the_one_its_applied_sessions_carry(
    app, client, monkeypatch
):
    """Seeded from what Stripe knows us by, not from whatever PUBLIC_URL this shell has."""
    from donate.payments.instance import instance_id, legacy_instance_id

    goal = make_goal(slug="seeded-from-events")
    donation = _pending(goal, 1_000)
    session = checkout_session(donation)
    session["metadata"]["donate_instance"] = legacy_instance_id("https://give.example.org")
    db.session.add(
        StripeEvent(
            event_id="evt_applied_before",
            type="checkout.session.completed",
            payload=json.dumps(event("checkout.session.completed", session)),
            status=EventStatus.PROCESSED,
        )
    )
    db.session.execute(sa.delete(InstanceSetting))
    monkeypatch.setitem(app.config, "PUBLIC_URL", "http://127.0.0.1:5000")
    assert instance_id() == legacy_instance_id("https://give.example.org")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://elsewhere.example.org")
    assert instance_id() == legacy_instance_id("https://give.example.org")
