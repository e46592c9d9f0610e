"""The public read API: goals and their totals as JSON, cacheable by browsers and CDNs."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Blueprint, Response, abort, jsonify, request, url_for

from donate.caching import public_response
from donate.extensions import db
from donate.goal_view import BadLocale, PublicGoal, find_public_goal, parse_locale
from donate.models import Goal, GoalStatus, Site

api = Blueprint("api", __name__, url_prefix="/api/v1")


def _cacheable(response: Response, etag: str) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return public_response(response, etag)


def _locale_or_400(default: str) -> str:
    try:
        return parse_locale(request.args.get("locale"), default)
    except BadLocale as error:
        abort(400, description=str(error))


@api.get("/goals")
def list_goals() -> Response:
    """Active goals, newest first, with their totals."""
    rows = db.session.execute(
        sa.select(Goal, Site.default_locale)
        .join(Site, Site.id == Goal.site_id)
        .where(Goal.status == GoalStatus.ACTIVE)
        .order_by(Goal.id.desc())
        .limit(200)
    ).all()
    goals = [PublicGoal(goal=goal, site_locale=site_locale) for goal, site_locale in rows]
    locale = _locale_or_400(goals[0].site_locale if goals else "en")
    payload = [
        {**item.as_json(locale), "url": url_for("api.show_goal", slug=item.goal.slug)}
        for item in goals
    ]
    seed = "-".join(item.etag(locale) for item in goals) or "empty"
    return _cacheable(jsonify(goals=payload), etag=hashlib.sha256(seed.encode()).hexdigest()[:32])


@api.get("/goals/<slug>")
def show_goal(slug: str) -> Response:
    """One goal's totals: one row read, never an aggregate."""
    public_goal = find_public_goal(slug)
    if public_goal is None:
        abort(404, description=f"No goal is published at {slug[:80]!r}.")
    locale = _locale_or_400(public_goal.site_locale)
    return _cacheable(jsonify(public_goal.as_json(locale)), etag=public_goal.etag(locale))


@api.after_request
def allow_cross_origin_reads(response: Response) -> Response:
    """Let any page read public totals with fetch()."""
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response
