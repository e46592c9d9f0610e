"""Goal page covers in the database: store, remove and read them, metadata apart from bytes."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from donate.cover_images import ProcessedCover
from donate.extensions import db
from donate.models import Goal, GoalCover, GoalStatus, utcnow

ALT_MAX_LENGTH = 300


@dataclass(frozen=True)
class CoverInfo:
    """What the goal page needs to show a cover: which bytes, their size and the alt text."""

    digest: str
    width: int
    height: int
    alt: str


def save_cover(goal: Goal, cover: ProcessedCover, alt: str) -> GoalCover:
    """Put a processed cover on a goal, replacing the one it had."""
    row = db.session.get(GoalCover, goal.id)
    if row is None:
        row = GoalCover(goal_id=goal.id)
        db.session.add(row)
    row.digest = cover.digest
    row.media_type = cover.media_type
    row.width, row.height = cover.width, cover.height
    row.alt = alt.strip()[:ALT_MAX_LENGTH]
    row.data = cover.data
    row.updated_at = utcnow()
    db.session.flush()
    return row


def remove_cover(goal: Goal) -> CoverInfo | None:
    """Take a goal's cover away; return what it was (None: there was none)."""
    info = cover_of(goal.id)
    if info is not None:
        db.session.execute(sa.delete(GoalCover).where(GoalCover.goal_id == goal.id))
    return info


def cover_of(goal_id: int) -> CoverInfo | None:
    """The cover's metadata without its bytes: the goal page reads this on every render."""
    row = db.session.execute(
        sa.select(GoalCover.digest, GoalCover.width, GoalCover.height, GoalCover.alt).where(
            GoalCover.goal_id == goal_id
        )
    ).first()
    return CoverInfo(*row) if row is not None else None


def public_cover_bytes(slug: str, digest: str) -> bytes | None:
    """A published goal's cover bytes, only while `digest` names its current cover."""
    data: bytes | None = db.session.execute(
        sa.select(GoalCover.data)
        .join(Goal, Goal.id == GoalCover.goal_id)
        .where(Goal.slug == slug, Goal.status != GoalStatus.DRAFT, GoalCover.digest == digest)
    ).scalar_one_or_none()
    return data
