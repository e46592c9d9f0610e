"""People and their roles: creating users and giving them a place on a site."""

from __future__ import annotations

import re

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from donate.extensions import db
from donate.models import Membership, Role, Site, User

MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class AccountError(ValueError):
    """A user or membership we cannot create; the message says why."""


def normalise_email(email: str) -> str:
    """Lower-case and trim, so one person is one account whatever they type."""
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise AccountError(f"{email[:100] or 'An empty value'} is not an e-mail address.")
    return email


def check_password_strength(password: str) -> None:
    """Refuse passwords that a person could guess in an afternoon."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(email: str, password: str, *, name: str = "") -> User:
    """Create a user with an scrypt password hash; one account per e-mail address."""
    email = normalise_email(email)
    check_password_strength(password)
    if db.session.execute(sa.select(User.id).where(User.email == email)).first():
        raise AccountError(f"A user with the e-mail address {email} already exists.")
    user = User(
        email=email,
        name=name.strip(),
        password_hash=generate_password_hash(password, method="scrypt"),
    )
    db.session.add(user)
    db.session.flush()
    return user


def password_matches(user: User, password: str) -> bool:
    """Compare a typed password with the stored hash in constant time."""
    return check_password_hash(user.password_hash, password)


def grant_role(user: User, site: Site, role: Role | str) -> Membership:
    """Give a user a role on a site, replacing the role they had there."""
    try:
        role = Role(role)
    except ValueError:
        raise AccountError(
            f"{role!s} is not a role; use one of {', '.join(r.value for r in Role)}."
        ) from None
    membership = db.session.execute(
        sa.select(Membership).where(Membership.user_id == user.id, Membership.site_id == site.id)
    ).scalar_one_or_none()
    if membership is None:
        membership = Membership(user_id=user.id, site_id=site.id, role=role)
        db.session.add(membership)
    else:
        membership.role = role
    db.session.flush()
    return membership


def end_every_session(user: User) -> None:
    """Retire every login id the user holds, so each device's cookie stops working at once."""
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(session_epoch=User.session_epoch + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user)


def set_operator(email: str, granted: bool) -> User:
    """Grant or revoke the instance operator role, who sees Stripe's health for every site."""
    user = db.session.execute(
        sa.select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()
    if user is None:
        raise AccountError(f"There is no account for {normalise_email(email)}.")
    user.is_operator = granted
    db.session.flush()
    return user
