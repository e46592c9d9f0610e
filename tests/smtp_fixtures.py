"""A real SMTP server (aiosmtpd) in the test process, with the app's mail settings pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from tests.smtp_support import MailInbox, free_port


@pytest.fixture
def smtp_server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MailInbox, int]]:
    """Start the server on a free loopback port and send the app's mail there, without TLS."""
    inbox = MailInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    for key, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": port,
        "SMTP_USERNAME": "",
        "SMTP_STARTTLS": False,
        "MAIL_FROM": "Riverside Gazette <give@riverside.example>",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    try:
        yield inbox, port
    finally:
        controller.stop()
