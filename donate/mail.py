"""Outgoing mail: through SMTP when SMTP_HOST is set, else (in development and test only) to the log
and a local folder."""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app

# Where mail that was not sent may be written to the log and the mail folder, links and all.
_KEEPS_UNSENT_MAIL = ("development", "test")


class MailError(RuntimeError):
    """The message could not be handed to the mail server; the text says what to check."""


@dataclass(frozen=True)
class Outgoing:
    """One plain-text message to one person."""

    to: str
    subject: str
    body: str


def compose(message: Outgoing) -> EmailMessage:
    """Build the RFC 5322 message with our sender address; MailError if a header cannot hold it."""
    email = EmailMessage()
    try:
        email["From"] = current_app.config["MAIL_FROM"]
        email["To"] = message.to
        email["Subject"] = message.subject
        email["Message-ID"] = make_msgid(domain="donate.local")
        email.set_content(message.body)
    except ValueError as error:
        current_app.logger.error("Mail to %r could not be composed: %s", message.to, error)
        raise MailError(
            "The message could not be written: a name or address in it has a line break or "
            "another character mail does not allow."
        ) from error
    return email


def send(message: Outgoing) -> None:
    """Deliver a message; without a server, keep it for a developer, but never log it in production.

    The body holds working sign-in links, so only development and test write it anywhere.
    """
    email = compose(message)
    config = current_app.config
    if config.get("SMTP_HOST"):
        _send_smtp(email)
        return
    if config.get("DONATE_ENV") not in _KEEPS_UNSENT_MAIL:
        current_app.logger.error(
            "Mail is not configured (SMTP_HOST is not set): the message to %s (%s) was not sent.",
            message.to,
            message.subject,
        )
        return
    path = _write_to_folder(email)
    current_app.logger.info(
        "Mail to %s (%s), kept in %s:\n%s", message.to, message.subject, path, message.body
    )


def deliver(email: EmailMessage) -> None:
    """Hand a composed message to the mail server, or (development, test) to the folder and log.

    Raises MailError when it was not handed over, so the outbox keeps the message and retries.
    """
    config = current_app.config
    if config.get("SMTP_HOST"):
        _send_smtp(email)
        return
    if config.get("DONATE_ENV") not in _KEEPS_UNSENT_MAIL:
        raise MailError("Mail is not configured: set SMTP_HOST.")
    path = _write_to_folder(email)
    text = email.get_body(("plain",))
    current_app.logger.info(
        "Mail to %s (%s), kept in %s:\n%s",
        email["To"],
        email["Subject"],
        path,
        text.get_content() if isinstance(text, EmailMessage) else "",
    )


def _send_smtp(email: EmailMessage) -> None:
    config = current_app.config
    try:
        with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=20) as server:
            if config.get("SMTP_STARTTLS"):
                server.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USERNAME"):
                server.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            server.send_message(email)
    except (OSError, smtplib.SMTPException) as error:
        current_app.logger.error("Sending mail through %s failed: %s", config["SMTP_HOST"], error)
        raise MailError(
            "The mail server refused the message or could not be reached; "
            "check the SMTP settings and try again."
        ) from error


def _write_to_folder(email: EmailMessage) -> Path:
    folder = Path(current_app.config["MAIL_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    recipient = re.sub(r"[^a-z0-9]+", "-", str(email["To"]).lower()).strip("-")[:60]
    path = folder / f"{stamp}-{recipient}.eml"
    path.write_bytes(email.as_bytes())
    return path
