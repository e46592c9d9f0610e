"""The dashboard blueprint: sign-in required, site taken from the URL, never framed or cached."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask_login import current_user

from donate.admin import scoping
from donate.extensions import login_manager
from donate.origins import OriginError, normalise_origin

admin = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    static_folder="static",
    static_url_path="/static",
)

# Pages a signed-out person must reach: signing in, resetting a password, accepting an invitation.
OPEN_ENDPOINTS = frozenset(
    {
        "admin.sign_in",
        "admin.static",
        "admin.request_reset",
        "admin.reset_password",
        "admin.accept_invitation",
    }
)


@admin.record_once
def _configure_login(state: Any) -> None:
    login_manager.login_view = "admin.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"


@admin.url_value_preprocessor
def _take_site_id(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    # Views never see site_id: the membership check below turns it into g.site or a 404.
    # Everything is reset, as g can outlive one request where an app context is shared.
    g.site = g.role = g.preview_policy = None
    g.site_id = values.pop("site_id", None) if values else None


@admin.url_defaults
def _keep_site_id(endpoint: str, values: dict[str, Any]) -> None:
    site = g.get("site")
    if (
        site is not None
        and "site_id" not in values
        and current_app.url_map.is_endpoint_expecting(endpoint, "site_id")
    ):
        values["site_id"] = site.id


@admin.before_request
def _require_member() -> Any:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if g.get("site_id") is not None:
        scoping.enter_site(g.site_id)
    return None


def dashboard_policy() -> str:
    """Our own scripts and styles only; the widget preview may come from PUBLIC_URL; no framing."""
    sources = ["'self'"]
    try:
        public = normalise_origin(current_app.config.get("PUBLIC_URL") or "")
    except OriginError:
        public = None
    if public:
        sources.append(public)
    own = " ".join(sources)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {own} data:",
            f"frame-src {own}",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ]
    )


@admin.after_request
def _private_and_unframed(response: Response) -> Response:
    # The designer's widget preview is framed by the dashboard itself, under the widget's policy.
    preview_policy = g.get("preview_policy")
    response.headers["Content-Security-Policy"] = preview_policy or dashboard_policy()
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if preview_policy else "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Reset and invitation tokens travel in URLs; they must not leak to other sites.
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint != "admin.static":
        response.headers["Cache-Control"] = "private, no-store"
    return response
