"""`flask donate worker`: lease a message, compose it, send it with no transaction open, mark it.

Delivery is at least once: a worker that dies after the mail server took a message but before
its own commit leaves the lease to run out, and the next worker sends the same message (same
Message-ID) again. A message is marked sent only after the server accepted it.
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass

from flask import current_app

from donate import mail
from donate.extensions import db
from donate.models import OutboxStatus
from donate.outbox import queue
from donate.outbox.compose import NothingToSend, compose

# Where a test may have the worker killed (SIGKILL, as a crash would): after its lease was
# committed, after the mail server accepted the message, and inside the transaction that marks
# it sent, before that commits.
CRASH_POINTS = ("claimed", "accepted", "marking")


@dataclass(frozen=True)
class WorkerOptions:
    """How often to look for work, how long a lease lasts, and whether to stop when idle."""

    poll_seconds: float = 2.0
    lease_seconds: float = 120.0
    once: bool = False
    crash_at: str | None = None


class Worker:
    """One sending loop; several may run at once, on one machine or many."""

    def __init__(self, options: WorkerOptions) -> None:
        self.options = options
        self.stopping = threading.Event()
        self.sent = 0

    def stop(self, *_signal: object) -> None:
        """Finish the message in hand, then leave the loop (SIGTERM, SIGINT)."""
        self.stopping.set()

    def run(self) -> int:
        """Send until stopped (or, with `once`, until nothing is due); return how many were sent."""
        while not self.stopping.is_set():
            if self.work_one():
                continue
            if self.options.once:
                break
            db.session.remove()  # no connection, let alone a transaction, kept between polls
            self.stopping.wait(self.options.poll_seconds)
        if not self.options.once:
            db.session.remove()
        return self.sent

    def work_one(self) -> bool:
        """Lease and send one due message; False when none was due."""
        lease = queue.claim_next(self.options.lease_seconds)
        if lease is None:
            return False
        self._crash_if("claimed")
        self._send(lease)
        return True

    def _send(self, lease: queue.Lease) -> None:
        try:
            with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
                email = compose(lease.message_id)
        except NothingToSend:
            db.session.rollback()
            queue.finish(lease, OutboxStatus.SKIPPED, forget_recipient=True)
            return
        except Exception as error:
            db.session.rollback()
            current_app.logger.exception("Outbox message %s could not be composed.", lease)
            queue.retry_later(lease, f"Could not compose the message: {error}")
            return
        db.session.rollback()  # end the reads: nothing stays open while the mail server talks
        try:
            mail.deliver(email)
        except mail.MailError as error:
            detail = f"{error} ({error.__cause__})" if error.__cause__ else str(error)
            current_app.logger.warning("Outbox message %s not sent: %s", lease.message_id, detail)
            queue.retry_later(lease, detail)
            return
        self._crash_if("accepted")
        queue.finish(lease, OutboxStatus.SENT, before_commit=lambda: self._crash_if("marking"))
        self.sent += 1
        current_app.logger.info("Sent outbox message %s (%s).", lease.message_id, email["Subject"])

    def _crash_if(self, point: str) -> None:
        if self.options.crash_at == point:
            os.kill(os.getpid(), signal.SIGKILL)
