"""Refunds from the dashboard: the form's limits, the request to Stripe, and end to end through
the Stripe sandbox, where the total drops only when Stripe's refund event arrives."""

from __future__ import annotations

import re

import pytest
import requests
import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import AuditLog, Donation, DonationKind, Goal, Refund, RefundStatus, Role
from tests.admin_support import (
    PASSWORD,
    make_user,
    post_form,
    sign_in_as,
    token_in,
)
from tests.factories import make_goal, make_site

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures

ARTICLE = "http://localhost:8123/2026/11/bridge-repairs"


def card_gift(goal: Goal, amount: int) -> Donation:
    donation = ledger.create_pending_donation(
        goal, amount_minor=amount, kind=DonationKind.ONE_TIME, cause="test"
    )
    ledger.settle_donation(donation.id, cause="evt", payment_intent_id=f"pi_test_{donation.id}")
    return db.session.get(Donation, donation.id)


def request_key(page_text: str) -> str:
    return re.search(r'name="request_key" type="hidden" value="([^"]+)"', page_text).group(1)


class FakeGateway:
    """Records refund requests instead of calling Stripe."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def create_refund(self, **params):
        self.calls.append(params)
        return {"id": f"re_fake_{len(self.calls)}", "status": "pending"}


@pytest.fixture
def fake_gateway(monkeypatch):
    fake = FakeGateway()
    monkeypatch.setattr("donate.admin.refunds.gateway", lambda: fake)
    return fake


def test_a_refund_is_sent_to_stripe_with_a_key_from_our_ids(client, dashboard, fake_gateway):
    d = dashboard
    gift = card_gift(d.goal_a, 5_000)
    sign_in_as(client, d.editor)
    page = client.get(f"/admin/sites/{d.site_a.id}/donations/{gift.id}")
    assert "Up to $50.00 can be refunded" in page.text
    key = request_key(page.text)
    response = client.post(
        f"/admin/sites/{d.site_a.id}/donations/{gift.id}/refund",
        data={
            "csrf_token": token_in(page.data),
            "request_key": key,
            "amount": "12.5",
            "reason": "duplicate",
        },
        follow_redirects=True,
    )
    assert "Stripe is refunding $12.50" in response.text
    assert "The goal&#39;s total changes when Stripe confirms" in response.text
    assert fake_gateway.calls == [
        {
            "payment_intent": f"pi_test_{gift.id}",
            "amount_stripe": 1_250,
            "idempotency_key": f"refund-{gift.id}-{key}",
            "reason": "duplicate",
            "refund_row_id": db.session.execute(sa.select(Refund.id)).scalar_one(),
        }
    ]
    entry = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "refund.answer")
    ).scalar_one()
    assert entry.detail["stripe_refund_id"] == "re_fake_1"
    assert entry.actor == f"user:{d.editor.id}"
    db.session.expire_all()
    assert db.session.get(Goal, d.goal_a.id).raised_minor == 2_500 + 5_000  # not yet


def test_an_empty_amount_refunds_what_remains_in_stripes_units(client, db_session, fake_gateway):
    site = make_site(default_currency="ISK")
    goal = make_goal(site, minimum_minor=100, maximum_minor=None, presets_minor=[])
    gift = card_gift(goal, 5_000)
    ledger.record_refund(
        gift, stripe_refund_id="re_old", amount_minor=1_000, status="pending", cause="evt"
    )
    sign_in_as(client, make_user(site=site, role=Role.EDITOR))
    response = post_form(
        client,
        f"/admin/sites/{site.id}/donations/{gift.id}/refund",
        {"request_key": "k" * 24, "amount": "", "reason": "duplicate"},
    )
    assert response.status_code == 302
    # 4,000 ISK remain (a pending refund is already on its way); Stripe counts ISK in hundredths.
    assert fake_gateway.calls[0]["amount_stripe"] == 400_000


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("50.01", "At most $50.00 can be refunded."),
        ("a lot", "Please enter the amount in digits"),
        ("-5", "greater than zero"),
    ],
)
def test_the_refund_form_refuses_what_cannot_be_refunded(
    client, dashboard, fake_gateway, amount, message
):
    d = dashboard
    gift = card_gift(d.goal_a, 5_000)
    sign_in_as(client, d.editor)
    response = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/donations/{gift.id}/refund",
        {"request_key": "k" * 24, "amount": amount, "reason": "duplicate"},
    )
    assert response.status_code == 422
    assert message in response.text
    assert fake_gateway.calls == []


def test_offline_gifts_and_forged_keys_are_not_refunded(client, dashboard, fake_gateway):
    d = dashboard
    sign_in_as(client, d.editor)
    offline = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/donations/{d.donation_a.id}/refund",
        {"request_key": "k" * 24, "amount": "", "reason": "duplicate"},
    )
    assert offline.status_code == 422
    assert "Nothing is left to refund on this donation." in offline.text
    gift = card_gift(d.goal_a, 5_000)
    forged = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/donations/{gift.id}/refund",
        {"request_key": "<script>", "amount": "", "reason": "duplicate"},
    )
    assert forged.status_code == 422
    assert fake_gateway.calls == []


def test_an_unreachable_stripe_keeps_the_refund_reserved_and_says_it_may_have_gone_through(
    client, dashboard
):
    d = dashboard
    gift = card_gift(d.goal_a, 5_000)
    sign_in_as(client, d.editor)
    url = f"/admin/sites/{d.site_a.id}/donations/{gift.id}"
    response = post_form(
        client, f"{url}/refund", {"request_key": "k" * 24, "amount": "10", "reason": "duplicate"}
    )
    assert response.status_code == 302
    page = client.get(url).text
    assert "the refund of $10.00 may have gone through" in page
    assert "Check with Stripe" in page
    assert "Up to $40.00 can be refunded" in page
    row = db.session.execute(sa.select(Refund)).scalar_one()
    assert (row.status, row.amount_minor, row.stripe_refund_id) == (
        RefundStatus.REQUESTED,
        1_000,
        None,
    )
    # Reloading the answer (the same key) asks nothing again.
    again = post_form(
        client, f"{url}/refund", {"request_key": "k" * 24, "amount": "10", "reason": "duplicate"}
    )
    assert again.status_code == 302
    assert "already asked for; it is requested" in client.get(url).text
    assert db.session.execute(sa.select(sa.func.count(Refund.id))).scalar_one() == 1


# --- end to end through the sandbox ------------------------------------------------------------


def sandbox_control(sandbox, path: str, **body) -> dict:
    response = requests.post(f"{sandbox.url}/_sandbox/{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def paid_gift(live_server, sandbox, slug: str, amount_minor: int) -> None:
    """Give through the widget's endpoint and pay on the sandbox's checkout page."""
    response = requests.post(
        f"{live_server.url}/give/{slug}",
        data={"amount_minor": str(amount_minor), "source_url": ARTICLE},
        headers={"Origin": live_server.url},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 303, response.text
    session_id = response.headers["Location"].rsplit("/", 1)[-1]
    sandbox_control(sandbox, f"checkout/sessions/{session_id}/pay", email="reader@example.org")
    assert sandbox.flush(timeout=30)


def raised(goal_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Goal, goal_id).raised_minor


@pytest.mark.live
def test_a_refund_from_the_dashboard_lowers_the_total_when_stripe_confirms(
    live_server, stripe_sandbox
):
    site = make_site(name="Bridge Weekly")
    goal = make_goal(site, slug="bridge-repairs", maximum_minor=None)
    make_user("editor@bridge.example", site=site, role=Role.EDITOR)
    db.session.commit()
    paid_gift(live_server, stripe_sandbox, goal.slug, 5_000)
    assert raised(goal.id) == 5_000
    donation = db.session.execute(sa.select(Donation)).scalar_one()

    browser = requests.Session()
    base = f"{live_server.url}/admin/sites/{site.id}"
    page = browser.get(f"{live_server.url}/admin/sign-in", timeout=30)
    signed_in = browser.post(
        f"{live_server.url}/admin/sign-in",
        timeout=30,
        data={
            "csrf_token": token_in(page.text),
            "email": "editor@bridge.example",
            "password": PASSWORD,
        },
    )
    assert signed_in.ok

    page = browser.get(f"{base}/donations/{donation.id}", timeout=30)
    form = {
        "csrf_token": token_in(page.text),
        "request_key": request_key(page.text),
        "amount": "20.00",
        "reason": "requested_by_customer",
    }
    done = browser.post(f"{base}/donations/{donation.id}/refund", data=form, timeout=30)
    assert "total changes when Stripe confirms" in done.text
    assert stripe_sandbox.flush(timeout=30)
    assert raised(goal.id) == 3_000

    # The same form sent twice (a double click) reaches Stripe with the same key: one refund.
    browser.post(f"{base}/donations/{donation.id}/refund", data=form, timeout=30)
    assert stripe_sandbox.flush(timeout=30)
    assert raised(goal.id) == 3_000

    page = browser.get(f"{base}/donations/{donation.id}", timeout=30)
    assert "Up to $30.00 can be refunded" in page.text
    rest = {
        "csrf_token": token_in(page.text),
        "request_key": request_key(page.text),
        "amount": "",
        "reason": "requested_by_customer",
    }
    browser.post(f"{base}/donations/{donation.id}/refund", data=rest, timeout=30)
    assert stripe_sandbox.flush(timeout=30)
    assert raised(goal.id) == 0
    refunds = db.session.execute(sa.select(Refund).order_by(Refund.id)).scalars().all()
    assert [(r.amount_minor, r.status) for r in refunds] == [
        (2_000, RefundStatus.SUCCEEDED),
        (3_000, RefundStatus.SUCCEEDED),
    ]
    page = browser.get(f"{base}/donations/{donation.id}", timeout=30)
    assert "Refund through Stripe" not in page.text
    assert "charge.refunded" in page.text  # the inbox's events are in the history


# --- refunds asked twice ------------------------------------------------------------------------


def test_a_refund_counts_against_the_gift_as_soon_as_stripe_accepts_it(
    client, dashboard, fake_gateway
):
    d = dashboard
    gift = card_gift(d.goal_a, 5_000)
    sign_in_as(client, d.editor)
    url = f"/admin/sites/{d.site_a.id}/donations/{gift.id}"
    post_form(
        client, f"{url}/refund", {"request_key": "a" * 24, "amount": "12.50", "reason": "duplicate"}
    )
    row = db.session.execute(sa.select(Refund)).scalar_one()
    assert (row.stripe_refund_id, row.amount_minor, row.status, row.last_cause) == (
        "re_fake_1",
        1_250,
        RefundStatus.PENDING,
        f"user:{d.editor.id}",
    )
    assert "Up to $37.50 can be refunded" in client.get(url).text
    everything = {"request_key": "b" * 24, "amount": "", "reason": "duplicate"}
    assert post_form(client, f"{url}/refund", everything).status_code == 302
    again = post_form(client, f"{url}/refund", everything)  # the same form, sent twice
    assert again.status_code == 302
    assert "This refund of $37.50 was already asked for" in client.get(url).text
    assert [call["amount_stripe"] for call in fake_gateway.calls] == [1_250, 3_750]


def test_a_refund_asked_meanwhile_is_checked_again_under_the_lock(app, dashboard, fake_gateway):
    from flask_login import login_user

    from donate.admin import refunds

    d = dashboard
    gift = card_gift(d.goal_a, 5_000)
    with app.test_request_context():
        login_user(d.editor)
        first = refunds.request_refund(gift, amount_minor=3_000, reason="", request_key="a" * 24)
        assert first.status == RefundStatus.PENDING
        # A second tab loaded before the first refund: its form still offered $50.00.
        with pytest.raises(refunds.RefundRefused, match=r"Only \$20\.00 is left to refund"):
            refunds.request_refund(gift, amount_minor=3_000, reason="", request_key="b" * 24)
    assert len(fake_gateway.calls) == 1
    assert refunds.refundable_minor(gift) == 2_000


@pytest.mark.live
def test_refunds_from_two_tabs_or_a_double_submit_never_exceed_the_gift(
    live_server, stripe_sandbox, monkeypatch
):
    site = make_site(name="Bridge Weekly")
    goal = make_goal(site, slug="bridge-repairs", maximum_minor=None)
    make_user("editor@bridge.example", site=site, role=Role.EDITOR)
    db.session.commit()
    paid_gift(live_server, stripe_sandbox, goal.slug, 5_000)
    donation = db.session.execute(sa.select(Donation)).scalar_one()
    # Stripe's refund events arrive two seconds late: only what the dashboard stored counts.
    monkeypatch.setattr("sandbox.store.random.uniform", lambda _low, high: high)
    sandbox_control(stripe_sandbox, "chaos", api_key="sk_test_donate_e2e", late=2)

    browser = requests.Session()
    base = f"{live_server.url}/admin/sites/{site.id}/donations/{donation.id}"
    page = browser.get(f"{live_server.url}/admin/sign-in", timeout=30)
    browser.post(
        f"{live_server.url}/admin/sign-in",
        timeout=30,
        data={
            "csrf_token": token_in(page.text),
            "email": "editor@bridge.example",
            "password": PASSWORD,
        },
    )
    tabs = [browser.get(base, timeout=30).text for _ in range(2)]
    assert all("Up to $50.00 can be refunded" in tab for tab in tabs)

    def submit(tab: str, amount: str) -> requests.Response:
        form = {
            "csrf_token": token_in(tab),
            "request_key": request_key(tab),
            "amount": amount,
            "reason": "requested_by_customer",
        }
        return browser.post(f"{base}/refund", data=form, timeout=30)

    assert submit(tabs[0], "30.00").ok
    second_tab = submit(tabs[1], "30.00")
    assert second_tab.status_code == 422
    assert "At most $20.00 can be refunded." in second_tab.text
    rest = browser.get(base, timeout=30).text
    assert submit(rest, "").ok
    double = submit(rest, "")  # the same form again: answered from our row, Stripe not asked
    assert double.ok
    assert "This refund of $20.00 was already asked for" in double.text

    assert stripe_sandbox.flush(timeout=30)
    assert raised(goal.id) == 0
    refunds = db.session.execute(sa.select(Refund).order_by(Refund.id)).scalars().all()
    assert [(r.amount_minor, r.status) for r in refunds] == [
        (3_000, RefundStatus.SUCCEEDED),
        (2_000, RefundStatus.SUCCEEDED),
    ]
