"""Signed, time-limited links for password resets and invitations; no table needed.

A reset link carries a fingerprint of the password hash it was issued for, so it works once:
setting a new password changes the hash and every earlier link stops matching.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from donate.extensions import db
from donate.models import Role, User

RESET_MAX_AGE_SECONDS = 60 * 60
INVITATION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60
_RESET_SALT = "donate.admin.password-reset"
_INVITATION_SALT = "donate.admin.invitation"


class LinkProblem(ValueError):
    """A link that cannot be used; the message tells the person what to do instead."""


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:20]


def _load(salt: str, token: str, max_age: int, what: str) -> dict:
    try:
        payload = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkProblem(f"This {what} link has expired; ask for a new one.") from None
    except BadSignature:
        raise LinkProblem(f"This {what} link is not valid; ask for a new one.") from None
    if not isinstance(payload, dict):
        raise LinkProblem(f"This {what} link is not valid; ask for a new one.")
    return payload


def reset_token(user: User) -> str:
    """A link token that lets this user set a new password once, within an hour."""
    return _serializer(_RESET_SALT).dumps({"u": user.id, "p": _fingerprint(user.password_hash)})


def user_for_reset(token: str) -> User:
    """The user a reset token was issued to, if it is fresh and unused."""
    payload = _load(_RESET_SALT, token, RESET_MAX_AGE_SECONDS, "password reset")
    user = db.session.get(User, payload.get("u")) if isinstance(payload.get("u"), int) else None
    if user is None or not user.active or payload.get("p") != _fingerprint(user.password_hash):
        raise LinkProblem("This password reset link was already used; ask for a new one.")
    return user


@dataclass(frozen=True)
class Invitation:
    """An owner's offer of a role on a site to an e-mail address."""

    site_id: int
    email: str
    role: Role
    nonce: str
    invited_by: int

    @property
    def subject(self) -> str:
        """How the audit log names this invitation."""
        return f"invitation:{self.nonce}"


def invitation_token(invitation: Invitation) -> str:
    """The token in an invitation link, valid for a week."""
    return _serializer(_INVITATION_SALT).dumps(
        {
            "s": invitation.site_id,
            "e": invitation.email,
            "r": invitation.role.value,
            "n": invitation.nonce,
            "b": invitation.invited_by,
        }
    )


def read_invitation(token: str) -> Invitation:
    """The invitation a token stands for, if it is genuine and less than a week old."""
    payload = _load(_INVITATION_SALT, token, INVITATION_MAX_AGE_SECONDS, "invitation")
    try:
        return Invitation(
            site_id=int(payload["s"]),
            email=str(payload["e"]),
            role=Role(payload["r"]),
            nonce=str(payload["n"]),
            invited_by=int(payload["b"]),
        )
    except (KeyError, ValueError, TypeError):
        raise LinkProblem("This invitation link is not valid; ask for a new one.") from None
