"""The one widget endpoint that is never cached: a returning donor's gift, named by its token."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from donate.extensions import db
from donate.models import Donation
from donate.widget.languages import choose_locale
from donate.widget.reading import find_widget_goal
from donate.widget.thank_you import describe_gift, read_gift

thank_you = Blueprint("thank_you", __name__)


def _private(response: Response, status: int = 200) -> Response:
    """One donor's answer: kept by no cache, framed by nobody, sent nowhere as referrer."""
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@thank_you.get("/w/<slug>/thanks")
def gift_state(slug: str) -> Response:
    """This gift's amount and state and the goal's bar, for ?token=; 404 for a bad token."""
    public_goal = find_widget_goal(slug)
    donation_id = (
        read_gift(request.args.get("token") or "", public_goal.goal.id) if public_goal else None
    )
    donation = (
        db.session.get(Donation, donation_id, populate_existing=True)
        if donation_id is not None
        else None
    )
    if public_goal is None or donation is None or donation.goal_id != public_goal.goal.id:
        # Forged, expired, another goal's: the same answer, so a token's fate is all it tells.
        return _private(jsonify(state="unknown"), 404)
    locale = choose_locale(request.args.get("locale"), public_goal.site_locale).locale
    return _private(jsonify(describe_gift(donation, public_goal.goal, locale).as_json()))
