"""Who may open a monthly donor's Customer Portal from our pages: the browser that paid, briefly.

A Checkout session id travels in the return URL, so it sits in browser histories and access
logs; alone it must never open the portal, which shows the donor's e-mail and cancels their
gift. The return page gives the first browser that brings a completed session back (the one
Stripe sent there after paying) a signed, HttpOnly cookie valid for half an hour, once per
session. Anyone else, and the donor later on, signs in on Stripe's portal login page by
proving their e-mail address.
"""

from __future__ import annotations

from flask import Request, Response, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from donate.extensions import db, insert_ignoring_duplicates
from donate.models import PortalGrant, utcnow

GRANT_COOKIE = "donate_portal"
GRANT_SECONDS = 30 * 60
GRANT_SALT = "donate.portal-grant"
GRANT_PATH = "/give/"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=GRANT_SALT)


def claim_grant(checkout_session_id: str) -> bool:
    """Record that this session's grant was given; False when a browser already had it."""
    claimed = insert_ignoring_duplicates(
        PortalGrant.__table__,
        {"checkout_session_id": checkout_session_id, "issued_at": utcnow()},
    )
    db.session.commit()
    return claimed


def give_grant(response: Response, checkout_session_id: str) -> None:
    """Let this browser, and only it, open the session's portal for the next half hour."""
    response.set_cookie(
        GRANT_COOKIE,
        _serializer().dumps(checkout_session_id),
        max_age=GRANT_SECONDS,
        path=GRANT_PATH,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )


def granted_session(request: Request) -> str | None:
    """The Checkout session this browser may open the portal for, if its grant is still valid."""
    token = request.cookies.get(GRANT_COOKIE)
    if not token:
        return None
    try:
        value = _serializer().loads(token, max_age=GRANT_SECONDS)
    except BadSignature:  # tampered with, or older than half an hour
        return None
    return value if isinstance(value, str) and value.startswith("cs_") else None
