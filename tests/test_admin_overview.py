"""The overview: goal numbers, monthly donors, and what the webhook inbox says about Stripe."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from donate import ledger
from donate.extensions import db
from donate.models import (
    DonationKind,
    EventStatus,
    LedgerEntry,
    StripeEvent,
    Subscription,
    utcnow,
)
from tests.admin_support import sign_in_as

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures

NO_WEBHOOK = "No webhook from Stripe has arrived yet"


def event(
    event_id: str,
    *,
    livemode: bool = False,
    status=EventStatus.PROCESSED,
    age=None,
    type="checkout.session.completed",
    payload="{}",
):
    return StripeEvent(
        event_id=event_id,
        type=type,
        livemode=livemode,
        payload=payload,
        status=status,
        received_at=utcnow() - (age or timedelta(minutes=5)),
    )


def overview(client, d, *, operator: bool = True):
    """The overview of site A as its viewer sees it, as the instance operator by default."""
    d.viewer.is_operator = operator
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/")
    assert page.status_code == 200
    return page.text


def test_the_overview_lists_each_goal_with_its_numbers_and_monthly_donors(client, dashboard):
    d = dashboard
    for n, status in enumerate(["active", "active", "canceled"]):
        db.session.add(
            Subscription(
                goal_id=d.goal_a.id,
                stripe_subscription_id=f"sub_{n}",
                status=status,
                amount_minor=1_000,
                currency="USD",
            )
        )
    text = overview(client, d)
    row = text.split(d.goal_a.title, 1)[1].split("</tr>", 1)[0]
    cells = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r'<td[^>]*class="num"[^>]*>(.*?)</td>', row, re.S)
    ]
    assert cells == ["$25.00", "$5,000.00", "&lt;1%", "1", "1", "2"]
    assert "raised = succeeded payments minus refunds and lost disputes" in text.lower()


def test_before_any_gift_went_to_stripe_no_webhook_is_expected(client, dashboard):
    text = overview(client, dashboard)
    assert "test mode" in text
    assert NO_WEBHOOK not in text
    assert "stripe-setup" not in text


def _opened_at_stripe(dashboard, minutes_ago: int) -> None:
    donation = ledger.create_pending_donation(
        dashboard.goal_a, amount_minor=2_500, kind=DonationKind.ONE_TIME, cause="test"
    )
    donation.stripe_checkout_session_id = f"cs_test_overview_{minutes_ago}"
    donation.created_at = utcnow() - timedelta(minutes=minutes_ago)
    db.session.flush()


def test_a_gift_sent_to_stripe_a_while_ago_without_any_webhook_is_a_warning(
    client, dashboard, app, monkeypatch
):
    _opened_at_stripe(dashboard, minutes_ago=3)
    assert NO_WEBHOOK not in overview(client, dashboard)  # it may still be on its way
    _opened_at_stripe(dashboard, minutes_ago=30)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "")
    text = overview(client, dashboard)
    assert NO_WEBHOOK in text
    assert "http://127.0.0.1:5000/stripe/webhook" in text
    assert "stripe-setup" in text


def test_with_the_sandbox_the_warning_points_at_its_webhook_url(
    client, dashboard, app, monkeypatch
):
    _opened_at_stripe(dashboard, minutes_ago=30)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:12111")
    text = overview(client, dashboard)
    assert NO_WEBHOOK in text
    assert "--webhook-url" in text and "stripe-setup" not in text


def test_the_last_webhook_is_shown_and_the_warning_goes(client, dashboard):
    db.session.add(event("evt_old", age=timedelta(days=2)))
    db.session.add(event("evt_new"))
    text = overview(client, dashboard)
    assert NO_WEBHOOK not in text
    assert "Last webhook received" in text
    assert "livemode" not in text.lower() and "live-mode event" not in text


@pytest.mark.parametrize("key", ["sk_test_donate_tests", "sk_live_donate_tests"])
def test_events_of_the_other_mode_raise_a_warning(client, dashboard, app, monkeypatch, key):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", key)
    app.extensions.pop("donate.stripe", None)
    live = key.startswith("sk_live")
    db.session.add(event("evt_ours", livemode=live))
    db.session.add(event("evt_theirs", livemode=not live))
    db.session.add(event("evt_long_ago", livemode=not live, age=timedelta(days=30)))
    try:
        text = overview(client, dashboard)
    finally:
        app.extensions.pop("donate.stripe", None)
    ours, theirs = ("live", "test") if live else ("test", "live")
    assert f"Stripe runs in <strong>{ours} mode</strong>" in text
    assert f"1 {theirs}-mode event(s) arrived in the last 7 days" in text


def test_failed_events_are_reported(client, dashboard):
    db.session.add(event("evt_failed", status=EventStatus.FAILED))
    assert "1 Stripe event(s) could not be applied" in overview(client, dashboard)


def test_a_missing_stripe_key_is_reported(client, dashboard, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "")
    app.extensions.pop("donate.stripe", None)
    try:
        assert "No Stripe key is configured" in overview(client, dashboard)
    finally:
        app.extensions.pop("donate.stripe", None)


def _about(donation) -> str:
    """An event payload naming one of our donations in its object's metadata."""
    return json.dumps({"data": {"object": {"metadata": {"donate_donation_id": str(donation.id)}}}})


def _counted(goal, event_id: str) -> None:
    """A ledger entry caused by the event, as applying it writes."""
    db.session.add(LedgerEntry(goal_id=goal.id, action="settle", cause=f"stripe:{event_id}"))


def test_site_owners_never_see_other_sites_webhooks_or_instance_warnings(client, dashboard):
    d = dashboard
    db.session.add(event("evt_b", type="charge.dispute.created"))
    _counted(d.goal_b, "evt_b")
    db.session.add(event("evt_b_failed", status=EventStatus.FAILED, payload=_about(d.donation_b)))
    db.session.add(event("evt_nobody", status=EventStatus.FAILED))
    text = overview(client, d, operator=False)
    assert "test mode" in text
    assert "charge.dispute.created" not in text
    assert "could not be applied" not in text
    assert "Last webhook" not in text
    assert NO_WEBHOOK not in text and "stripe-setup" not in text


def test_site_owners_see_their_own_sites_last_event_and_failures(client, dashboard):
    d = dashboard
    db.session.add(event("evt_a_old", type="checkout.session.completed", age=timedelta(days=1)))
    _counted(d.goal_a, "evt_a_old")
    db.session.add(event("evt_a", type="charge.refunded"))
    _counted(d.goal_a, "evt_a")
    db.session.add(event("evt_b_newer", type="charge.dispute.created", age=timedelta(minutes=1)))
    _counted(d.goal_b, "evt_b_newer")
    db.session.add(event("evt_a_failed", status=EventStatus.FAILED, payload=_about(d.donation_a)))
    db.session.add(event("evt_b_failed", status=EventStatus.FAILED, payload=_about(d.donation_b)))
    text = overview(client, d, operator=False)
    assert "Last webhook about this site's gifts received" in text
    assert "(charge.refunded)" in text and "charge.dispute.created" not in text
    assert "1 Stripe event(s) about this site&#39;s gifts could not be applied" in text


def test_the_operator_role_is_granted_and_revoked_from_the_command_line(app, client, dashboard):
    d = dashboard
    db.session.add(event("evt_failed", status=EventStatus.FAILED))
    db.session.commit()
    runner = app.test_cli_runner()
    granted = runner.invoke(args=["donate", "grant-operator", "--email", d.viewer.email])
    assert granted.exit_code == 0, granted.output
    assert "instance operator" in granted.output
    sign_in_as(client, d.viewer)
    assert (
        "1 Stripe event(s) could not be applied" in client.get(f"/admin/sites/{d.site_a.id}/").text
    )
    revoked = runner.invoke(args=["donate", "revoke-operator", "--email", d.viewer.email])
    assert revoked.exit_code == 0, revoked.output
    assert "could not be applied" not in client.get(f"/admin/sites/{d.site_a.id}/").text
    unknown = runner.invoke(args=["donate", "grant-operator", "--email", "nobody@example.org"])
    assert unknown.exit_code != 0
    assert "There is no account for nobody@example.org." in unknown.output
