"""Shared fixtures: one app per run on SQLite or PostgreSQL, and two kinds of per-test isolation.

- `db_session` (used by `client` and most tests): everything a test writes happens inside one
  outer transaction that is rolled back afterwards; commits inside the app become savepoints.
- `committed_db`: for tests whose data must be visible to other connections (a live server,
  concurrent writers, the sandbox); rows are really committed and every table is emptied after.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import orm

from donate import create_app
from donate.extensions import db, limiter

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
WEBHOOK_SECRET = "whsec_test_secret"


def database_url(tmp_dir: Path) -> str:
    """PostgreSQL when TEST_DATABASE_URL is set, else a fresh SQLite file for this run."""
    if TEST_DATABASE_URL:
        from donate.config import normalise_database_url

        return normalise_database_url(TEST_DATABASE_URL)
    return f"sqlite:///{tmp_dir / 'test.sqlite3'}"


def reset_schema(url: str) -> None:
    """Start every run from an empty database, so migrations are what builds the schema."""
    if not url.startswith("postgresql"):
        return
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def app_config(url: str, **extra: object) -> dict[str, object]:
    """The overrides every test app shares."""
    return {
        "DONATE_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        "STRIPE_SECRET_KEY": "sk_test_donate_tests",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # A closed local port: a test that forgets the sandbox fails fast instead of going online.
        "STRIPE_API_BASE": "http://127.0.0.1:9",
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        **extra,
    }


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """One app per test run, its schema built by the Alembic migrations."""
    url = database_url(tmp_path_factory.mktemp("db"))
    reset_schema(url)
    application = create_app(app_config(url))
    with application.app_context():
        upgrade()
        db.engine.dispose()
    yield application


def _table_names() -> list[str]:
    return [table.name for table in reversed(db.metadata.sorted_tables)]


def empty_all_tables() -> None:
    """Remove every row, so the next test starts from nothing."""
    db.session.remove()
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{name}"' for name in _table_names())
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for name in _table_names():
                connection.execute(sa.text(f'DELETE FROM "{name}"'))


@pytest.fixture(autouse=True)
def _reset_rate_limits(app: Flask) -> Iterator[None]:
    """Each test starts with fresh rate-limit counters; limits stay switched on."""
    with app.app_context():
        limiter.reset()
    yield


class _JoinedSession(orm.Session):
    """A plain SQLAlchemy session (Flask-SQLAlchemy's would pick the engine over our connection)."""

    def __init__(self, *args: object, db: object = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def db_session(app: Flask) -> Iterator[orm.scoped_session]:
    """Run the test inside one transaction that is rolled back at the end."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "class_": _JoinedSession,
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
            }
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def committed_db(app: Flask) -> Iterator[orm.scoped_session]:
    """Let the test commit for real (other connections see it); empty the tables afterwards."""
    with app.app_context():
        empty_all_tables()
        try:
            yield db.session
        finally:
            empty_all_tables()


@pytest.fixture
def client(app: Flask, db_session: orm.scoped_session):
    """A test client whose requests run inside the test's rolled-back transaction."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask, db_session: orm.scoped_session):
    """A CLI runner inside the test's rolled-back transaction."""
    return app.test_cli_runner()


class LiveServer:
    """The app served over real HTTP on a free loopback port, in a background thread."""

    def __init__(self, app: Flask) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask, committed_db, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """The app at a real address (committed data only), with PUBLIC_URL pointing at it."""
    server = LiveServer(app)
    monkeypatch.setitem(app.config, "PUBLIC_URL", server.url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def stripe_sandbox(app: Flask, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch):
    """The local Stripe sandbox, delivering signed webhooks to the live app on a fast schedule."""
    from sandbox import RetryPolicy, start_in_thread

    handle = start_in_thread(
        port=0,
        webhook_url=f"{live_server.url}/stripe/webhook",
        webhook_secret=WEBHOOK_SECRET,
        retry=RetryPolicy(first_delay=0.05, factor=2, max_delay=0.4, max_attempts=6),
        async_delay=None,
    )
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", handle.url)
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_test_donate_e2e")
    app.extensions.pop("donate.stripe", None)
    try:
        yield handle
    finally:
        handle.stop()
        app.extensions.pop("donate.stripe", None)
