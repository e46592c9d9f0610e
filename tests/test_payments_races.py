"""Races between transactions: a payment settling while its refund parks or a recount runs."""

from __future__ import annotations

import threading
import time

import pytest

from donate import ledger
from donate.extensions import db
from donate.models import DonationKind, Goal
from donate.payments.events import EventApplier
from donate.payments.stripe import gateway
from tests.factories import make_goal
from tests.stripe_events import checkout_session, event, post_event, refund

pytestmark = pytest.mark.live


def _settle_and_hold(app, session_evt, holding: threading.Event, release: threading.Event):
    """Settle a payment in its own transaction, then keep it open until told to commit."""
    with app.app_context():
        EventApplier(gateway()).apply(session_evt)
        db.session.flush()
        holding.set()
        release.wait(timeout=30)
        db.session.commit()
        db.session.remove()


def _totals(goal_id: int) -> tuple[int, int]:
    db.session.expire_all()
    goal = db.session.get(Goal, goal_id)
    return goal.raised_minor, goal.donation_count


def test_a_refund_arriving_while_its_payment_settles_is_not_lost(app, committed_db):
    goal = make_goal()
    donation = ledger.create_pending_donation(
        goal, amount_minor=10_000, kind=DonationKind.ONE_TIME, cause="test"
    )
    db.session.commit()
    goal_id = goal.id
    session = checkout_session(donation)
    refund_evt = event("refund.created", refund(session["payment_intent"], 4_000))
    db.session.remove()

    holding, release = threading.Event(), threading.Event()
    settler = threading.Thread(
        target=_settle_and_hold,
        args=(app, event("checkout.session.completed", session), holding, release),
    )
    settler.start()
    assert holding.wait(timeout=30)
    statuses: list[int] = []
    refunder = threading.Thread(
        target=lambda: statuses.append(post_event(app.test_client(), refund_evt).status_code)
    )
    refunder.start()
    time.sleep(0.5)  # the refund is now waiting on the settlement, or parked beside it
    release.set()
    settler.join(timeout=60)
    refunder.join(timeout=60)
    assert statuses == [200]
    assert _totals(goal_id) == (6_000, 1)


def test_a_recount_while_a_payment_settles_repairs_nothing_away(app, committed_db):
    goal = make_goal()
    first = ledger.create_pending_donation(
        goal, amount_minor=2_000, kind=DonationKind.ONE_TIME, cause="test"
    )
    second = ledger.create_pending_donation(
        goal, amount_minor=1_000, kind=DonationKind.ONE_TIME, cause="test"
    )
    ledger.settle_donation(first.id, cause="test")
    db.session.commit()
    goal_id = goal.id
    session_evt = event("checkout.session.completed", checkout_session(second))
    db.session.remove()

    holding, release = threading.Event(), threading.Event()
    settler = threading.Thread(target=_settle_and_hold, args=(app, session_evt, holding, release))
    settler.start()
    assert holding.wait(timeout=30)
    found: list[ledger.Drift] = []

    def recount() -> None:
        with app.app_context():
            found.append(ledger.recount(db.session.get(Goal, goal_id), cause="test"))
            db.session.commit()
            db.session.remove()

    counter = threading.Thread(target=recount)
    counter.start()
    time.sleep(0.5)
    release.set()
    settler.join(timeout=60)
    counter.join(timeout=60)
    assert found and not found[0].found
    assert _totals(goal_id) == (3_000, 2)
