"""Outgoing mail: SMTP when configured, else the log and a folder; settings from the environment."""

from __future__ import annotations

import smtplib

import pytest

from donate import mail
from donate.config import ConfigError, Settings

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures


class FakeSMTP:
    """Stands in for smtplib.SMTP and remembers what it was asked to do."""

    sent: list = []
    calls: list = []
    fail = False

    def __init__(self, host, port, timeout):
        FakeSMTP.calls.append(("connect", host, port))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context):
        FakeSMTP.calls.append(("starttls",))

    def login(self, username, password):
        FakeSMTP.calls.append(("login", username, password))

    def send_message(self, message):
        if FakeSMTP.fail:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no such user")})
        FakeSMTP.sent.append(message)


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.sent, FakeSMTP.calls, FakeSMTP.fail = [], [], False
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    for key, value in {
        "SMTP_HOST": "smtp.example.org",
        "SMTP_PORT": 2525,
        "SMTP_USERNAME": "mailer",
        "SMTP_PASSWORD": "s3cret",
        "SMTP_STARTTLS": True,
        "MAIL_FROM": "News <give@example.org>",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return FakeSMTP


def test_without_a_server_mail_is_kept_in_the_folder_and_the_log(app, outbox, caplog):
    with app.test_request_context(), caplog.at_level("INFO"):
        mail.send(mail.Outgoing(to="ana@example.org", subject="Hello", body="The link: x"))
    message = outbox.last()
    assert (message["To"], message["Subject"]) == ("ana@example.org", "Hello")
    assert message["From"] == app.config["MAIL_FROM"]
    assert "The link: x" in message.get_payload(decode=True).decode()
    assert "The link: x" in caplog.text


def test_production_without_a_server_logs_no_body_and_keeps_no_file(
    app, outbox, caplog, monkeypatch
):
    monkeypatch.setitem(app.config, "DONATE_ENV", "production")
    with app.test_request_context(), caplog.at_level("DEBUG"):
        mail.send(
            mail.Outgoing(
                to="ana@example.org", subject="Reset", body="https://x.example/reset/secret-token"
            )
        )
    assert "secret-token" not in caplog.text
    assert "Mail is not configured (SMTP_HOST is not set)" in caplog.text
    assert "ana@example.org (Reset) was not sent" in caplog.text
    assert outbox.messages() == []


def test_a_line_break_in_a_header_becomes_a_readable_error(app, outbox):
    with app.test_request_context(), pytest.raises(mail.MailError, match="has a line break"):
        mail.send(mail.Outgoing(to="ana@example.org", subject="Join A\r\nBcc: x@y.z", body="B"))
    assert outbox.messages() == []


def test_with_a_server_mail_goes_through_smtp_with_starttls_and_login(app, outbox, smtp):
    with app.test_request_context():
        mail.send(mail.Outgoing(to="ana@example.org", subject="Hello", body="Body"))
    assert smtp.calls == [
        ("connect", "smtp.example.org", 2525),
        ("starttls",),
        ("login", "mailer", "s3cret"),
    ]
    assert [m["To"] for m in smtp.sent] == ["ana@example.org"]
    assert smtp.sent[0]["From"] == "News <give@example.org>"
    assert outbox.messages() == []


def test_a_refusing_server_becomes_a_readable_error(app, smtp):
    smtp.fail = True
    with app.test_request_context(), pytest.raises(mail.MailError, match="check the SMTP"):
        mail.send(mail.Outgoing(to="ana@example.org", subject="Hello", body="Body"))


def test_mail_settings_come_from_the_environment():
    settings = Settings.from_environ(
        {
            "SMTP_HOST": " smtp.example.org ",
            "SMTP_PORT": "465",
            "SMTP_USERNAME": "u",
            "SMTP_PASSWORD": "p",
            "SMTP_STARTTLS": "false",
            "MAIL_FROM": "A <a@b.org>",
        }
    )
    config = settings.flask_config()
    assert (config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_STARTTLS"]) == (
        "smtp.example.org",
        465,
        False,
    )
    assert (config["SMTP_USERNAME"], config["SMTP_PASSWORD"], config["MAIL_FROM"]) == (
        "u",
        "p",
        "A <a@b.org>",
    )
    defaults = Settings.from_environ({}).flask_config()
    assert (defaults["SMTP_HOST"], defaults["SMTP_PORT"], defaults["SMTP_STARTTLS"]) == (
        "",
        587,
        True,
    )
    assert defaults["MAIL_FOLDER"].endswith("instance/mail")
    assert defaults["DASHBOARD_ENABLED"] is True


def test_a_mistyped_starttls_setting_is_refused():
    with pytest.raises(ConfigError, match="SMTP_STARTTLS must be true or false"):
        Settings.from_environ({"SMTP_STARTTLS": "maybe"})


def test_an_invitation_that_cannot_be_mailed_is_not_recorded(client, app, smtp):
    import sqlalchemy as sa

    from donate.extensions import db
    from donate.models import AuditLog
    from tests.admin_support import make_user, post_form, sign_in_as
    from tests.factories import make_site

    smtp.fail = True
    site = make_site()
    sign_in_as(client, make_user(site=site))
    response = post_form(
        client,
        f"/admin/sites/{site.id}/people/invite",
        {"email": "new@example.org", "role": "viewer"},
    )
    assert response.status_code == 422
    assert "check the SMTP settings" in response.text
    assert db.session.execute(sa.select(AuditLog.id)).first() is None
