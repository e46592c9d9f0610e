"""Twenty copies of one event at the same moment: one applies it, nineteen change nothing."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import DonationKind, EventStatus, Goal, LedgerEntry, StripeEvent
from tests.factories import make_goal
from tests.stripe_events import checkout_session, event, post_event

COPIES = 20


def test_twenty_concurrent_duplicates_count_once(app, committed_db):
    goal = make_goal()
    donation = ledger.create_pending_donation(
        goal, amount_minor=2_500, kind=DonationKind.ONE_TIME, cause="test"
    )
    db.session.commit()
    goal_id = goal.id
    evt = event("checkout.session.completed", checkout_session(donation))
    db.session.remove()

    start = threading.Barrier(COPIES)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            client = app.test_client()
            start.wait(timeout=30)
            statuses.append(post_event(client, evt).status_code)
        except BaseException as error:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=deliver) for _ in range(COPIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert statuses == [200] * COPIES
    goal = db.session.get(Goal, goal_id)
    assert (goal.raised_minor, goal.donation_count, goal.donor_count) == (2_500, 1, 1)
    assert goal.totals_version == 1
    assert db.session.execute(sa.select(sa.func.count(LedgerEntry.id))).scalar_one() == 1
    stored = db.session.execute(sa.select(StripeEvent)).scalars().all()
    assert len(stored) == 1
    assert stored[0].status is EventStatus.PROCESSED
    assert stored[0].attempts == 1
