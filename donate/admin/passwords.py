"""Forgotten passwords: an e-mailed single-use link, and setting the new password."""

from __future__ import annotations

from flask import render_template
from werkzeug.security import generate_password_hash

from donate.accounts import check_password_strength
from donate.admin import audit
from donate.admin.links import public_link
from donate.admin.signin import find_user
from donate.admin.tokens import RESET_MAX_AGE_SECONDS, reset_token
from donate.extensions import db
from donate.models import OutboxKind, User
from donate.outbox import queue
from donate.outbox.letters import Letter

# Longer than any e-mail address; the worker, not the request, finds out whether it is one.
_LONGEST_ADDRESS = 320


def request_reset_link(email: str) -> None:
    """Queue "reset requested" for whatever was typed: no lookup, so every answer takes as long."""
    queue.enqueue(OutboxKind.RESET_REQUESTED, email.strip()[:_LONGEST_ADDRESS])


def reset_letter(email: str) -> Letter | None:
    """The reset mail for the address's account, with a fresh link; None when it has none."""
    user = find_user(email)
    if user is None or not user.active:
        return None
    link = public_link("admin.reset_password", token=reset_token(user))
    body = render_template(
        "admin/mail/reset.txt", user=user, link=link, minutes=RESET_MAX_AGE_SECONDS // 60
    )
    return Letter(to=user.email, subject="Reset your donate password", text=body)


def set_password(user: User, password: str) -> None:
    """Store a new scrypt hash, which also retires every reset link issued before."""
    check_password_strength(password)
    user.password_hash = generate_password_hash(password, method="scrypt")
    db.session.flush()
    audit.record("password.reset", f"user:{user.id}", user=user)
