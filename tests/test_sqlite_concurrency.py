"""SQLite with concurrent writers: they queue on the busy timeout instead of failing."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from flask import Flask

from donate import create_app, ledger
from donate.extensions import db
from donate.models import DonationKind, Goal
from tests.conftest import app_config
from tests.factories import make_goal


def _sqlite_app(tmp_path) -> Flask:
    """Its own SQLite file, whatever database the rest of the run uses."""
    app = create_app(app_config(f"sqlite:///{tmp_path / 'concurrent.sqlite3'}"))
    with app.app_context():
        db.create_all()
    return app


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path):
    app = _sqlite_app(tmp_path)
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert 5_000 <= busy_timeout < 30_000  # waits, but ends before the worker timeout


def test_two_concurrent_writers_both_succeed(tmp_path):
    app = _sqlite_app(tmp_path)
    with app.app_context():
        goal_id = make_goal().id
        db.session.commit()

    start = threading.Barrier(2)
    errors: list[BaseException] = []
    per_writer = 25

    def writer() -> None:
        try:
            with app.app_context():
                start.wait()
                for _ in range(per_writer):
                    goal = db.session.get(Goal, goal_id)
                    ledger.record_succeeded_gift(
                        goal, amount_minor=100, kind=DonationKind.OFFLINE, cause="thread"
                    )
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with app.app_context():
        goal = db.session.get(Goal, goal_id)
        assert goal.donation_count == 2 * per_writer
        assert goal.raised_minor == 2 * per_writer * 100
        assert not ledger.recount(goal, cause="check", repair=False).found
        count = db.session.execute(sa.text("SELECT count(*) FROM ledger_entries")).scalar()
        assert count == 2 * per_writer
