"""Recount: rebuild a goal's totals from the ledger rows (gifts and their matches) and report
(and repair) any drift."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from donate.extensions import db
from donate.ledger.deductions import DISPUTES, REFUNDS
from donate.ledger.store import change_totals, fresh, lock_goal
from donate.models import Donation, DonationState, Goal, GoalDonor, MatchAllocation


@dataclass
class Drift:
    """What a recount found different from the stored totals, field by field (stored, actual)."""

    goal_id: int
    fields: dict[str, tuple[int, int]] = field(default_factory=dict)
    donations: dict[int, dict[str, tuple[int, int]]] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.fields or self.donations)


def recount(goal: Goal, *, cause: str, repair: bool = True) -> Drift:
    """Rebuild a goal's totals from the ledger rows; report any drift and, if asked, repair it."""
    drift = Drift(goal_id=goal.id)
    lock_goal(goal.id)
    for deduction in (REFUNDS, DISPUTES):
        counted = (
            sa.select(
                deduction.model.donation_id,
                sa.func.coalesce(sa.func.sum(deduction.model.counted_minor), 0),
            )
            .join(Donation, Donation.id == deduction.model.donation_id)
            .where(Donation.goal_id == goal.id)
            .group_by(deduction.model.donation_id)
        )
        actual_by_donation = dict(db.session.execute(counted).all())
        stored = db.session.execute(
            sa.select(Donation.id, getattr(Donation, deduction.donation_column)).where(
                Donation.goal_id == goal.id
            )
        ).all()
        for donation_id, stored_value in stored:
            actual = int(actual_by_donation.get(donation_id, 0))
            if actual != stored_value:
                drift.donations.setdefault(donation_id, {})[deduction.donation_column] = (
                    stored_value,
                    actual,
                )
                if repair:
                    db.session.execute(
                        sa.update(Donation)
                        .where(Donation.id == donation_id)
                        .values({deduction.donation_column: actual})
                        .execution_options(synchronize_session=False)
                    )

    succeeded = sa.and_(Donation.goal_id == goal.id, Donation.state == DonationState.SUCCEEDED)
    raised, count, donors = db.session.execute(
        sa.select(
            sa.func.coalesce(
                sa.func.sum(Donation.kept_minor),
                0,
            ),
            sa.func.count(Donation.id),
            sa.func.count(sa.distinct(Donation.donor_key)),
        ).where(succeeded)
    ).one()
    matched = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(MatchAllocation.matched_minor), 0))
        .join(Donation, Donation.id == MatchAllocation.donation_id)
        .where(Donation.goal_id == goal.id)
    ).scalar_one()
    current = fresh(Goal, goal.id)
    for name, actual in (
        ("raised_minor", int(raised) + int(matched)),
        ("matched_minor", int(matched)),
        ("donation_count", int(count)),
        ("donor_count", int(donors)),
    ):
        stored_value = getattr(current, name)
        if stored_value != actual:
            drift.fields[name] = (stored_value, actual)
    if repair and drift.fields:
        deltas = {name: actual - stored for name, (stored, actual) in drift.fields.items()}
        change_totals(
            goal.id,
            donation_id=None,
            action="recount",
            cause=cause,
            raised=deltas.get("raised_minor", 0),
            donations=deltas.get("donation_count", 0),
            donors=deltas.get("donor_count", 0),
            matched=deltas.get("matched_minor", 0),
        )
        _rebuild_goal_donors(goal.id)
    return drift


def _rebuild_goal_donors(goal_id: int) -> None:
    """Make the counted-donor markers match the succeeded donations after a repair."""
    db.session.execute(sa.delete(GoalDonor).where(GoalDonor.goal_id == goal_id))
    keys = db.session.execute(
        sa.select(Donation.donor_key)
        .where(
            Donation.goal_id == goal_id,
            Donation.state == DonationState.SUCCEEDED,
            Donation.donor_key.is_not(None),
        )
        .distinct()
    ).scalars()
    for key in keys:
        db.session.add(GoalDonor(goal_id=goal_id, donor_key=key))
