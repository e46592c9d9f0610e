"""Checkout Sessions end: a give answers within its budget, sessions expire, nothing stays pending.

A give request's Stripe calls fit in STRIPE_GIVE_BUDGET_SECONDS, so a hanging Stripe costs the
donor a sentence, not a dead worker; sessions carry `expires_at`; Cancel returns to the widget;
`donate reconcile` closes pending gifts that nobody can pay any more, and only those.
"""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa
import stripe

from donate import ledger
from donate.extensions import db
from donate.models import Donation, DonationKind, DonationState, utcnow
from tests.factories import make_goal
from tests.test_payments_e2e import ARTICLE, checkout_session_id, give, pay
from tests.test_reconcile import API_KEY, silent_sandbox  # noqa: F401 - a fixture


class HangingServer:
    """Accepts connections and reads requests, and never answers: Stripe hanging."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self._server.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def hanging_stripe(app, monkeypatch):
    server = HangingServer()
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", server.url)
    app.extensions.pop("donate.stripe", None)
    try:
        yield server
    finally:
        server.close()
        app.extensions.pop("donate.stripe", None)


def _in_thread(call, within: float):
    """Run `call`; a call still running after `within` seconds fails the test."""
    answers = []
    worker = threading.Thread(target=lambda: answers.append(call()), daemon=True)
    worker.start()
    worker.join(within)
    assert answers, f"no answer within {within} s"
    return answers[0]


def test_a_hanging_stripe_gets_the_donor_a_sentence_within_the_give_budget(
    app, db_session, hanging_stripe
):
    goal = make_goal()
    client = app.test_client(use_cookies=False)
    # The give budget is 3.5 s; a browser lets the click open Checkout for about 5 s.
    response = _in_thread(
        lambda: client.post(
            f"/give/{goal.slug}",
            data={"amount_minor": "1000"},
            headers={"Origin": "http://127.0.0.1:5000", "Accept": "application/json"},
        ),
        within=5,
    )
    assert response.status_code == 502
    assert response.get_json() == {
        "error": "We could not reach our payment provider. Nothing was charged; please try "
        "again in a moment.",
        "field": "payment",
    }
    # One attempt took the whole budget: no retry was started past it.
    assert len(hanging_stripe.connections) == 1
    states = db.session.execute(sa.select(Donation.state)).scalars().all()
    assert states == [DonationState.FAILED]


def test_the_return_page_waits_no_longer_than_the_request_budget(
    app, db_session, hanging_stripe, monkeypatch
):
    monkeypatch.setitem(app.config, "STRIPE_REQUEST_BUDGET_SECONDS", 1.5)
    client = app.test_client(use_cookies=False)
    response = _in_thread(lambda: client.get("/give/return?session_id=cs_test_x"), within=5)
    assert response.status_code == 502
    page = response.get_data(as_text=True)
    assert "Please do not pay a second time." in page
    assert "Nothing was charged" not in page


def test_the_problem_page_says_nothing_was_charged_once(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_GIVE_BUDGET_SECONDS", 1.0)
    goal = make_goal()
    page = (
        app.test_client(use_cookies=False)
        .post(
            f"/give/{goal.slug}",
            data={"amount_minor": "1000"},
            headers={"Origin": "http://127.0.0.1:5000"},
        )
        .get_data(as_text=True)
    )
    assert page.count("Nothing was charged") == 1


def _sandbox_session(sandbox, session_id: str) -> dict:
    client = stripe.StripeClient(API_KEY, base_addresses={"api": sandbox.url})
    return client.v1.checkout.sessions.retrieve(session_id).to_dict()


def test_sessions_expire_within_an_hour_and_cancel_returns_to_the_widget(
    live_server,
    silent_sandbox,  # noqa: F811
):
    goal = make_goal(slug="lifetime")
    db.session.commit()
    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="1500"))
    session = _sandbox_session(silent_sandbox, session_id)
    assert 1800 <= session["expires_at"] - session["created"] <= 3600
    assert session["cancel_url"] == f"{ARTICLE}#donate-cancel=lifetime"
    without_article = give(live_server, goal.slug, amount_minor="1500", source_url="")
    other = _sandbox_session(silent_sandbox, checkout_session_id(without_article))
    assert other["cancel_url"] == f"{live_server.url}/g/lifetime"


def _donation(session_id: str | None = None, donation_id: int | None = None) -> Donation:
    db.session.expire_all()
    where = (
        Donation.stripe_checkout_session_id == session_id
        if session_id
        else Donation.id == donation_id
    )
    return db.session.execute(sa.select(Donation).where(where)).scalar_one()


def _age(donation_id: int, by: timedelta) -> None:
    db.session.execute(
        sa.update(Donation).where(Donation.id == donation_id).values(created_at=utcnow() - by)
    )
    db.session.commit()


def _reconcile(app) -> str:
    result = app.test_cli_runner().invoke(args=["donate", "reconcile"])
    assert result.exit_code == 0, result.output
    return result.output


def test_reconcile_closes_sessions_stripe_expired_and_keeps_those_still_in_their_time(
    app,
    live_server,
    silent_sandbox,  # noqa: F811
):
    goal = make_goal(slug="abandoned", maximum_minor=None)
    db.session.commit()
    old = checkout_session_id(give(live_server, goal.slug, amount_minor="1000"))
    fresh = checkout_session_id(give(live_server, goal.slug, amount_minor="2000"))
    # Our row's age is not Stripe's deadline (sessions opened before expires_at was set live a
    # day): a donor may still be paying, so nothing is expired on our clock alone.
    _age(_donation(old).id, timedelta(hours=2))
    assert "pending donation: 2 seen, 0 applied." in _reconcile(app)
    assert _sandbox_session(silent_sandbox, old)["status"] == "open"
    assert _donation(old).state == DonationState.PENDING

    # Stripe expired it and its event was lost: reconcile closes our gift.
    requests.post(
        f"{silent_sandbox.url}/_sandbox/checkout/sessions/{old}/expire", json={}, timeout=30
    ).raise_for_status()
    _reconcile(app)

    assert _donation(old).state == DonationState.EXPIRED
    assert _sandbox_session(silent_sandbox, fresh)["status"] == "open"
    assert _donation(fresh).state == DonationState.PENDING


def test_reconcile_settles_a_paid_session_whose_events_were_lost(
    app,
    live_server,
    silent_sandbox,  # noqa: F811
):
    goal = make_goal(slug="paid-quietly", maximum_minor=None)
    db.session.commit()
    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="1000"))
    pay(silent_sandbox, session_id)
    _age(_donation(session_id).id, timedelta(days=40))  # older than the session walk's window
    _reconcile(app)
    assert _donation(session_id).state == DonationState.SUCCEEDED


def test_reconcile_closes_sessionless_gifts_only_after_the_worker_timeout(
    app,
    live_server,
    silent_sandbox,  # noqa: F811
):
    goal = make_goal(slug="no-session")
    db.session.commit()
    ids = []
    for _ in range(2):
        donation = ledger.create_pending_donation(
            goal, amount_minor=1000, kind=DonationKind.ONE_TIME, cause="test"
        )
        db.session.commit()
        ids.append(donation.id)
    _age(ids[0], timedelta(minutes=2))
    _reconcile(app)
    assert _donation(donation_id=ids[0]).state == DonationState.EXPIRED
    assert _donation(donation_id=ids[0]).state_cause == "reconcile:no-session"
    # A give request may still be waiting on Stripe for this one.
    assert _donation(donation_id=ids[1]).state == DonationState.PENDING


def test_an_expired_session_event_closes_its_pending_gift(
    live_server,
    silent_sandbox,  # noqa: F811
    app,
):
    goal = make_goal(slug="expired-event", maximum_minor=None)
    db.session.commit()
    session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="1000"))
    expired = requests.post(
        f"{silent_sandbox.url}/v1/checkout/sessions/{session_id}/expire",
        auth=(API_KEY, ""),
        timeout=10,
    )
    assert expired.status_code == 200
    _reconcile(app)
    assert _donation(session_id).state == DonationState.EXPIRED


def test_reconcile_leaves_a_bank_debit_on_its_way_pending_and_expires_a_declined_checkout(
    app,
    live_server,
    silent_sandbox,  # noqa: F811
):
    goal = make_goal(slug="debits", maximum_minor=None)
    db.session.commit()
    debit = checkout_session_id(give(live_server, goal.slug, amount_minor="1000"))
    declined = checkout_session_id(give(live_server, goal.slug, amount_minor="2000"))
    pay(silent_sandbox, debit, outcome="delayed")  # complete, unpaid until the bank answers
    pay(silent_sandbox, declined, outcome="declined")  # still open: the donor gave up
    for session_id in (debit, declined):
        _age(_donation(session_id).id, timedelta(hours=3))
    # Past the sessions' expires_at on Stripe's clock; the expiry event never reaches us.
    requests.post(
        f"{silent_sandbox.url}/_sandbox/time/advance", json={"hours": 2}, timeout=30
    ).raise_for_status()

    _reconcile(app)

    assert _sandbox_session(silent_sandbox, debit)["status"] == "complete"
    assert _donation(debit).state == DonationState.PENDING
    assert _sandbox_session(silent_sandbox, declined)["status"] == "expired"
    assert _donation(declined).state == DonationState.EXPIRED


def test_a_session_stripe_does_not_know_is_closed_only_when_surely_unpayable(
    app,
    live_server,
    silent_sandbox,  # noqa: F811
):
    goal = make_goal(slug="unknown-sessions")
    db.session.commit()
    ids = {}
    for name, session_id in (
        ("other_mode", "cs_live_a1NotOursToJudge"),
        ("young", "cs_test_a1StillWithinItsDay"),
        ("old", "cs_test_a1LongPastItsDay"),
    ):
        donation = ledger.create_pending_donation(
            goal, amount_minor=1_000, kind=DonationKind.ONE_TIME, cause="test"
        )
        ledger.link_stripe_ids(donation.id, stripe_checkout_session_id=session_id)
        db.session.commit()
        ids[name] = donation.id
    _age(ids["other_mode"], timedelta(days=2))  # a live session, asked with a test key
    _age(ids["young"], timedelta(hours=3))
    _age(ids["old"], timedelta(days=2))

    _reconcile(app)

    assert _donation(donation_id=ids["other_mode"]).state == DonationState.PENDING
    assert _donation(donation_id=ids["young"]).state == DonationState.PENDING
    assert _donation(donation_id=ids["old"]).state == DonationState.EXPIRED
