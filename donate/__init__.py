"""The donate application factory: configuration, extensions, blueprints, CLI and error pages."""

from __future__ import annotations

import hmac
import io
import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, abort, jsonify, render_template, request
from flask.logging import default_handler
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from donate.body_limits import apply_route_limit
from donate.caching import PublicAwareSessionInterface
from donate.config import (
    INSTANCE_DIR,
    MAX_REQUEST_BYTES,
    PROJECT_ROOT,
    Settings,
    engine_options_for,
)
from donate.extensions import babel, configure_sqlite, csrf, db, limiter, login_manager, migrate


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build an app from the environment, with `overrides` applied last (tests use them)."""
    settings = Settings.from_environ()
    settings.check_production()

    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(INSTANCE_DIR),
    )
    app.config.update(settings.flask_config())
    if overrides:
        app.config.update(overrides)
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS", engine_options_for(app.config["SQLALCHEMY_DATABASE_URI"])
    )
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)

    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    app.session_interface = PublicAwareSessionInterface()
    _init_extensions(app)
    _warn_about_per_process_rate_limits(app)
    with app.app_context():
        from donate.stored_exponents import check_stored_exponents

        check_stored_exponents()
    _register_blueprints(app)
    _register_error_pages(app)

    from donate.cli import donate_cli

    app.cli.add_command(donate_cli)
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    _log_rate_limit_storage_problems()
    babel.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    from donate.models import User

    @login_manager.user_loader
    def load_user(session_user_id: str) -> User | None:
        user_id, _, binding = session_user_id.partition("-")
        valid_id = user_id.isascii() and user_id.isdigit() and len(user_id) < 19
        user = db.session.get(User, int(user_id)) if valid_id else None
        if user is None or not hmac.compare_digest(user.session_binding, binding):
            return None  # unknown, signed out since, or the password has changed
        return user


PER_PROCESS_LIMITS_WARNING = (
    "REDIS_URL is not set: every gunicorn worker counts rate limits on its own, so with N "
    "workers one address gets N times each limit (gifts, sign-in attempts). Set REDIS_URL "
    "in production, or run a single worker."
)


def _warn_about_per_process_rate_limits(app: Flask) -> None:
    """Production without Redis keeps limits in each worker's memory: say so at every start."""
    if app.config["DONATE_ENV"] == "production" and not app.config["REDIS_URL"]:
        app.logger.warning(PER_PROCESS_LIMITS_WARNING)


def _log_rate_limit_storage_problems() -> None:
    """Flask-Limiter says when Redis fails and it falls back to memory; let the operator see it."""
    limiter_logger = logging.getLogger("flask-limiter")
    if default_handler not in limiter_logger.handlers:
        limiter_logger.addHandler(default_handler)


def _register_blueprints(app: Flask) -> None:
    from donate.admin import admin
    from donate.api import api
    from donate.payments.views import give
    from donate.payments.webhooks import webhooks
    from donate.public import public
    from donate.widget import widget
    from donate.widget.thank_you_view import thank_you

    app.register_blueprint(public)
    app.register_blueprint(api)
    app.register_blueprint(widget)
    app.register_blueprint(thank_you)
    app.register_blueprint(give)
    app.register_blueprint(webhooks)
    app.register_blueprint(admin)


def _wants_json() -> bool:
    """API clients get JSON errors; people get pages."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _read_chunked_body(limit: int) -> None:
    """Read a body sent without a length up to the limit, and refuse it past the limit.

    Werkzeug stops reading such a body at the limit but hands on what it read as if that were
    all, so a view would see a cut-off body instead of a 413.
    """
    if not request.environ.get("wsgi.input_terminated"):
        return  # the server gives no body without a length
    body = request.stream.read(limit + 1)
    if len(body) >= limit:
        request.stream.read(1)  # past the limit: Werkzeug raises the 413 here
    request.environ["CONTENT_LENGTH"] = str(len(body))
    request.__dict__["stream"] = io.BytesIO(body)


def _size_text() -> str:
    """The body limit as people write it: "1 MB", else in KB."""
    limit = request.max_content_length or MAX_REQUEST_BYTES
    megabytes, rest = divmod(limit, 1024 * 1024)
    return f"{megabytes:,} MB" if megabytes and not rest else f"{limit // 1024:,} KB"


def _forget_refused_body() -> None:
    """The body was refused: the page saying so (and its forms) must not try to read it again."""
    refused = request._get_current_object()  # type: ignore[attr-defined]
    refused.__dict__.update(
        form=ImmutableMultiDict(), files=ImmutableMultiDict(), stream=io.BytesIO()
    )


def _register_error_pages(app: Flask) -> None:
    def refuse_oversize_body() -> None:
        """Every route refuses an oversized body, read or not, before anything parses it."""
        apply_route_limit()
        limit = request.max_content_length
        if limit is not None and (request.content_length or 0) > limit:
            abort(413)
        if limit is not None and request.content_length is None:
            _read_chunked_body(limit)

    # First of all hooks: the CSRF check reads the form, and must never see a cut-off one.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_oversize_body)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[Response | str, int]:
        code = error.code or 500
        if _wants_json():
            return jsonify(error=error.name, message=error.description), code
        return render_template("errors/error.html", error=error, code=code), code

    @app.errorhandler(413)
    def too_large(error: HTTPException) -> tuple[Response | str, int]:
        _forget_refused_body()
        message = f"This request is too large: at most {_size_text()} is accepted."
        if _wants_json() or request.accept_mimetypes.best == "application/json":
            return jsonify(error="Payload Too Large", message=message), 413
        return render_template("errors/error.html", code=413, message=message), 413

    @app.errorhandler(429)
    def too_many_requests(error: HTTPException) -> tuple[Response | str, int]:
        message = (
            "Too many attempts from your connection in a short time. "
            "Please wait a minute, then try again."
        )
        if _wants_json() or request.accept_mimetypes.best == "application/json":
            return jsonify(error="Too Many Requests", message=message), 429
        return render_template("errors/error.html", code=429, message=message), 429

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[Response | str, int]:
        if isinstance(error, HTTPException):
            return http_error(error)
        if isinstance(error, OperationalError | InterfaceError):
            # A database outage fails many requests alike: one line each, no traceback flood.
            app.logger.error(
                "Database unavailable on %s %s: %s",
                request.method,
                request.path,
                str(error.orig or error).splitlines()[0],
            )
            code, title = 503, "Service Unavailable"
            message = "We cannot reach our database just now. Please try again in a minute."
        else:
            app.logger.exception("Unhandled error on %s %s", request.method, request.path)
            code, title = 500, "Internal Server Error"
            message = "Something went wrong on our side. Please try again in a moment."
        if request.endpoint == "give.came_back":
            # The donor has just paid at Stripe: never suggest that nothing was charged.
            message = (
                "Your payment is being confirmed; there is no need to give again. "
                "Please reload this page in a minute."
            )
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the session may be as unreachable as the database
            app.logger.warning("Could not roll back the failed request's session.")
        if _wants_json():
            return jsonify(error=title, message=message), code
        return render_template("errors/error.html", code=code, message=message), code
