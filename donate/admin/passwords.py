"""Forgotten passwords: an e-mailed single-use link, and setting the new password."""

from __future__ import annotations

from flask import current_app, render_template
from werkzeug.security import generate_password_hash

from donate import mail
from donate.accounts import check_password_strength
from donate.admin import audit
from donate.admin.links import public_link
from donate.admin.signin import find_user
from donate.admin.tokens import RESET_MAX_AGE_SECONDS, reset_token
from donate.extensions import db
from donate.models import User


def send_reset_link(email: str) -> None:
    """Mail a reset link if the address has an account; the caller answers the same either way."""
    user = find_user(email)
    if user is None or not user.active:
        return
    link = public_link("admin.reset_password", token=reset_token(user))
    body = render_template(
        "admin/mail/reset.txt", user=user, link=link, minutes=RESET_MAX_AGE_SECONDS // 60
    )
    try:
        mail.send(mail.Outgoing(to=user.email, subject="Reset your donate password", body=body))
    except mail.MailError:
        # Saying so would tell a stranger the address has an account; the log tells the operator.
        current_app.logger.error("The password reset mail to user %s was not sent.", user.id)


def set_password(user: User, password: str) -> None:
    """Store a new scrypt hash, which also retires every reset link issued before."""
    check_password_strength(password)
    user.password_hash = generate_password_hash(password, method="scrypt")
    db.session.flush()
    audit.record("password.reset", f"user:{user.id}", user=user)
