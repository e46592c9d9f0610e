"""Pages anyone may open: the home page and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, render_template
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from donate import money
from donate.extensions import db
from donate.models import Goal, GoalStatus

public = Blueprint("public", __name__)


@public.get("/")
def home() -> str:
    """Say what this instance is and link to its goals."""
    goals = db.session.execute(
        sa.select(Goal)
        .options(joinedload(Goal.site))
        .where(Goal.status == GoalStatus.ACTIVE)
        .order_by(Goal.id)
        .limit(50)
    ).scalars()
    lines = [(goal, _progress(goal)) for goal in goals]
    return render_template("home.html", lines=lines, payments_notice=payments_notice())


def _progress(goal: Goal) -> str:
    """The share raised as the goal's own site writes it, as its dashboard does."""
    return money.format_progress(goal.raised_minor, goal.target_minor, goal.site.default_locale)


def payments_notice() -> str | None:
    """Tell visitors when no real card can be charged here."""
    key = current_app.config["STRIPE_SECRET_KEY"]
    api_base = current_app.config["STRIPE_API_BASE"]
    if not key:
        return "Payments are not configured on this instance yet."
    if api_base and "stripe.com" not in api_base:
        return (
            "Payments on this instance are simulated by a local Stripe sandbox: no card is charged."
        )
    if not key.startswith(("sk_live_", "rk_live_")):
        return "Stripe runs in test mode here: use Stripe's test cards; no card is charged."
    return None


@public.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Answer 200 only when the database answers, so a load balancer can route around us."""
    try:
        db.session.execute(sa.text("SELECT 1")).scalar_one()
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.error("Health check failed: %s", error)
        return jsonify(status="unavailable", database="unreachable"), 503
    response = jsonify(status="ok", database="ok")
    response.headers["Cache-Control"] = "no-store"
    return response, 200
