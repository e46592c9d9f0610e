"""`flask donate worker`: the command that runs the outbox's sending loop."""

from __future__ import annotations

import logging
import signal

import click
from flask import current_app
from flask.cli import with_appcontext

from donate.outbox.worker import CRASH_POINTS, Worker, WorkerOptions


def _destination() -> str:
    config = current_app.config
    if config.get("SMTP_HOST"):
        return f"the mail server {config['SMTP_HOST']}:{config['SMTP_PORT']}"
    return f"the log and {config['MAIL_FOLDER']} (no SMTP_HOST set)"


@click.command("worker")
@click.option("--once", is_flag=True, help="Send every message that is due, then stop.")
@click.option(
    "--poll-seconds", type=click.FloatRange(min=0.05), default=2.0, show_default=True,
    help="How long to wait before looking again when nothing is due.",
)  # fmt: skip
@click.option(
    "--lease-seconds", type=click.FloatRange(min=1), default=120.0, show_default=True,
    help="How long a message is this worker's before another may take it over.",
)  # fmt: skip
@click.option("--crash-at", type=click.Choice(CRASH_POINTS), hidden=True)
@with_appcontext
def worker_command(
    once: bool, poll_seconds: float, lease_seconds: float, crash_at: str | None
) -> None:
    """Send the outbox's messages (receipts, refund notices, password resets); run one or more."""
    config = current_app.config
    if crash_at and config["DONATE_ENV"] != "test":
        raise click.ClickException("--crash-at is for the test suite only.")
    if config["DONATE_ENV"] == "production" and not config.get("SMTP_HOST"):
        raise click.ClickException("Set SMTP_HOST (and SMTP_PORT, ...): there is no mail server.")
    # Each message sent (and, without SMTP_HOST in development, its text) is one log line.
    if current_app.logger.getEffectiveLevel() > logging.INFO:
        current_app.logger.setLevel(logging.INFO)
    worker = Worker(WorkerOptions(poll_seconds, lease_seconds, once, crash_at))
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    click.echo(f"Sending the outbox's mail to {_destination()}.", err=True)
    sent = worker.run()
    click.echo(f"Outbox worker stopped: {sent} message(s) sent.", err=True)
