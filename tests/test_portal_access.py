"""A return URL is no key to the donor's Customer Portal: only the browser that paid, briefly."""

from __future__ import annotations

import time

import pytest
import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from donate.extensions import db
from donate.models import Goal
from donate.payments import portal_access
from tests.factories import make_goal
from tests.test_payments_e2e import checkout_session_id, csrf_token, give, pay

pytestmark = pytest.mark.live
MANAGE = "Manage or cancel my monthly gift"


@pytest.fixture
def monthly_goal(app, stripe_sandbox) -> Goal:
    setup = app.test_cli_runner().invoke(args=["donate", "stripe-setup", "--portal-only"])
    assert setup.exit_code == 0, setup.output
    goal = make_goal(slug="monthly-portal", maximum_minor=None)
    db.session.commit()
    return goal


def paid_monthly(live_server, stripe_sandbox, goal: Goal) -> tuple[str, str]:
    """A monthly gift paid on the sandbox's page: its session id and the return URL."""
    session_id = checkout_session_id(
        give(live_server, goal.slug, amount_minor="1500", frequency="monthly")
    )
    return session_id, pay(stripe_sandbox, session_id)["redirect_url"]


def open_portal(browser: requests.Session, live_server, page: requests.Response, **extra: str):
    return browser.post(
        f"{live_server.url}/give/portal",
        data={"csrf_token": csrf_token(page), **extra},
        allow_redirects=False,
        timeout=30,
    )


def test_a_second_browser_with_the_session_id_gets_no_portal(
    live_server, stripe_sandbox, monthly_goal
):
    session_id, return_url = paid_monthly(live_server, stripe_sandbox, monthly_goal)
    with requests.Session() as donor, requests.Session() as stranger:
        thanks = donor.get(return_url, timeout=30)
        assert MANAGE in thanks.text

        # The same URL, from a history or an access log, in a clean browser.
        copied = stranger.get(return_url, timeout=30)
        assert copied.status_code == 200
        assert MANAGE not in copied.text
        assert "sign in to\nthe donor portal" in copied.text
        assert portal_access.GRANT_COOKIE not in stranger.cookies
        # Even with a valid CSRF token of its own and the session id posted along.
        form_page = stranger.get(f"{live_server.url}/admin/sign-in", timeout=30)
        refused = open_portal(stranger, live_server, form_page, session_id=session_id)
        assert refused.status_code == 403
        assert "Location" not in refused.headers
        assert "in the browser you paid with" in refused.text
        assert "reader@example.org" not in refused.text
        assert "Nothing was charged" not in refused.text

        # The paying browser still opens it.
        opened = open_portal(donor, live_server, thanks)
        assert opened.status_code == 303
        assert "/portal/bps_" in opened.headers["Location"]
        assert "reader@example.org" in donor.get(opened.headers["Location"], timeout=30).text


def test_the_grant_is_an_httponly_lax_cookie_for_half_an_hour(
    live_server, stripe_sandbox, monthly_goal
):
    _, return_url = paid_monthly(live_server, stripe_sandbox, monthly_goal)
    thanks = requests.get(return_url, timeout=30)
    cookies = thanks.raw.headers.getlist("Set-Cookie")
    [cookie] = [c for c in cookies if c.startswith(f"{portal_access.GRANT_COOKIE}=")]
    attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert {"httponly", "samesite", "max-age", "path"} <= set(attributes)
    assert attributes["samesite"].strip() == "SameSite=Lax"
    assert attributes["max-age"].strip() == "Max-Age=1800"
    assert attributes["path"].strip() == "Path=/give/"


def test_an_expired_or_forged_grant_opens_nothing(app, live_server, stripe_sandbox, monthly_goal):
    session_id, return_url = paid_monthly(live_server, stripe_sandbox, monthly_goal)
    assert MANAGE in requests.get(return_url, timeout=30).text  # the paying browser's grant

    class HalfAnHourAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - portal_access.GRANT_SECONDS - 60

    expired = URLSafeTimedSerializer(
        app.config["SECRET_KEY"], salt=portal_access.GRANT_SALT, signer=HalfAnHourAgo
    ).dumps(session_id)
    forged = URLSafeTimedSerializer("not-our-secret", salt=portal_access.GRANT_SALT).dumps(
        session_id
    )
    fresh = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=portal_access.GRANT_SALT).dumps(
        session_id
    )
    for token, status in ((expired, 403), (forged, 403), (fresh, 303)):
        with requests.Session() as browser:
            browser.cookies.set(portal_access.GRANT_COOKIE, token)
            page = browser.get(return_url, timeout=30)
            assert (MANAGE in page.text) is (status == 303)
            form_page = browser.get(f"{live_server.url}/admin/sign-in", timeout=30)
            assert open_portal(browser, live_server, form_page).status_code == status


def test_a_donor_signs_in_on_the_portal_login_page_with_their_email(
    live_server, stripe_sandbox, monthly_goal
):
    _, return_url = paid_monthly(live_server, stripe_sandbox, monthly_goal)
    requests.get(return_url, timeout=30)  # the paying browser took the grant
    with requests.Session() as later:
        page = later.get(return_url, timeout=30)
        login_url = page.text.split('<a href="', 2)[2].split('"', 1)[0]
        assert login_url.startswith(f"{stripe_sandbox.url}/p/login/bpc_")
        sent = later.post(login_url, data={"email": "reader@example.org"}, timeout=30)
        portal_url = sent.text.split('<a href="', 1)[1].split('"', 1)[0]
        assert "reader@example.org" in later.get(portal_url, timeout=30).text
        nobody = later.post(login_url, data={"email": "someone@example.org"}, timeout=30)
        assert "/portal/" not in nobody.text


def test_pages_after_payment_are_not_cached_framed_or_sent_as_referrer(
    live_server, stripe_sandbox, monthly_goal
):
    _, monthly_return = paid_monthly(live_server, stripe_sandbox, monthly_goal)
    once = checkout_session_id(give(live_server, monthly_goal.slug, amount_minor="2500"))
    once_return = pay(stripe_sandbox, once)["redirect_url"]
    with requests.Session() as browser:
        thanks = browser.get(monthly_return, timeout=30)
        pages = [
            thanks,
            requests.get(once_return, allow_redirects=False, timeout=30),
            open_portal(browser, live_server, thanks),
            browser.post(f"{live_server.url}/give/portal", timeout=30),
            requests.get(f"{live_server.url}/give/return?session_id=nope", timeout=30),
        ]
    assert [page.status_code for page in pages] == [200, 303, 303, 400, 400]
    for page in pages:
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
