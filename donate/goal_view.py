"""What the public may see of a goal: one row turned into numbers and display strings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from babel import Locale, UnknownLocaleError

from donate import money
from donate.extensions import db
from donate.models import Goal, GoalMatch, GoalStatus, Site, utcnow


class BadLocale(ValueError):
    """A locale name Babel does not know; the message is for the person who asked."""


def parse_locale(name: str | None, default: str) -> str:
    """Accept 'fr', 'de-CH' or 'pt_BR'; refuse what Babel cannot format for."""
    raw = (name or default or "en").strip()
    try:
        return str(Locale.parse(raw.replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        raise BadLocale(
            f"Unknown locale {raw[:20]!r}; use a code such as en, de or fr-CH."
        ) from None


@dataclass(frozen=True)
class PublicGoal:
    """A goal as read in one query, with the site's defaults it needs for display."""

    goal: Goal
    site_locale: str
    # The goal's open match, when the reader's query joined it (the widget's does).
    match: GoalMatch | None = None

    def accepting_gifts(self, now: datetime | None = None) -> bool:
        """Open for gifts: active, started, not past its deadline (a reached target stays open)."""
        now = now or utcnow()
        goal = self.goal
        if goal.status != GoalStatus.ACTIVE:
            return False
        if goal.starts_at and goal.starts_at > now:
            return False
        return not (goal.ends_at and goal.ends_at <= now)

    def phase(self, now: datetime | None = None) -> str:
        """One word every variant shows: draft, paused, closed, upcoming, ended, reached, open."""
        now = now or utcnow()
        goal = self.goal
        if goal.status != GoalStatus.ACTIVE:
            return goal.status.value
        if goal.starts_at and goal.starts_at > now:
            return "upcoming"
        if goal.ends_at and goal.ends_at <= now:
            return "ended"
        if goal.raised_minor >= goal.target_minor:
            return "reached"
        return "open"

    def etag(self, *parts: str) -> str:
        """A validator that changes with the totals, the goal's settings and its phase."""
        goal = self.goal
        seed = ":".join(
            [
                str(goal.id),
                str(goal.totals_version),
                goal.updated_at.isoformat() if goal.updated_at else "",
                self.phase(),
                *parts,
            ]
        )
        return hashlib.sha256(seed.encode()).hexdigest()[:32]

    def as_json(self, locale: str) -> dict[str, Any]:
        """The public read API's view: exact integers plus strings formatted for the locale."""
        goal = self.goal
        fmt = money.format_amount
        return {
            "slug": goal.slug,
            "title": goal.title,
            "currency": goal.currency,
            "target_minor": goal.target_minor,
            "raised_minor": goal.raised_minor,
            "matched_minor": goal.matched_minor,  # sponsors' matches, part of raised_minor
            "donation_count": goal.donation_count,
            "donor_count": goal.donor_count,
            "percent": goal.percent,
            "status": goal.status.value,
            "phase": self.phase(),
            "accepting_gifts": self.accepting_gifts(),
            "presets_minor": list(goal.presets_minor or []),
            "minimum_minor": goal.minimum_minor,
            "maximum_minor": goal.maximum_minor,
            "monthly_enabled": goal.monthly_enabled,
            "starts_at": goal.starts_at.isoformat() if goal.starts_at else None,
            "ends_at": goal.ends_at.isoformat() if goal.ends_at else None,
            "milestones": [
                {"amount_minor": m, "display": fmt(m, goal.currency, locale, compact=True)}
                for m in goal.milestones_minor or []
            ],
            "locale": locale,
            "display": {
                "raised": fmt(goal.raised_minor, goal.currency, locale, compact=True),
                "target": fmt(goal.target_minor, goal.currency, locale, compact=True),
                "minimum": fmt(goal.minimum_minor, goal.currency, locale),
                "maximum": fmt(goal.maximum_minor, goal.currency, locale)
                if goal.maximum_minor
                else None,
                "presets": [
                    fmt(p, goal.currency, locale, compact=True) for p in goal.presets_minor or []
                ],
                "percent": money.format_progress(goal.raised_minor, goal.target_minor, locale),
            },
        }


def find_public_goal(slug: str) -> PublicGoal | None:
    """Read one goal and its site's locale in a single query; drafts are not public."""
    row = db.session.execute(
        sa.select(Goal, Site.default_locale)
        .join(Site, Site.id == Goal.site_id)
        .where(Goal.slug == slug, Goal.status != GoalStatus.DRAFT)
    ).first()
    if row is None:
        return None
    return PublicGoal(goal=row[0], site_locale=row[1])
