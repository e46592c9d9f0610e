"""Signing in and out of the dashboard, and resetting a forgotten password."""

from __future__ import annotations

import pytest
from flask import g

from donate.extensions import db
from donate.models import AuditLog, Role
from tests.admin_support import (
    PASSWORD,
    csrf_token,
    make_user,
    path_of,
    post_form,
    sign_in_as,
    token_in,
)
from tests.factories import make_site

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures

WRONG = "Wrong e-mail or password."


def sign_in(client, email: str, password: str, **kwargs):
    return post_form(client, "/admin/sign-in", {"email": email, "password": password}, **kwargs)


def test_sign_in_page_is_private_and_refuses_framing(client):
    page = client.get("/admin/sign-in")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in page.headers["Cache-Control"]
    assert "private" in page.headers["Cache-Control"]


def test_the_home_page_links_to_the_sign_in(client):
    assert "/admin/sign-in" in client.get("/").text


def test_sign_in_with_the_right_password_opens_the_sites_overview(client, dashboard):
    response = sign_in(client, "owner@riverside.example", PASSWORD)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    overview = client.get("/admin/", follow_redirects=True)
    assert overview.status_code == 200
    assert "Riverside Gazette" in overview.text
    assert "Hilltop Herald" not in overview.text


def test_the_address_is_matched_whatever_its_letter_case(client, dashboard):
    response = sign_in(client, "  Owner@Riverside.EXAMPLE ", PASSWORD)
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("owner@riverside.example", "not the password"),
        ("nobody@riverside.example", PASSWORD),
        ("not an address", PASSWORD),
        ("inactive@riverside.example", PASSWORD),
    ],
)
def test_every_kind_of_mismatch_gets_the_same_message(client, dashboard, email, password):
    make_user("inactive@riverside.example", site=dashboard.site_a, active=False)
    response = sign_in(client, email, password)
    assert response.status_code == 200
    assert WRONG in response.text
    assert client.get("/admin/").status_code == 302  # still signed out


def test_sign_in_is_rate_limited_per_address(client, dashboard):
    token = csrf_token(client)
    statuses = [
        client.post(
            "/admin/sign-in", data={"csrf_token": token, "email": "x@y.example", "password": "no"}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    assert sign_in(client, "owner@riverside.example", PASSWORD).status_code == 429


def test_one_account_is_rate_limited_across_addresses(app, client, dashboard, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_RATE_LIMIT_PER_ACCOUNT", "3 per hour")
    token = csrf_token(client)

    def attempt(email: str, ip: str) -> int:
        return client.post(
            "/admin/sign-in",
            data={"csrf_token": token, "email": email, "password": "guess"},
            environ_base={"REMOTE_ADDR": ip},
        ).status_code

    tries = [attempt("Owner@Riverside.example", f"10.8.0.{n}") for n in range(4)]
    assert tries == [200, 200, 200, 429]
    assert attempt("someone.else@riverside.example", "10.8.1.1") == 200


def test_signed_out_visitors_are_sent_to_the_sign_in_and_back(client, dashboard):
    target = f"/admin/sites/{dashboard.site_a.id}/donations"
    response = client.get(target)
    assert response.status_code == 302
    assert "/admin/sign-in" in response.headers["Location"]
    back = post_form(
        client,
        f"/admin/sign-in?next={target}",
        {"email": "owner@riverside.example", "password": PASSWORD},
    )
    assert back.headers["Location"] == target


def test_next_never_leads_to_another_site(client, dashboard):
    for target in ("https://evil.example/admin", "//evil.example/admin", "/give/x"):
        client.get("/admin/sign-in")
        response = post_form(
            client,
            f"/admin/sign-in?next={target}",
            {"email": "owner@riverside.example", "password": PASSWORD},
        )
        assert response.headers["Location"] == "/admin/"
        post_form(client, "/admin/sign-out")


def test_sign_out_ends_the_session(client, dashboard):
    sign_in_as(client, dashboard.owner)
    assert client.get(f"/admin/sites/{dashboard.site_a.id}/").status_code == 200
    assert client.post("/admin/sign-out").status_code == 400  # no CSRF token
    response = post_form(client, "/admin/sign-out")
    assert response.status_code == 302
    assert client.get(f"/admin/sites/{dashboard.site_a.id}/").status_code == 302


def _switch_browser() -> None:
    """The test's requests share one app context: forget the last browser's user and token."""
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def _get(browser, path: str):
    _switch_browser()
    return browser.get(path)


def _sign_out(browser):
    _switch_browser()
    return post_form(browser, "/admin/sign-out")


def _signed_in_client(app, email: str):
    """A separate browser that signed in through the form, with its own cookie."""
    _switch_browser()
    browser = app.test_client()
    response = post_form(browser, "/admin/sign-in", {"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def test_a_copied_cookie_stops_working_after_sign_out(app, dashboard):
    d = dashboard
    db.session.commit()
    overview = f"/admin/sites/{d.site_a.id}/"
    browser = _signed_in_client(app, "owner@riverside.example")
    thief = app.test_client()
    thief.set_cookie("session", browser.get_cookie("session").value)
    assert _get(thief, overview).status_code == 200  # the copy works while the owner is signed in
    assert _sign_out(browser).status_code == 302
    assert _get(thief, overview).status_code == 302
    assert "/admin/sign-in" in _get(thief, overview).headers["Location"]


def test_signing_out_ends_the_sessions_on_every_device(app, dashboard):
    d = dashboard
    db.session.commit()
    overview = f"/admin/sites/{d.site_a.id}/"
    laptop = _signed_in_client(app, "owner@riverside.example")
    phone = _signed_in_client(app, "owner@riverside.example")
    colleague = _signed_in_client(app, "editor@riverside.example")
    page = _get(laptop, overview)
    assert "Sign out everywhere" in page.text
    _sign_out(laptop)
    assert _get(phone, overview).status_code == 302
    assert _get(colleague, overview).status_code == 200  # only that account's sessions end
    again = _signed_in_client(app, "owner@riverside.example")
    assert _get(again, overview).status_code == 200  # signing in again works at once


@pytest.mark.parametrize(
    "target", ["/admin%0d%0aX", "/admin/%0aSet-Cookie:x=1", "/admin/%09", "/admin%00"]
)
def test_a_next_with_control_characters_is_ignored_not_an_error(client, dashboard, target):
    client.get("/admin/sign-in")
    response = post_form(
        client,
        f"/admin/sign-in?next={target}",
        {"email": "owner@riverside.example", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    signed_in = client.get(f"/admin/sign-in?next={target}")
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/admin/"


def test_a_user_without_sites_is_offered_to_create_one(client, db_session):
    sign_in_as(client, make_user())
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "You are not on any site yet" in page.text


def test_a_user_of_two_sites_chooses_one(client, db_session):
    user = make_user()
    for name in ("North Post", "South Post"):
        from donate.accounts import grant_role

        grant_role(user, make_site(name=name), Role.VIEWER)
    sign_in_as(client, user)
    page = client.get("/admin/")
    assert "North Post" in page.text and "South Post" in page.text


# --- password reset ---------------------------------------------------------------------------


def test_a_reset_link_sets_a_new_password_once(client, dashboard, outbox):
    page = post_form(client, "/admin/reset-password", {"email": "OWNER@riverside.example"})
    assert page.status_code == 200
    assert "Check your e-mail" in page.text
    message = outbox.last()
    assert message["To"] == "owner@riverside.example"
    link = path_of(outbox.link_in_last())
    assert link.startswith("/admin/reset-password/")

    form = client.get(link)
    assert form.status_code == 200
    assert form.headers["Referrer-Policy"] == "no-referrer"
    new_password = "a brand new passphrase"
    saved = client.post(
        link,
        data={"csrf_token": token_in(form.data), "password": new_password, "confirm": new_password},
    )
    assert saved.status_code == 302
    assert client.get(f"/admin/sites/{dashboard.site_a.id}/").status_code == 200  # signed in
    assert db.session.query(AuditLog).filter_by(action="password.reset").count() == 1

    post_form(client, "/admin/sign-out")
    assert WRONG in sign_in(client, "owner@riverside.example", PASSWORD).text
    assert sign_in(client, "owner@riverside.example", new_password).status_code == 302
    post_form(client, "/admin/sign-out")

    again = client.get(link)
    assert again.status_code == 400
    assert "already used" in again.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, db_session, outbox):
    page = post_form(client, "/admin/reset-password", {"email": "stranger@example.org"})
    assert page.status_code == 200
    assert "Check your e-mail" in page.text
    assert outbox.messages() == []


def test_a_reset_link_expires(client, dashboard, outbox, monkeypatch):
    post_form(client, "/admin/reset-password", {"email": "owner@riverside.example"})
    link = path_of(outbox.link_in_last())
    monkeypatch.setattr("donate.admin.tokens.RESET_MAX_AGE_SECONDS", -1)
    page = client.get(link)
    assert page.status_code == 400
    assert "expired" in page.text


def test_a_forged_reset_link_is_refused(client, dashboard):
    page = client.get("/admin/reset-password/not-a-real-token")
    assert page.status_code == 400
    assert "not valid" in page.text


def test_the_new_password_must_be_long_enough_and_typed_twice(client, dashboard, outbox):
    post_form(client, "/admin/reset-password", {"email": "owner@riverside.example"})
    link = path_of(outbox.link_in_last())
    token = token_in(client.get(link).data)
    short = client.post(link, data={"csrf_token": token, "password": "short", "confirm": "short"})
    assert short.status_code == 200
    assert "at least 10 characters" in short.text
    differ = client.post(
        link,
        data={"csrf_token": token, "password": "long enough one", "confirm": "long enough two"},
    )
    assert "The two passwords differ" in differ.text


def test_empty_sign_in_fields_are_named(client, db_session):
    response = post_form(client, "/admin/sign-in", {"email": "", "password": ""})
    assert response.status_code == 200
    assert "Enter your e-mail address." in response.text
    assert "Enter your password." in response.text


def test_a_new_password_signs_out_other_sessions(app, client, dashboard, outbox):
    from flask import g

    def _switch_device() -> None:
        """The test's requests share one `g`: forget the last device's user and CSRF token."""
        g.pop("_login_user", None)
        g.pop("csrf_token", None)

    other_device = app.test_client()
    assert sign_in(other_device, "owner@riverside.example", PASSWORD).status_code == 302
    _switch_device()
    site_page = f"/admin/sites/{dashboard.site_a.id}/"
    assert other_device.get(site_page).status_code == 200
    _switch_device()

    post_form(client, "/admin/reset-password", {"email": "owner@riverside.example"})
    link = path_of(outbox.link_in_last())
    form = client.get(link)
    new_password = "a brand new passphrase"
    client.post(
        link,
        data={"csrf_token": token_in(form.data), "password": new_password, "confirm": new_password},
    )
    _switch_device()
    stale = other_device.get(site_page)
    assert stale.status_code == 302
    assert "/admin/sign-in" in stale.headers["Location"]
    _switch_device()
    assert client.get(site_page).status_code == 200  # the device that set it stays signed in
