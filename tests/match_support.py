"""Helpers for matching-funds tests: open a match, settle gifts, read what the pool gave."""

from __future__ import annotations

import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.matches import start_match
from donate.models import Donation, DonationKind, Goal, GoalMatch, MatchAllocation


def open_match(goal: Goal, pool_minor: int, sponsor: str = "The Ada Trust") -> GoalMatch:
    """Open a 1:1 match on the goal."""
    return start_match(goal, sponsor=sponsor, pool_minor=pool_minor)


def pending(goal: Goal, amount: int, email: str | None = None) -> Donation:
    """A card gift waiting for its payment."""
    return ledger.create_pending_donation(
        goal, amount_minor=amount, kind=DonationKind.ONE_TIME, donor_email=email, cause="test"
    )


def settled(goal: Goal, amount: int, email: str | None = None) -> Donation:
    """A card gift that went through."""
    donation = pending(goal, amount, email)
    ledger.settle_donation(donation.id, cause="evt_settle", payment_intent_id=f"pi_{donation.id}")
    return donation


def matched_by_donation(goal_id: int) -> dict[int, int]:
    """Each matched gift's current match."""
    rows = db.session.execute(
        sa.select(MatchAllocation.donation_id, MatchAllocation.matched_minor)
        .join(Donation, Donation.id == MatchAllocation.donation_id)
        .where(Donation.goal_id == goal_id)
    ).all()
    return {donation_id: matched for donation_id, matched in rows}


def used(match_id: int) -> int:
    """What the pool gave, as committed."""
    db.session.expire_all()
    return db.session.execute(
        sa.select(GoalMatch.used_minor).where(GoalMatch.id == match_id)
    ).scalar_one()


def assert_match_invariants(goal_id: int, match_id: int) -> None:
    """Each gift's match within its net gift, the sum within the pool, the goal's totals agree."""
    db.session.expire_all()
    goal = db.session.get(Goal, goal_id)
    match = db.session.get(GoalMatch, match_id)
    assert goal is not None and match is not None
    matched = matched_by_donation(goal_id)
    for donation_id, amount in matched.items():
        donation = db.session.get(Donation, donation_id)
        assert donation is not None
        assert 0 <= amount <= donation.net_minor
    assert sum(matched.values()) <= match.used_minor <= match.pool_minor
    assert goal.matched_minor == sum(matched.values())
    net = sum(
        d.net_minor
        for d in db.session.execute(sa.select(Donation).where(Donation.goal_id == goal_id))
        .scalars()
        .all()
    )
    assert goal.raised_minor == net + goal.matched_minor
    assert not ledger.recount(goal, cause="check", repair=False).found
