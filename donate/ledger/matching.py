"""Matching funds: a settled gift takes its match from the sponsor's pool; deductions give it back.

The pool is never exceeded: what a gift takes is added to `used_minor` by one UPDATE whose WHERE
repeats the bound (`used_minor + x <= pool_minor`, match still open). The amount x is min(net
gift, what the pool had when read); if another gift took from the pool in between, the UPDATE
matches no row and we read again. PostgreSQL re-evaluates that WHERE on the newest row version
after waiting for a concurrent writer (READ COMMITTED), and SQLite runs writers one at a time
(BEGIN IMMEDIATE), so concurrent gifts can never together take more than the pool.

A match is not a donation: no donation, donor or receipt comes of it, only a MatchAllocation
row per gift, which recount sums into the goal's matched_minor (part of raised_minor).
"""

from __future__ import annotations

import sqlalchemy as sa

from donate.extensions import db
from donate.ledger.errors import LedgerError
from donate.ledger.store import change_totals, fresh
from donate.models import Donation, DonationKind, GoalMatch, MatchAllocation, utcnow

# Gifts paid through Stripe. Offline gifts are entered, corrected and voided by editors; a
# sponsor's pledge here is for what readers give.
MATCHED_KINDS = frozenset({DonationKind.ONE_TIME, DonationKind.MONTHLY})
_RETRIES = 16


def open_match(goal_id: int) -> GoalMatch | None:
    """The goal's open match, if it has one (there is at most one)."""
    return db.session.execute(
        sa.select(GoalMatch)
        .where(GoalMatch.goal_id == goal_id, GoalMatch.closed_at.is_(None))
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _take(match_id: int, wanted: int) -> int:
    """Take up to `wanted` from an open pool with one conditional UPDATE; what it took."""
    for _attempt in range(_RETRIES):
        row = db.session.execute(
            sa.select(GoalMatch.pool_minor - GoalMatch.used_minor).where(
                GoalMatch.id == match_id, GoalMatch.closed_at.is_(None)
            )
        ).first()
        amount = min(wanted, int(row[0])) if row is not None else 0
        if amount <= 0:
            return 0
        taken = db.session.execute(
            sa.update(GoalMatch)
            .where(
                GoalMatch.id == match_id,
                GoalMatch.closed_at.is_(None),
                GoalMatch.used_minor + amount <= GoalMatch.pool_minor,
            )
            .values(used_minor=GoalMatch.used_minor + amount)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if taken:
            return amount
    raise LedgerError("The match's pool kept changing underneath; try again.")


def _give_back(match_id: int, amount: int) -> None:
    """Return reversed match money to the pool, only while the match is open."""
    db.session.execute(
        sa.update(GoalMatch)
        .where(GoalMatch.id == match_id, GoalMatch.closed_at.is_(None))
        .values(used_minor=GoalMatch.used_minor - amount)
        .execution_options(synchronize_session=False)
    )


def match_gift(donation: Donation, *, cause: str) -> int:
    """Match a gift that just settled from its goal's open match; the amount matched."""
    net = donation.matchable_minor
    if donation.kind not in MATCHED_KINDS or net <= 0:
        return 0
    match = open_match(donation.goal_id)
    if match is None or match.currency != donation.currency:
        return 0
    already = db.session.execute(
        sa.select(MatchAllocation.id).where(MatchAllocation.donation_id == donation.id)
    ).first()
    if already is not None:
        return 0
    taken = _take(match.id, net)
    if not taken:
        return 0
    db.session.add(
        MatchAllocation(
            match_id=match.id,
            donation_id=donation.id,
            basis_minor=net,
            allocated_minor=taken,
            matched_minor=taken,
        )
    )
    db.session.flush()
    change_totals(
        donation.goal_id,
        donation_id=donation.id,
        action="match",
        cause=cause,
        raised=taken,
        matched=taken,
    )
    return taken


def due_match(allocation: MatchAllocation, net_minor: int) -> int:
    """What a gift's match should be now: less in proportion to what was taken off the gift,
    the reversed part rounded down; never more than it was given at settlement."""
    if net_minor >= allocation.basis_minor:
        return allocation.allocated_minor
    taken_off = allocation.basis_minor - max(net_minor, 0)
    reversed_minor = allocation.allocated_minor * taken_off // allocation.basis_minor
    return allocation.allocated_minor - reversed_minor


def follow_gift(donation_id: int, *, cause: str) -> int:
    """Bring a gift's match in line with what the gift still holds; the change in its match.

    A refund or lost dispute reverses the match proportionally and returns it to an open pool;
    money put back (a won dispute) is matched again only as far as the pool still has it.
    The caller holds the donation's row, so changes of one gift's match take turns.
    """
    allocation = db.session.execute(
        sa.select(MatchAllocation)
        .where(MatchAllocation.donation_id == donation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if allocation is None:
        return 0
    donation = fresh(Donation, donation_id, lock=False)
    delta = due_match(allocation, donation.matchable_minor) - allocation.matched_minor
    if delta < 0:
        _give_back(allocation.match_id, -delta)
    elif delta > 0:
        delta = _take(allocation.match_id, delta)
    if delta == 0:
        return 0
    db.session.execute(
        sa.update(MatchAllocation)
        .where(MatchAllocation.id == allocation.id)
        .values(matched_minor=MatchAllocation.matched_minor + delta, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire(allocation)
    change_totals(
        donation.goal_id,
        donation_id=donation_id,
        action="match" if delta > 0 else "match_reversed",
        cause=cause,
        raised=delta,
        matched=delta,
    )
    return delta
