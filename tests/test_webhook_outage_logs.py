"""A database outage fails every webhook alike: one log line per event, one traceback in all."""

from __future__ import annotations

import logging

import pytest

from donate import create_app
from donate.payments import inbox
from tests.conftest import app_config
from tests.stripe_events import event, post_event, shape

# Nothing listens on port 1: every connection is refused, as with PostgreSQL down.
UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/donate"


@pytest.fixture
def app_without_database():
    return create_app(app_config(UNREACHABLE_DATABASE))


def test_each_failed_webhook_logs_one_line_and_the_traceback_once(
    app_without_database, caplog, monkeypatch
):
    monkeypatch.setattr(inbox, "_tracebacks_logged", set())
    # The migrations' logging setup (run by the suite's app) disables loggers created before it.
    monkeypatch.setattr(inbox.log, "disabled", False)
    client = app_without_database.test_client()
    with caplog.at_level(logging.INFO):
        statuses = [
            post_event(client, event("charge.refunded", shape("charge"))).status_code
            for _ in range(3)
        ]
    assert statuses == [500, 500, 500]
    failures = [r for r in caplog.records if "Applying Stripe event" in r.getMessage()]
    assert len(failures) == 3
    assert all("OperationalError" in r.getMessage() for r in failures)
    assert all("could not be recorded" in r.getMessage() for r in failures)
    with_traceback = [r for r in caplog.records if r.exc_info]
    assert [r.getMessage() for r in with_traceback] == [failures[0].getMessage()]
    assert len(caplog.records) == 3 + sum(
        "stored currency exponents" in r.getMessage() for r in caplog.records
    )
