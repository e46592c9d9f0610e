"""A message as the worker composes it, and the RFC 5322 form that keeps its stored Message-ID."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from flask import current_app

from donate.mail import MailError


@dataclass(frozen=True)
class Letter:
    """One message to one person: plain text always, HTML beside it when there is one."""

    to: str
    subject: str
    text: str
    html: str | None = None


def as_email(letter: Letter, message_id: str) -> EmailMessage:
    """Build the message under its stored Message-ID, so every attempt sends the same message."""
    email = EmailMessage()
    try:
        email["From"] = current_app.config["MAIL_FROM"]
        email["To"] = letter.to
        email["Subject"] = letter.subject
        email["Message-ID"] = message_id
        email["Date"] = formatdate(localtime=False, usegmt=True)
        email.set_content(letter.text)
        if letter.html is not None:
            email.add_alternative(letter.html, subtype="html")
    except ValueError as error:
        raise MailError(f"The message could not be written: {error}") from error
    return email
