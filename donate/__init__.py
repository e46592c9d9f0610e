"""The donate application factory: configuration, extensions, blueprints, CLI and error pages."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from donate.caching import PublicAwareSessionInterface
from donate.config import INSTANCE_DIR, PROJECT_ROOT, Settings, engine_options_for
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
    babel.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    from donate.models import User

    @login_manager.user_loader
    def load_user(session_user_id: str) -> User | None:
        user_id, _, fingerprint = session_user_id.partition("-")
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        if user is None or not hmac.compare_digest(user.password_fingerprint, fingerprint):
            return None  # unknown, or signed in with a password that has since changed
        return user


def _register_blueprints(app: Flask) -> None:
    from donate.admin import admin
    from donate.api import api
    from donate.payments.views import give
    from donate.payments.webhooks import webhooks
    from donate.public import public
    from donate.widget import widget

    app.register_blueprint(public)
    app.register_blueprint(api)
    app.register_blueprint(widget)
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


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # noqa: ANN202
        code = error.code or 500
        if _wants_json():
            return jsonify(error=error.name, message=error.description), code
        return render_template("errors/error.html", error=error, code=code), code

    @app.errorhandler(429)
    def too_many_requests(error: HTTPException):  # noqa: ANN202
        message = (
            "Too many attempts from your connection in a short time. "
            "Please wait a minute, then try again."
        )
        if _wants_json() or request.accept_mimetypes.best == "application/json":
            return jsonify(error="Too Many Requests", message=message), 429
        return render_template("errors/error.html", code=429, message=message), 429

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):  # noqa: ANN202
        if isinstance(error, HTTPException):
            return http_error(error)
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        message = "Something went wrong on our side. Nothing was charged; please try again."
        if _wants_json():
            return jsonify(error="Internal Server Error", message=message), 500
        return render_template("errors/error.html", code=500, message=message), 500
