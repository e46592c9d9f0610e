"""Dashboard refunds outside database locks, over HTTP, through the Stripe sandbox: no lock while
Stripe answers, a timeout after Stripe refunded keeps the money reserved and is settled by
Stripe's event or by listing, and the same money is never refunded twice."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import sqlalchemy as sa

from donate.extensions import db
from donate.models import Donation, Refund, RefundStatus, Role
from tests.admin_support import PASSWORD, make_user, token_in
from tests.factories import make_goal, make_site
from tests.test_admin_refunds import paid_gift, raised, request_key, sandbox_control

pytestmark = pytest.mark.live


class StripeInTheMiddle:
    """A proxy in front of the sandbox: it can run a check before a refund reaches Stripe, and
    it can let Stripe make the refund but never pass the answer back (a timeout after sending)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.swallow_refunds = False
        self.before_refund = lambda: None
        self.refund_posts = 0
        self.release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def _forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                is_refund = method == "POST" and self.path.startswith("/v1/refunds")
                if is_refund:
                    proxy.refund_posts += 1
                    proxy.before_refund()
                headers = {
                    key: value
                    for key, value in self.headers.items()
                    if key.lower() not in ("host", "content-length", "connection")
                }
                answer = requests.request(
                    method, proxy.upstream + self.path, data=body, headers=headers, timeout=30
                )
                if is_refund and proxy.swallow_refunds:
                    proxy.release.wait(15)  # Stripe refunded; its answer never comes back
                    self.close_connection = True
                    return
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() in ("content-type", "request-id", "idempotency-key"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._forward("GET")

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self._forward("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def middle(app, stripe_sandbox, monkeypatch):
    """The app talks to Stripe through the proxy, with a one-second timeout."""
    proxy = StripeInTheMiddle(stripe_sandbox.url)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", proxy.url)
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 1)
    app.extensions.pop("donate.stripe", None)
    yield proxy
    proxy.stop()
    app.extensions.pop("donate.stripe", None)


class Dashboard:
    """An editor's browser on one donation's page."""

    def __init__(self, live_server, site_id: int, donation_id: int) -> None:
        self.browser = requests.Session()
        self.url = f"{live_server.url}/admin/sites/{site_id}/donations/{donation_id}"
        page = self.browser.get(f"{live_server.url}/admin/sign-in", timeout=30)
        signed_in = self.browser.post(
            f"{live_server.url}/admin/sign-in",
            timeout=30,
            data={
                "csrf_token": token_in(page.text),
                "email": "editor@bridge.example",
                "password": PASSWORD,
            },
        )
        assert signed_in.ok

    def page(self) -> str:
        return self.browser.get(self.url, timeout=30).text

    def refund(self, page: str, amount: str) -> requests.Response:
        form = {
            "csrf_token": token_in(page),
            "request_key": request_key(page),
            "amount": amount,
            "reason": "requested_by_customer",
        }
        return self.browser.post(f"{self.url}/refund", data=form, timeout=60)

    def check_with_stripe(self, page: str) -> requests.Response:
        return self.browser.post(
            f"{self.url}/refund-check", data={"csrf_token": token_in(page)}, timeout=60
        )


def paid(live_server, stripe_sandbox, amount_minor: int = 5_000) -> tuple[int, int, Dashboard]:
    site = make_site(name="Bridge Weekly")
    goal = make_goal(site, slug="bridge-repairs", maximum_minor=None)
    make_user("editor@bridge.example", site=site, role=Role.EDITOR)
    db.session.commit()
    goal_id, site_id = goal.id, site.id
    paid_gift(live_server, stripe_sandbox, "bridge-repairs", amount_minor)
    donation_id = db.session.execute(sa.select(Donation.id)).scalar_one()
    db.session.rollback()
    return goal_id, donation_id, Dashboard(live_server, site_id, donation_id)


def refunds_at_stripe(stripe_sandbox) -> list[dict]:
    response = requests.get(
        f"{stripe_sandbox.url}/v1/refunds",
        auth=("sk_test_donate_e2e", ""),
        timeout=30,
    )
    return response.json()["data"]


def our_refunds() -> list[tuple[int, RefundStatus, str | None]]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(Refund).order_by(Refund.id)).scalars().all()
    result = [(row.amount_minor, row.status, row.stripe_refund_id) for row in rows]
    db.session.rollback()
    return result


def test_no_database_lock_is_held_while_stripe_answers(app, live_server, stripe_sandbox, middle):
    goal_id, donation_id, dashboard = paid(live_server, stripe_sandbox)
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    probes: list[str] = []

    def another_writer_gets_through() -> None:
        """While the refund is on its way to Stripe, another connection writes that donation."""
        try:
            if url.startswith("sqlite"):
                connection = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0.5)
                connection.isolation_level = None
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("UPDATE donations SET note = note WHERE id = ?", (donation_id,))
                connection.execute("ROLLBACK")
                connection.close()
            else:
                engine = sa.create_engine(url)
                with engine.begin() as connection:
                    connection.execute(sa.text("SET LOCAL lock_timeout = '500ms'"))
                    connection.execute(
                        sa.text("UPDATE donations SET note = note WHERE id = :id"),
                        {"id": donation_id},
                    )
                engine.dispose()
            probes.append("written")
        except Exception as error:  # noqa: BLE001 - the probe reports what blocked it
            probes.append(f"blocked: {error}")

    middle.before_refund = another_writer_gets_through
    done = dashboard.refund(dashboard.page(), "20.00")
    assert "Stripe is refunding $20.00" in done.text or "Stripe refunded $20.00" in done.text
    assert probes == ["written"]
    assert stripe_sandbox.flush(timeout=30)
    assert raised(goal_id) == 3_000


def test_a_timeout_after_stripe_refunded_reserves_the_money_and_the_event_settles_it_once(
    live_server, stripe_sandbox, middle
):
    goal_id, _donation_id, dashboard = paid(live_server, stripe_sandbox)
    middle.swallow_refunds = True
    answer = dashboard.refund(dashboard.page(), "50.00")
    assert answer.ok
    assert "the refund of $50.00 may have gone through" in answer.text
    assert "nothing was refunded" not in answer.text
    assert middle.refund_posts >= 1  # stripe-python retried with the same key
    assert len(refunds_at_stripe(stripe_sandbox)) == 1  # Stripe refunded once

    # Stripe's event finds our row by the id in the refund's metadata: counted once.
    assert stripe_sandbox.flush(timeout=30)
    assert our_refunds() == [
        (5_000, RefundStatus.SUCCEEDED, refunds_at_stripe(stripe_sandbox)[0]["id"])
    ]
    assert raised(goal_id) == 0
    middle.swallow_refunds = False
    page = dashboard.page()
    assert "Refund through Stripe" not in page
    assert "Check with Stripe" not in page


def test_while_an_answer_is_missing_a_reload_with_a_new_key_cannot_refund_the_money_again(
    live_server, stripe_sandbox, middle, monkeypatch
):
    goal_id, _donation_id, dashboard = paid(live_server, stripe_sandbox)
    # Stripe's events arrive fifteen seconds late: until then only our row knows.
    monkeypatch.setattr("sandbox.store.random.uniform", lambda _low, high: high)
    sandbox_control(stripe_sandbox, "chaos", api_key="sk_test_donate_e2e", late=15)
    middle.swallow_refunds = True
    first_page, other_tab = dashboard.page(), dashboard.page()
    assert request_key(other_tab) != request_key(first_page)
    assert "may have gone through" in dashboard.refund(first_page, "").text
    middle.swallow_refunds = False

    reloaded = dashboard.page()
    assert "Refund through Stripe" not in reloaded  # everything is reserved
    again = dashboard.refund(other_tab, "50.00")  # a form with another key
    assert again.status_code == 422
    assert "Nothing is left to refund on this donation." in again.text
    resent = dashboard.refund(first_page, "")  # the first form sent again
    assert "already asked for; it is requested" in resent.text
    assert len(refunds_at_stripe(stripe_sandbox)) == 1

    # Check with Stripe: the list of the payment's refunds has ours, found by its metadata.
    checked = dashboard.check_with_stripe(reloaded)
    assert "Stripe has the refund: it is succeeded." in checked.text
    assert raised(goal_id) == 0
    assert stripe_sandbox.flush(timeout=30)  # the late events change nothing more
    assert raised(goal_id) == 0
    assert [(amount, status) for amount, status, _id in our_refunds()] == [
        (5_000, RefundStatus.SUCCEEDED)
    ]


def test_a_request_stripe_never_received_is_released_only_after_the_grace_period(
    app, live_server, stripe_sandbox, middle, monkeypatch
):
    goal_id, _donation_id, dashboard = paid(live_server, stripe_sandbox)
    # Nothing listens on port 9: the request never reaches Stripe.
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    app.extensions.pop("donate.stripe", None)
    page = dashboard.page()
    assert "may have gone through" in dashboard.refund(page, "10.00").text
    app.extensions.pop("donate.stripe", None)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", middle.url)

    waiting = dashboard.check_with_stripe(dashboard.page())
    assert "Stripe has no record of the refund yet" in waiting.text
    assert "Up to $40.00 can be refunded" in waiting.text
    row = db.session.execute(sa.select(Refund)).scalar_one()
    row.created_at = row.created_at - timedelta(minutes=11)  # the request is eleven minutes old
    db.session.commit()
    released = dashboard.check_with_stripe(dashboard.page())
    assert "Stripe has no record of the refund: nothing was refunded." in released.text
    assert "Up to $50.00 can be refunded" in released.text
    assert our_refunds() == [(1_000, RefundStatus.REFUSED, None)]
    assert middle.refund_posts == 0  # settling never asks Stripe to refund
    assert raised(goal_id) == 5_000


def test_two_tabs_refunding_everything_at_once_refund_it_once(live_server, stripe_sandbox):
    goal_id, _donation_id, dashboard = paid(live_server, stripe_sandbox)
    tabs = [dashboard.page(), dashboard.page()]
    answers: list[requests.Response] = []

    def send(tab: str) -> None:
        answers.append(dashboard.refund(tab, "50.00"))

    threads = [threading.Thread(target=send, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answer.status_code for answer in answers) == [200, 422]
    assert any("Nothing is left to refund" in answer.text for answer in answers)
    assert stripe_sandbox.flush(timeout=30)
    assert len(refunds_at_stripe(stripe_sandbox)) == 1
    assert [(amount, status) for amount, status, _id in our_refunds()] == [
        (5_000, RefundStatus.SUCCEEDED)
    ]
    assert raised(goal_id) == 0
