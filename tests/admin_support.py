"""Shared by the dashboard's tests: people with roles, signing in, CSRF tokens from pages."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import count

from flask import g
from flask.testing import FlaskClient
from werkzeug.security import generate_password_hash

from donate.accounts import grant_role
from donate.extensions import db
from donate.models import Role, Site, User

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_serial = count(1)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    """One scrypt hash for every test user: hashing is slow on purpose."""
    return generate_password_hash(PASSWORD, method="scrypt")


def make_user(
    email_address: str | None = None,
    *,
    site: Site | None = None,
    role: Role = Role.OWNER,
    name: str = "",
    active: bool = True,
) -> User:
    """A dashboard user with the shared test password, optionally with a role on a site."""
    user = User(
        email=email_address or f"person{next(_serial)}@example.org",
        password_hash=_password_hash(),
        name=name,
        active=active,
    )
    db.session.add(user)
    db.session.flush()
    if site is not None:
        grant_role(user, site, role)
    return user


def sign_in_as(client: FlaskClient, user: User) -> None:
    """Put the user in the client's session, as a successful sign-in does.

    What the test built so far is committed first (into the test's outer transaction, still
    rolled back at the end), so a view that rolls back its own failed change keeps it.
    """
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    # The test's app context (and so g) is shared by its requests: forget who was signed in.
    g.pop("_login_user", None)


def token_in(body: bytes | str) -> str:
    """The CSRF token of the first form on a page."""
    text = body.decode() if isinstance(body, bytes) else body
    match = _CSRF.search(text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def csrf_token(client: FlaskClient) -> str:
    """A valid token for the client's session, from a page every visitor can open."""
    page = client.get("/admin/sites/new")
    if page.status_code != 200:
        page = client.get("/admin/sign-in")
    return token_in(page.data)


def post_form(client: FlaskClient, path: str, data: dict | None = None, **kwargs):
    """POST a form with a valid CSRF token, as a browser that loaded the form would."""
    fields = dict(data or {})
    fields.setdefault("csrf_token", csrf_token(client))
    return client.post(path, data=fields, **kwargs)


def path_of(link: str) -> str:
    """The path and query of an absolute link, for the test client."""
    return "/" + link.split("://", 1)[1].split("/", 1)[1]
