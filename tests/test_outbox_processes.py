"""Workers as real processes on committed data: two at once, and killed at named points.

A worker is `flask donate worker` in a subprocess. `--crash-at` (test configuration only) has it
SIGKILL itself at a named point: after its lease committed, after the SMTP server accepted the
message, and inside the transaction that marks it sent, before the commit. A restarted worker
takes the message over once the lease runs out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from donate.extensions import db
from donate.models import Donation, OutboxMessage, OutboxStatus, Site
from tests.factories import make_goal, make_offline_gift, make_site
from tests.smtp_support import text_of
from tests.test_payments_e2e import checkout_session_id, give, pay, settled_totals

pytestmark = pytest.mark.live
pytest_plugins = ["tests.smtp_fixtures"]
ROOT = Path(__file__).resolve().parent.parent


def worker_env(app, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "DONATE_ENV": "test",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PUBLIC_URL": app.config["PUBLIC_URL"],
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "false",
        "MAIL_FROM": "Test <give@test.example>",
    }


def worker(app, port: int, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "donate", "worker", *args],
        cwd=ROOT,
        env=worker_env(app, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def outbox_rows() -> list[OutboxMessage]:
    db.session.remove()
    return list(db.session.execute(sa.select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def receipts_site() -> Site:
    site = make_site()
    site.receipts_enabled = True
    site.receipt_organisation = "Process Test Trust"
    return site


@pytest.mark.parametrize("point", ["claimed", "accepted", "marking"])
def test_a_killed_worker_leaves_every_message_delivered_with_one_message_id(
    app, committed_db, smtp_server, point
):
    inbox, port = smtp_server
    goal = make_goal(receipts_site())
    for n in (1, 2):
        make_offline_gift(goal, 1_000 * n, donor_email=f"d{n}@x.example")
    db.session.commit()

    crashed = worker(app, port, "--once", "--lease-seconds", "1", "--crash-at", point)
    assert crashed.wait(timeout=60) == -signal.SIGKILL, crashed.stderr.read()
    first = outbox_rows()[0]
    assert first.status == OutboxStatus.PENDING  # never marked sent by the killed worker
    assert first.attempts == 1 and first.claimed_until is not None
    delivered_before = inbox.received()
    assert len(delivered_before) == (0 if point == "claimed" else 1)

    time.sleep(1.2)  # the dead worker's lease runs out
    restarted = worker(app, port, "--once", "--lease-seconds", "30")
    assert restarted.wait(timeout=60) == 0, restarted.stderr.read()
    rows = outbox_rows()
    assert [row.status for row in rows] == [OutboxStatus.SENT, OutboxStatus.SENT]
    received = inbox.received()
    for row in rows:
        copies = [m for m in received if m["Message-ID"] == row.message_id]
        assert copies, f"{row.message_id} never reached the server"
        assert len(copies) == (2 if row.id == first.id and point != "claimed" else 1)
    assert len(received) == (2 if point == "claimed" else 3)


def test_a_gift_through_the_sandbox_yields_one_receipt_with_two_workers(
    app, live_server, stripe_sandbox, smtp_server
):
    inbox, port = smtp_server
    goal = make_goal(receipts_site(), slug="receipt-e2e", maximum_minor=None)
    make_offline_gift(goal, 1_000, donor_email="earlier@x.example")  # takes number 1
    db.session.commit()
    workers = [worker(app, port, "--poll-seconds", "0.1") for _ in range(2)]
    try:
        session_id = checkout_session_id(give(live_server, goal.slug, amount_minor="2500"))
        pay(stripe_sandbox, session_id)
        assert settled_totals(stripe_sandbox, goal.id) == (3_500, 2, 2)
        received = inbox.wait_for(2)
        deadline = time.monotonic() + 30
        while {row.status for row in outbox_rows()} != {OutboxStatus.SENT}:
            assert time.monotonic() < deadline, "the workers did not finish"
            time.sleep(0.1)
        time.sleep(0.5)  # room for a duplicate to show up, if a second worker sent one
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for process in workers:
            assert process.wait(timeout=30) == 0, process.stderr.read()
    received = inbox.received()
    donation = db.session.execute(
        sa.select(Donation).where(Donation.stripe_checkout_session_id == session_id)
    ).scalar_one()
    mine = [m for m in received if m["To"] == "reader@example.org"]
    assert len(mine) == 1 and len(received) == 2
    assert donation.receipt_number == 2
    assert "Receipt number: 2" in text_of(mine[0]) and "Amount: $25.00" in text_of(mine[0])
