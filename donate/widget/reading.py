"""The widget's reads: one goal row with its site, and the goal page's recent supporters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm

from donate.extensions import db
from donate.goal_covers import CoverInfo
from donate.goal_view import PublicGoal
from donate.models import (
    Donation,
    DonationKind,
    DonationState,
    Goal,
    GoalCover,
    GoalMatch,
    GoalStatus,
)

WALL_SIZE = 20
WALL_KINDS = (DonationKind.ONE_TIME, DonationKind.MONTHLY, DonationKind.OFFLINE, DonationKind.DEMO)


def _published(slug: str) -> sa.Select[Goal, GoalMatch]:
    """A public goal with its site and its open match (at most one), in one row."""
    return (
        sa.select(Goal, GoalMatch)
        .join(Goal.site)
        # The goal's open match (at most one) comes in the same row.
        .outerjoin(GoalMatch, sa.and_(GoalMatch.goal_id == Goal.id, GoalMatch.closed_at.is_(None)))
        # Fill goal.site from the same row: the session holds loaded objects only weakly, so
        # a site fetched alongside but not attached would be gone, and re-read, by first use.
        .options(orm.contains_eager(Goal.site))
        .where(Goal.slug == slug, Goal.status != GoalStatus.DRAFT)
    )


def find_widget_goal(slug: str) -> PublicGoal | None:
    """Read a public goal, its whole site row and its open match in one query."""
    if not slug or len(slug) > 80:
        return None
    row = db.session.execute(_published(slug)).one_or_none()
    if row is None:
        return None
    goal, match = row
    return PublicGoal(goal=goal, site_locale=goal.site.default_locale, match=match)


def find_page_goal(slug: str) -> tuple[PublicGoal, CoverInfo | None] | None:
    """The goal page's read: the goal, its site and its cover's metadata, still one query."""
    if not slug or len(slug) > 80:
        return None
    cover = (GoalCover.digest, GoalCover.width, GoalCover.height, GoalCover.alt)
    row = db.session.execute(
        _published(slug).add_columns(*cover).outerjoin(GoalCover, GoalCover.goal_id == Goal.id)
    ).first()
    if row is None:
        return None
    goal, match = row[0], row[1]
    info = CoverInfo(*row[2:]) if row[2] is not None else None
    return PublicGoal(goal=goal, site_locale=goal.site.default_locale, match=match), info


@dataclass(frozen=True)
class Supporter:
    """One line of the donor wall: only what the donor agreed to show."""

    name: str | None  # None: anonymous, or no name given
    message: str | None
    amount_minor: int
    currency: str
    monthly: bool
    given_at: datetime


def recent_supporters(goal_id: int, limit: int = WALL_SIZE) -> list[Supporter]:
    """The latest gifts that count, newest first; emails are never even read."""
    net = Donation.kept_minor
    rows = db.session.execute(
        sa.select(
            Donation.public_name,
            Donation.anonymous,
            Donation.public_message,
            Donation.message_hidden,
            net.label("net_minor"),
            Donation.currency,
            Donation.kind,
            Donation.created_at,
        )
        .where(
            Donation.goal_id == goal_id,
            Donation.state == DonationState.SUCCEEDED,
            Donation.kind.in_(WALL_KINDS),
            net > 0,
        )
        # Newest gift first by its own date (an offline gift is dated when it was received), read
        # in order from the (goal_id, state, created_at) index.
        .order_by(Donation.created_at.desc(), Donation.id.desc())
        .limit(limit)
    ).all()
    return [
        Supporter(
            name=None if row.anonymous else ((row.public_name or "").strip() or None),
            message=None if row.message_hidden else ((row.public_message or "").strip() or None),
            amount_minor=row.net_minor,
            currency=row.currency,
            monthly=row.kind == DonationKind.MONTHLY,
            given_at=row.created_at,
        )
        for row in rows
    ]
