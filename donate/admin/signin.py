"""Checking a typed e-mail and password, as slowly for an unknown address as for a known one."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from donate.accounts import AccountError, normalise_email, password_matches
from donate.extensions import db
from donate.models import User

WRONG_CREDENTIALS = "Wrong e-mail or password."


@lru_cache(maxsize=1)
def _stand_in_hash() -> str:
    """A hash to check against when no user matches, so timing does not reveal the address."""
    return generate_password_hash("no account has this password", method="scrypt")


def find_user(email: str) -> User | None:
    """The user with this address, however it was typed, or None."""
    try:
        address = normalise_email(email)
    except AccountError:
        return None
    return db.session.execute(sa.select(User).where(User.email == address)).scalar_one_or_none()


def authenticate(email: str, password: str) -> User | None:
    """The active user these credentials belong to, or None for any kind of mismatch."""
    user = find_user(email)
    if user is None:
        check_password_hash(_stand_in_hash(), password or "")
        return None
    if not password_matches(user, password or "") or not user.active:
        return None
    return user
