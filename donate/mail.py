"""Outgoing mail: through SMTP when SMTP_HOST is set, else to the log and a local folder."""

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


class MailError(RuntimeError):
    """The message could not be handed to the mail server; the text says what to check."""


@dataclass(frozen=True)
class Outgoing:
    """One plain-text message to one person."""

    to: str
    subject: str
    body: str


def compose(message: Outgoing) -> EmailMessage:
    """Build the RFC 5322 message with our sender address."""
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="donate.local")
    email.set_content(message.body)
    return email


def send(message: Outgoing) -> None:
    """Deliver a message, or keep it where a developer can read it when no server is set."""
    email = compose(message)
    if current_app.config.get("SMTP_HOST"):
        _send_smtp(email)
        return
    path = _write_to_folder(email)
    if current_app.config.get("DONATE_ENV") == "production":
        current_app.logger.warning(
            "SMTP_HOST is not set: mail to %s was written to %s instead of being sent.",
            message.to,
            path,
        )
    current_app.logger.info(
        "Mail to %s (%s), kept in %s:\n%s", message.to, message.subject, path, message.body
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
