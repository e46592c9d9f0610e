"""Matching funds as editors set them up: open one match per goal, close it; donate.ledger
moves the money."""

from __future__ import annotations

import sqlalchemy as sa

from donate.extensions import db
from donate.models import Goal, GoalMatch, GoalStatus, utcnow
from donate.money import MAXIMUM_MINOR

SPONSOR_MAX_LENGTH = 120


class MatchError(ValueError):
    """A match the rules refuse; `errors` maps a field (sponsor, pool, or match) to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def open_match_of(goal: Goal) -> GoalMatch | None:
    """The goal's open match, if it has one."""
    return db.session.execute(
        sa.select(GoalMatch)
        .where(GoalMatch.goal_id == goal.id, GoalMatch.closed_at.is_(None))
        .execution_options(populate_existing=True)  # the ledger moves the pool by UPDATEs
    ).scalar_one_or_none()


def matches_of(goal: Goal) -> list[GoalMatch]:
    """Every match the goal has had, newest first."""
    return list(
        db.session.execute(
            sa.select(GoalMatch)
            .where(GoalMatch.goal_id == goal.id)
            .order_by(GoalMatch.id.desc())
            .execution_options(populate_existing=True)
        ).scalars()
    )


def _touch(goal: Goal) -> None:
    """Hold the goal's row and mark it changed, so cached widgets show the new match at once."""
    db.session.execute(
        sa.update(Goal)
        .where(Goal.id == goal.id)
        .values(updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.expire(goal)


def start_match(goal: Goal, *, sponsor: str, pool_minor: int | None) -> GoalMatch:
    """Open a 1:1 match of the goal's gifts, up to the pool, given by the sponsor."""
    errors: dict[str, str] = {}
    sponsor = " ".join((sponsor or "").split())
    if not sponsor:
        errors["sponsor"] = "Name the sponsor who gives the match."
    elif len(sponsor) > SPONSOR_MAX_LENGTH:
        errors["sponsor"] = f"Keep the sponsor's name to {SPONSOR_MAX_LENGTH} characters."
    if pool_minor is None:
        errors["pool"] = "Enter how much the sponsor gives at most."
    elif pool_minor <= 0:
        errors["pool"] = "The pool must be more than zero."
    elif pool_minor > MAXIMUM_MINOR:
        errors["pool"] = "The pool is larger than any amount this platform handles."
    if goal.status == GoalStatus.CLOSED:
        errors["match"] = "This goal is closed: it takes no gifts to match."
    if errors:
        raise MatchError(errors)
    _touch(goal)
    current = open_match_of(goal)
    if current is not None:
        raise MatchError(
            {"match": f"This goal already has a match by {current.sponsor}; close it first."}
        )
    assert pool_minor is not None
    match = GoalMatch(
        goal_id=goal.id, sponsor=sponsor, pool_minor=pool_minor, currency=goal.currency
    )
    db.session.add(match)
    db.session.flush()
    return match


def close_match(goal: Goal) -> GoalMatch | None:
    """End the goal's open match: later gifts are not matched; None when none was open."""
    _touch(goal)
    match = open_match_of(goal)
    if match is None:
        return None
    match.closed_at = utcnow()
    db.session.flush()
    return match
