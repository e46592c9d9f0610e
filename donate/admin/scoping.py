"""The current user's sites and roles: every dashboard read and change is scoped through here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, g
from flask_login import current_user

from donate.extensions import db
from donate.models import Donation, Goal, Membership, Role, Site

ROLE_RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.OWNER: 2}
ROLE_NAMES = {
    Role.OWNER: "owner",
    Role.EDITOR: "editor",
    Role.VIEWER: "viewer",
}
View = TypeVar("View", bound=Callable[..., Any])
# The largest id a row can have: ids are INTEGER columns, 32 bits on PostgreSQL. Larger numbers
# name nothing, and comparing with them fails (PostgreSQL's range, SQLite's 64-bit overflow).
MAX_ID = 2**31 - 1


def real_id_or_404(row_id: int) -> int:
    """An id from a URL that a row could have; anything larger names nothing, so 404."""
    if not 0 < row_id <= MAX_ID:
        abort(404)
    return row_id


def clamp_id(row_id: int) -> int:
    """An id from a query string brought within what the database can compare."""
    return min(max(row_id, 0), MAX_ID)


def my_memberships() -> list[Membership]:
    """The signed-in user's memberships with their sites, in site-name order."""
    return list(
        db.session.execute(
            sa.select(Membership)
            .join(Site, Site.id == Membership.site_id)
            .where(Membership.user_id == current_user.id)
            .order_by(Site.name, Site.id)
        ).scalars()
    )


def enter_site(site_id: int) -> None:
    """Make a site current for this request, or answer 404 to anyone who is not its member."""
    real_id_or_404(site_id)
    membership = db.session.execute(
        sa.select(Membership).where(
            Membership.site_id == site_id, Membership.user_id == current_user.id
        )
    ).scalar_one_or_none()
    if membership is None:
        abort(404)
    g.site = membership.site
    g.role = membership.role


def current_site() -> Site:
    """The site named in the URL, already checked against the user's memberships."""
    site: Site = g.site
    return site


def may(role: Role) -> bool:
    """Whether the user's role on the current site reaches `role`."""
    current = g.get("role")
    return current is not None and ROLE_RANK[current] >= ROLE_RANK[role]


def requires(role: Role) -> Callable[[View], View]:
    """Refuse (403) a change the user's role on this site does not allow."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not may(role):
                abort(
                    403,
                    description=(
                        f"Your role on this site ({ROLE_NAMES[g.role]}) does not allow this; "
                        f"ask an owner of the site for the {ROLE_NAMES[role]} role."
                    ),
                )
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def site_goals() -> list[Goal]:
    """The current site's goals, newest first."""
    return list(
        db.session.execute(
            sa.select(Goal).where(Goal.site_id == current_site().id).order_by(Goal.id.desc())
        ).scalars()
    )


def goal_or_404(goal_id: int) -> Goal:
    """A goal of the current site; a goal of any other site does not exist here."""
    real_id_or_404(goal_id)
    goal = db.session.execute(
        sa.select(Goal).where(Goal.id == goal_id, Goal.site_id == current_site().id)
    ).scalar_one_or_none()
    if goal is None:
        abort(404)
    return goal


def donation_or_404(donation_id: int) -> Donation:
    """A donation to one of the current site's goals."""
    real_id_or_404(donation_id)
    donation = db.session.execute(
        sa.select(Donation)
        .join(Goal, Goal.id == Donation.goal_id)
        .where(Donation.id == donation_id, Goal.site_id == current_site().id)
    ).scalar_one_or_none()
    if donation is None:
        abort(404)
    return donation


def member_or_404(user_id: int) -> Membership:
    """Another person's membership of the current site."""
    real_id_or_404(user_id)
    membership = db.session.execute(
        sa.select(Membership).where(
            Membership.user_id == user_id, Membership.site_id == current_site().id
        )
    ).scalar_one_or_none()
    if membership is None:
        abort(404)
    return membership
