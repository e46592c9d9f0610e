"""Small builders for sites, goals and gifts, so tests state only what matters to them."""

from __future__ import annotations

from itertools import count

from donate import ledger
from donate.extensions import db
from donate.goals import GoalSettings, SiteSettings, create_goal, create_site
from donate.models import Donation, DonationKind, Goal, GoalStatus, Site

_serial = count(1)


def make_site(**overrides: object) -> Site:
    """A site that allows embeds from a local test origin."""
    values: dict[str, object] = {
        "name": f"Test site {next(_serial)}",
        "allowed_origins": ["http://localhost:*"],
        "default_currency": "USD",
        "default_locale": "en",
    }
    values.update(overrides)
    return create_site(SiteSettings(**values))  # type: ignore[arg-type]


def make_goal(site: Site | None = None, **overrides: object) -> Goal:
    """An active goal in the site's currency with a 5,000 target."""
    site = site or make_site()
    values: dict[str, object] = {
        "slug": f"goal-{next(_serial)}",
        "title": "Keep the newsroom going",
        "currency": site.default_currency,
        "target_minor": 500_000,
        "presets_minor": [1_000, 2_500, 5_000],
        "minimum_minor": 500,
        "maximum_minor": 1_000_000,
        "monthly_enabled": True,
        "status": GoalStatus.ACTIVE,
    }
    values.update(overrides)
    return create_goal(site, GoalSettings(**values))  # type: ignore[arg-type]


def make_offline_gift(goal: Goal, amount_minor: int, **overrides: object) -> Donation:
    """A gift already received, counted at once."""
    return ledger.record_succeeded_gift(
        goal,
        amount_minor=amount_minor,
        kind=overrides.pop("kind", DonationKind.OFFLINE),  # type: ignore[arg-type]
        cause="test",
        **overrides,  # type: ignore[arg-type]
    )


def reload(goal: Goal) -> Goal:
    """The goal as the database has it now."""
    db.session.expire(goal)
    return db.session.get(Goal, goal.id)  # type: ignore[return-value]
