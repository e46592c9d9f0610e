"""The one writer: conditional state updates, ledger entries and relative changes of totals.

Every function runs inside the caller's transaction. A state moves only when the transition
tables allow it and only if nobody moved it since we read it (the UPDATE's WHERE names the state
we saw), so running anything twice changes nothing the second time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from donate.extensions import db, hold_row
from donate.ledger.errors import LedgerError
from donate.ledger.transitions import next_state
from donate.models import Dispute, Donation, DonationState, Goal, LedgerEntry, Refund, utcnow

Row = TypeVar("Row", bound=db.Model)  # type: ignore[name-defined]
_OPTIMISTIC_RETRIES = 8


def change_totals(
    goal_id: int,
    *,
    donation_id: int | None,
    action: str,
    cause: str,
    raised: int = 0,
    donations: int = 0,
    donors: int = 0,
    matched: int = 0,
) -> None:
    """Move a goal's totals by relative amounts and record why, in the caller's transaction.

    `matched` is the part of `raised` that sponsors' matches give (it moves both totals).
    """
    if not (raised or donations or donors or matched):
        return
    db.session.execute(
        sa.update(Goal)
        .where(Goal.id == goal_id)
        .values(
            raised_minor=Goal.raised_minor + raised,
            donation_count=Goal.donation_count + donations,
            donor_count=Goal.donor_count + donors,
            matched_minor=Goal.matched_minor + matched,
            totals_version=Goal.totals_version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.add(
        LedgerEntry(
            goal_id=goal_id,
            donation_id=donation_id,
            action=action,
            raised_delta=raised,
            donation_delta=donations,
            donor_delta=donors,
            cause=cause,
        )
    )
    goal = db.session.identity_map.get(db.session.identity_key(Goal, goal_id))
    if goal is not None:
        db.session.expire(goal)  # a loaded goal re-reads its totals after the relative UPDATE


def lock_goal(goal_id: int) -> None:
    """Hold the goal row before reading what decides a change of its totals."""
    hold_row(Goal.totals_version, goal_id)


def lock_donation(donation_id: int) -> None:
    """Hold a donation row until commit, so decisions about its money take turns."""
    hold_row(Donation.refunded_minor, donation_id)


def fresh(model: type[Row], row_id: int, *, lock: bool = True) -> Row:
    """Read a row as committed now, locking it on databases that can."""
    query = sa.select(model).where(model.id == row_id).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    row: Row = db.session.execute(query).scalar_one()
    return row


def move_state(
    column: Any,
    row_id: int,
    *,
    table: Mapping[Any, frozenset[Any]],
    current: enum.StrEnum,
    wanted: enum.StrEnum,
    values: Mapping[str, object] | None = None,
    extra_conditions: tuple[Any, ...] = (),
) -> bool:
    """Move one row's state from `current` to `wanted` if the table allows it and nobody moved
    it first; True when this call moved it."""
    if wanted not in table[current]:
        return False
    model = column.class_
    result = db.session.execute(
        sa.update(model)
        .where(model.id == row_id, column == current, *extra_conditions)
        .values({column.key: wanted, **(values or {})})
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Deduction:
    """What refunds and disputes share: a row whose counted part comes off its donation."""

    model: type[Refund] | type[Dispute]
    donation_column: str
    moves: Mapping[Any, frozenset[Any]]
    takes_off: frozenset[Any]
    action: str
    # A dispute's amount may change while nothing of it is counted; a refund keeps its own.
    amount_follows_report: bool
    # Called in the same transaction when money newly comes off a counted gift (refund notice).
    on_taken_off: Callable[[Donation, int], None] | None = None


def apply_deduction(
    kind: Deduction,
    donation_id: int,
    row_id: int,
    *,
    reported: enum.StrEnum | None,
    amount_minor: int | None,
    cause: str,
    link: Mapping[str, object] | None = None,
) -> Refund | Dispute:
    """Move a refund or dispute to what was reported and take off (or put back) its money.

    The row, the donation's deduction column, the ledger entry and the goal's total change
    together; a report the transition table refuses leaves the state as it is.
    """
    for _attempt in range(_OPTIMISTIC_RETRIES):
        row = fresh(kind.model, row_id)
        if row.donation_id != donation_id:
            raise LedgerError(f"The {kind.action} {row_id} belongs to another donation.")
        status = row.status
        new_status = next_state(kind.moves, status, reported) if reported else status
        new_amount = row.amount_minor
        if kind.amount_follows_report and amount_minor and row.counted_minor == 0:
            new_amount = amount_minor
        donation = fresh(Donation, donation_id)
        wanted = new_amount if new_status in kind.takes_off else 0
        available = donation.kept_minor + row.counted_minor
        new_counted = max(0, min(wanted, available))
        delta = new_counted - row.counted_minor
        linking = {key: value for key, value in (link or {}).items() if getattr(row, key) is None}
        if new_status == status and delta == 0 and new_amount == row.amount_minor and not linking:
            return row
        changed = db.session.execute(
            sa.update(kind.model)
            .where(
                kind.model.id == row_id,
                kind.model.status == status,
                kind.model.counted_minor == row.counted_minor,
            )
            .values(
                status=new_status,
                counted_minor=new_counted,
                amount_minor=new_amount,
                last_cause=cause,
                updated_at=utcnow(),
                **linking,
            )
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if not changed:
            continue  # someone else moved it between our read and write: read again
        if delta:
            column = getattr(Donation, kind.donation_column)
            db.session.execute(
                sa.update(Donation)
                .where(Donation.id == donation_id)
                .values({kind.donation_column: column + delta})
                .execution_options(synchronize_session=False)
            )
            if donation.state == DonationState.SUCCEEDED:
                change_totals(
                    donation.goal_id,
                    donation_id=donation_id,
                    action=kind.action if delta > 0 else f"{kind.action}_reversed",
                    cause=cause,
                    raised=-delta,
                )
                if delta > 0 and kind.on_taken_off is not None:
                    kind.on_taken_off(donation, row_id)
        db.session.expire(donation)
        return fresh(kind.model, row_id, lock=False)
    raise LedgerError(f"The {kind.action} {row_id} kept changing underneath; try again.")
