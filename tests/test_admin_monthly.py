"""Monthly donors in the dashboard: the list with every Stripe status, a donor's instalments, and
cancelling through the Stripe sandbox, shown as requested until Stripe's event arrives."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

import pytest
import requests
import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import (
    AuditLog,
    Donation,
    DonationKind,
    Goal,
    Role,
    Subscription,
    SubscriptionStatus,
)
from tests.admin_support import PASSWORD, make_user, post_form, sign_in_as, token_in
from tests.factories import make_goal, make_site

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard fixtures

_serial = count(1)
NEXT_PAYMENT = datetime(2026, 12, 20, 9, 30, tzinfo=UTC)


def monthly_gift(
    goal: Goal,
    *,
    status: SubscriptionStatus = SubscriptionStatus.ACTIVE,
    paid: int = 1,
    amount: int = 1_500,
    email: str = "reader@example.org",
    cancel_at_period_end: bool = False,
    stripe_id: str | None = None,
) -> Subscription:
    """A subscription row with `paid` settled instalments, as the webhooks would leave it."""
    subscription = Subscription(
        goal_id=goal.id,
        stripe_subscription_id=stripe_id or f"sub_test_{next(_serial)}",
        status=status,
        amount_minor=amount,
        currency=goal.currency,
        cancel_at_period_end=cancel_at_period_end,
        current_period_end=NEXT_PAYMENT,
        created_at=datetime(2026, 9, 20, 9, 30, tzinfo=UTC),
    )
    db.session.add(subscription)
    db.session.flush()
    if not paid:  # the opening gift waits for its first payment
        opening = ledger.create_pending_donation(
            goal, amount_minor=amount, kind=DonationKind.MONTHLY, donor_email=email, cause="test"
        )
        opening.subscription_id = subscription.id
        db.session.flush()
    for number in range(paid):
        donation = ledger.create_pending_donation(
            goal, amount_minor=amount, kind=DonationKind.MONTHLY, donor_email=email, cause="test"
        )
        ledger.settle_donation(
            donation.id,
            cause="test",
            payment_intent_id=f"pi_{subscription.stripe_subscription_id}_{number}",
            subscription_id=subscription.id,
        )
    return subscription


def test_the_list_shows_every_status_amount_dates_and_instalments(client, dashboard):
    d = dashboard
    shown = {
        SubscriptionStatus.ACTIVE: "active",
        SubscriptionStatus.TRIALING: "trialing",
        SubscriptionStatus.PAST_DUE: "past due (payment failing)",
        SubscriptionStatus.UNPAID: "unpaid",
        SubscriptionStatus.PAUSED: "paused",
        SubscriptionStatus.INCOMPLETE: "incomplete (first payment not made yet)",
        SubscriptionStatus.INCOMPLETE_EXPIRED: "never started (first payment failed)",
        SubscriptionStatus.CANCELED: "canceled",
    }
    for number, status in enumerate(shown, start=1):
        paid = 0 if status.value.startswith("incomplete") else number
        monthly_gift(d.goal_a, status=status, paid=paid, email=f"{status.value}@donor.example")
    monthly_gift(d.goal_a, cancel_at_period_end=True, paid=2, email="leaving@donor.example")
    monthly_gift(d.goal_b, email="other-site@donor.example")
    sign_in_as(client, d.viewer)

    page = client.get(f"/admin/sites/{d.site_a.id}/monthly")
    assert page.status_code == 200
    text = page.text
    assert "9 monthly gifts" in text
    for label in shown.values():
        assert f">{label}</span>" in text
    assert ">cancelling at period end</span>" in text
    assert "other-site@donor.example" not in text
    assert text.count("$15.00 a month") == 9
    assert "2026-09-20 09:30" in text  # started
    assert "2026-12-20 09:30" in text  # next payment
    assert "none (ends 2026-12-20 09:30)" in text  # the period-end one takes no further payment
    rows = text.split("<tr>")[2:]
    instalments = {
        row.split("@donor.example")[0].rsplit(">", 1)[-1]: row.rsplit('class="num">', 1)[1].split(
            "<"
        )[0]
        for row in rows
    }
    assert instalments["active"] == "1" and instalments["canceled"] == "8"
    assert instalments["leaving"] == "2" and instalments["incomplete"] == "0"


def test_the_list_filters_by_goal_and_links_from_the_overview(client, dashboard):
    d = dashboard
    other = make_goal(d.site_a, slug=f"other-{next(_serial)}", title="Court reporting")
    monthly_gift(d.goal_a, email="first@donor.example")
    monthly_gift(other, email="second@donor.example")
    sign_in_as(client, d.viewer)
    every = client.get(f"/admin/sites/{d.site_a.id}/monthly").text
    assert "first@donor.example" in every and "second@donor.example" in every
    one = client.get(f"/admin/sites/{d.site_a.id}/monthly?goal={other.id}").text
    assert "second@donor.example" in one and "first@donor.example" not in one
    foreign = client.get(f"/admin/sites/{d.site_a.id}/monthly?goal={d.goal_b.id}").text
    assert "first@donor.example" in foreign  # another site's goal is no filter here
    overview = client.get(f"/admin/sites/{d.site_a.id}/").text
    assert f"/monthly?goal={other.id}" in overview


def test_a_donors_page_lists_its_instalments(client, dashboard):
    d = dashboard
    subscription = monthly_gift(d.goal_a, paid=3, amount=2_000)
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/monthly/{subscription.id}")
    assert page.status_code == 200
    assert "$20.00 a month to" in page.text
    assert "3 ($60.00)" in page.text
    donations = db.session.execute(
        sa.select(Donation.id).where(Donation.subscription_id == subscription.id)
    ).scalars()
    for donation_id in donations:
        assert f"/donations/{donation_id}" in page.text
    assert "Cancel now" not in page.text  # a viewer sees no cancel buttons


def test_another_sites_subscription_does_not_exist_here(client, dashboard):
    d = dashboard
    theirs = monthly_gift(d.goal_b)
    sign_in_as(client, d.owner)
    assert client.get(f"/admin/sites/{d.site_a.id}/monthly/{theirs.id}").status_code == 404
    assert client.get(f"/admin/sites/{d.site_a.id}/monthly/99999999999").status_code == 404
    refused = post_form(
        client, f"/admin/sites/{d.site_a.id}/monthly/{theirs.id}/cancel", {"when": "now"}
    )
    assert refused.status_code == 404
    assert client.get(f"/admin/sites/{d.site_b.id}/monthly/{theirs.id}").status_code == 404
    db.session.expire_all()
    assert db.session.get(Subscription, theirs.id).status == SubscriptionStatus.ACTIVE


def test_a_viewer_may_not_cancel(client, dashboard):
    d = dashboard
    subscription = monthly_gift(d.goal_a)
    sign_in_as(client, d.viewer)
    refused = post_form(
        client, f"/admin/sites/{d.site_a.id}/monthly/{subscription.id}/cancel", {"when": "now"}
    )
    assert refused.status_code == 403
    assert (
        db.session.execute(
            sa.select(AuditLog.id).where(AuditLog.action.like("subscription%"))
        ).first()
        is None
    )


@pytest.fixture
def quiet_sandbox(app, monkeypatch):
    """The sandbox without webhooks: what Stripe answers, and nothing arriving afterwards."""
    from sandbox import start_in_thread

    handle = start_in_thread(
        port=0, webhook_url=None, webhook_secret="whsec_quiet", async_delay=None
    )
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", handle.url)
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_donate_quiet")
    app.extensions.pop("donate.stripe", None)
    try:
        yield handle
    finally:
        handle.stop()
        app.extensions.pop("donate.stripe", None)


@pytest.mark.parametrize("when", ["now", "period_end"])
def test_stripes_refusal_is_said_plainly_and_nothing_changes(
    client, dashboard, quiet_sandbox, when
):
    d = dashboard
    subscription = monthly_gift(d.goal_a, stripe_id="sub_unknown_to_stripe")
    before = (subscription.status, subscription.cancel_at_period_end, subscription.updated_at)
    sign_in_as(client, d.editor)
    done = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/monthly/{subscription.id}/cancel",
        {"when": when},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert (
        "Stripe refused to cancel this monthly gift: No such subscription: "
        "&#39;sub_unknown_to_stripe&#39; Nothing changed." in done.text
    )
    assert "cancellation requested" not in done.text
    db.session.expire_all()
    after = db.session.get(Subscription, subscription.id)
    assert (after.status, after.cancel_at_period_end, after.updated_at) == before
    assert (
        db.session.execute(
            sa.select(AuditLog.id).where(AuditLog.action.like("subscription%"))
        ).first()
        is None
    )


def test_an_ended_gift_is_not_sent_to_stripe_again(client, dashboard):
    d = dashboard
    subscription = monthly_gift(d.goal_a, status=SubscriptionStatus.CANCELED)
    sign_in_as(client, d.editor)
    page = client.get(f"/admin/sites/{d.site_a.id}/monthly/{subscription.id}")
    assert "Cancel now" not in page.text
    done = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/monthly/{subscription.id}/cancel",
        {"when": "now"},
        follow_redirects=True,
    )
    assert "This monthly gift has already ended; nothing changed." in done.text


# --- end to end through the sandbox ------------------------------------------------------------


def control(sandbox, path: str, **body) -> dict:
    response = requests.post(f"{sandbox.url}/_sandbox/{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def monthly_through_checkout(live_server, sandbox, slug: str) -> Subscription:
    """Give monthly through the widget's endpoint and pay on the sandbox's checkout page."""
    response = requests.post(
        f"{live_server.url}/give/{slug}",
        data={"amount_minor": "1500", "frequency": "monthly", "source_url": "https://x.example/a"},
        headers={"Origin": live_server.url},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 303, response.text
    session_id = response.headers["Location"].rsplit("/", 1)[-1]
    control(sandbox, f"checkout/sessions/{session_id}/pay", email="monthly@reader.example")
    assert sandbox.flush(timeout=30)
    db.session.expire_all()
    return db.session.execute(sa.select(Subscription)).scalar_one()


def signed_in(live_server, email: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{live_server.url}/admin/sign-in", timeout=30)
    answer = browser.post(
        f"{live_server.url}/admin/sign-in",
        data={"csrf_token": token_in(page.text), "email": email, "password": PASSWORD},
        timeout=30,
    )
    assert answer.ok
    return browser


def cancel(browser: requests.Session, page_url: str, when: str) -> requests.Response:
    page = browser.get(page_url, timeout=30)
    return browser.post(
        f"{page_url}/cancel", data={"csrf_token": token_in(page.text), "when": when}, timeout=30
    )


def hold_events(sandbox, monkeypatch) -> None:
    """Deliver the next events two seconds late, so the page can be read before they come."""
    monkeypatch.setattr("sandbox.store.random.uniform", lambda _low, high: high)
    control(sandbox, "chaos", api_key="sk_test_donate_e2e", late=2)


def cancel_rows(subscription_id: int) -> list[dict]:
    db.session.expire_all()
    return [
        entry.detail
        for entry in db.session.execute(
            sa.select(AuditLog)
            .where(AuditLog.subject == f"subscription:{subscription_id}")
            .order_by(AuditLog.id)
        ).scalars()
    ]


@pytest.mark.live
def test_cancel_at_period_end_then_now_through_stripe(live_server, stripe_sandbox, monkeypatch):
    site = make_site(name="Bridge Weekly")
    goal = make_goal(site, slug="bridge-monthly", maximum_minor=None)
    editor = make_user("editor@bridge.example", site=site, role=Role.EDITOR)
    db.session.commit()
    subscription = monthly_through_checkout(live_server, stripe_sandbox, goal.slug)
    assert subscription.status == SubscriptionStatus.ACTIVE
    browser = signed_in(live_server, "editor@bridge.example")
    page_url = f"{live_server.url}/admin/sites/{site.id}/monthly/{subscription.id}"

    hold_events(stripe_sandbox, monkeypatch)
    done = cancel(browser, page_url, "period_end")
    assert "Stripe accepted the cancellation at the end of the paid period" in done.text
    assert "cancellation at period end requested" in done.text
    assert ">active</span>" in done.text
    listed = browser.get(f"{live_server.url}/admin/sites/{site.id}/monthly", timeout=30).text
    assert "cancellation requested" in listed
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).cancel_at_period_end is False
    [row] = cancel_rows(subscription.id)
    assert row["when"] == "period_end" and row["cancel_at_period_end"] is True
    assert row["by"] == f"user:{editor.id}"

    assert stripe_sandbox.flush(timeout=30)  # customer.subscription.updated arrives
    page = browser.get(page_url, timeout=30).text
    assert ">cancelling at period end</span>" in page
    assert "requested" not in page
    assert "Cancel at the end of the period" not in page and "Cancel now" in page
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).cancel_at_period_end is True

    hold_events(stripe_sandbox, monkeypatch)
    done = cancel(browser, page_url, "now")
    assert "cancellation requested" in done.text
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).status == SubscriptionStatus.ACTIVE
    assert stripe_sandbox.flush(timeout=30)  # customer.subscription.deleted arrives
    page = browser.get(page_url, timeout=30).text
    assert ">canceled</span>" in page and "requested" not in page and "Cancel now" not in page
    db.session.expire_all()
    ended = db.session.get(Subscription, subscription.id)
    assert ended.status == SubscriptionStatus.CANCELED and ended.canceled_at is not None
    assert [row["when"] for row in cancel_rows(subscription.id)] == ["period_end", "now"]
    audit_page = browser.get(f"{live_server.url}/admin/sites/{site.id}/audit", timeout=30).text
    assert "subscription.cancel" in audit_page


@pytest.mark.live
def test_a_gift_stripe_already_ended_is_refused_with_stripes_reason(
    live_server, stripe_sandbox, monkeypatch
):
    site = make_site(name="Bridge Weekly")
    goal = make_goal(site, slug="bridge-ended", maximum_minor=None)
    make_user("owner@bridge.example", site=site, role=Role.OWNER)
    db.session.commit()
    subscription = monthly_through_checkout(live_server, stripe_sandbox, goal.slug)
    # The donor cancels in the portal; Stripe's event has not reached us yet.
    hold_events(stripe_sandbox, monkeypatch)
    control(stripe_sandbox, f"subscriptions/{subscription.stripe_subscription_id}/cancel")
    browser = signed_in(live_server, "owner@bridge.example")
    page_url = f"{live_server.url}/admin/sites/{site.id}/monthly/{subscription.id}"
    done = cancel(browser, page_url, "now")
    assert (
        f"Stripe refused to cancel this monthly gift: The subscription "
        f"{subscription.stripe_subscription_id} has already been canceled. Nothing changed."
    ) in done.text
    assert cancel_rows(subscription.id) == []
    assert stripe_sandbox.flush(timeout=30)
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).status == SubscriptionStatus.CANCELED


def test_every_status_stripe_python_knows_has_a_label():
    import typing

    import stripe

    from donate.admin.monthly_donors import CANCELLING, STATUS_LABELS

    literal, _other = typing.get_args(stripe.Subscription.__annotations__["status"])
    stripes = set(typing.get_args(literal))
    assert stripes == {status.value for status in SubscriptionStatus}
    assert set(STATUS_LABELS) == stripes | {CANCELLING}


def test_the_list_goes_fifty_to_a_page(client, dashboard):
    d = dashboard
    for number in range(51):
        monthly_gift(d.goal_a, paid=0, email=f"page-{number}@donor.example")
    sign_in_as(client, d.viewer)
    first = client.get(f"/admin/sites/{d.site_a.id}/monthly?goal={d.goal_a.id}").text
    assert "51 monthly gifts, page 1 of 2" in first
    assert first.count("<tr>") == 51  # the header and fifty rows
    assert f"/monthly?page=2&amp;goal={d.goal_a.id}" in first
    second = client.get(f"/admin/sites/{d.site_a.id}/monthly?page=2&goal={d.goal_a.id}").text
    assert second.count("<tr>") == 2 and "page-0@donor.example" in second


def test_a_gift_already_ending_is_not_scheduled_again(client, dashboard):
    d = dashboard
    subscription = monthly_gift(d.goal_a, cancel_at_period_end=True)
    sign_in_as(client, d.editor)
    page = client.get(f"/admin/sites/{d.site_a.id}/monthly/{subscription.id}").text
    assert "Cancel at the end of the period" not in page and "Cancel now" in page
    assert "<dt>Ends</dt>" in page
    done = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/monthly/{subscription.id}/cancel",
        {"when": "period_end"},
        follow_redirects=True,
    )
    assert "already ends, or was asked to end, at the end of its period" in done.text
