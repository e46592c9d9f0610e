"""Twenty gifts settled at the same moment through the webhook: the match runs out exactly."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import DonationKind, EventStatus, Goal, GoalMatch, StripeEvent
from tests.factories import make_goal
from tests.match_support import assert_match_invariants, matched_by_donation, open_match
from tests.stripe_events import checkout_session, event, post_event

GIFTS = 20
POOL = 20_000


def test_a_match_runs_out_exactly_under_twenty_concurrent_gifts(app, committed_db):
    goal = make_goal()
    match = open_match(goal, POOL)
    amounts = [1_000 + 137 * index for index in range(GIFTS)]  # 38,030 in all, pool 20,000
    donations = [
        ledger.create_pending_donation(
            goal,
            amount_minor=amount,
            kind=DonationKind.ONE_TIME,
            donor_email=f"donor{index}@example.org",
            cause="test",
        )
        for index, amount in enumerate(amounts)
    ]
    db.session.commit()
    goal_id, match_id = goal.id, match.id
    events = [event("checkout.session.completed", checkout_session(d)) for d in donations]
    net_by_id = {d.id: d.amount_minor for d in donations}
    db.session.remove()

    start = threading.Barrier(GIFTS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def deliver(evt: dict) -> None:
        try:
            client = app.test_client()
            start.wait(timeout=30)
            statuses.append(post_event(client, evt).status_code)
        except BaseException as error:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(evt,)) for evt in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert statuses == [200] * GIFTS
    stored = db.session.execute(sa.select(StripeEvent.status)).scalars().all()
    assert stored == [EventStatus.PROCESSED] * GIFTS
    match = db.session.get(GoalMatch, match_id)
    assert match is not None and match.used_minor == POOL
    matched = matched_by_donation(goal_id)
    assert sum(matched.values()) == POOL
    assert all(0 < matched[d] <= net_by_id[d] for d in matched)
    # Whichever gifts settled first were matched whole; at most one got the pool's last part.
    assert sum(1 for d in matched if matched[d] < net_by_id[d]) <= 1
    goal = db.session.get(Goal, goal_id)
    assert goal is not None
    assert (goal.matched_minor, goal.raised_minor) == (POOL, sum(amounts) + POOL)
    assert (goal.donation_count, goal.donor_count) == (GIFTS, GIFTS)
    assert_match_invariants(goal_id, match_id)
