"""The goal page: the site's name and link home, share links, and days left by the site's day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from donate.extensions import db
from donate.models import AuditLog, Site
from donate.widget.site_day import CLOCK_EXTENSION, days_left
from tests.admin_support import make_user, post_form, sign_in_as
from tests.factories import make_goal, make_site
from tests.widget_support import fresh_widget_cache, page_text  # noqa: F401

pytest_plugins = ["tests.admin_fixtures"]


def site_form(**overrides: str) -> dict[str, str]:
    values = {
        "name": "Lakeside Courier",
        "allowed_origins": "https://news.lakeside.example",
        "default_currency": "EUR",
        "default_locale": "en",
        "time_zone": "UTC",
        "brand_colour": "#0f766e",
        "home_url": "https://news.lakeside.example/",
    }
    values.update(overrides)
    return values


# The site's home page address ----------------------------------------------------------------


def test_a_site_keeps_its_home_page_address_and_audits_a_change(client, db_session):
    user = make_user()
    sign_in_as(client, user)
    assert post_form(client, "/admin/sites/new", site_form()).status_code == 302
    site = db.session.execute(sa.select(Site).where(Site.name == "Lakeside Courier")).scalar_one()
    assert site.home_url == "https://news.lakeside.example/"
    form = site_form(home_url="HTTP://news.lakeside.example/front?edition=city")
    assert post_form(client, f"/admin/sites/{site.id}/settings", form).status_code == 302
    db.session.refresh(site)
    assert site.home_url == "http://news.lakeside.example/front?edition=city"
    change = db.session.execute(
        sa.select(AuditLog.detail).where(AuditLog.action == "site.update")
    ).scalar_one()
    assert change["changes"]["home_url"] == {
        "before": "https://news.lakeside.example/",
        "after": "http://news.lakeside.example/front?edition=city",
    }
    assert (
        post_form(client, f"/admin/sites/{site.id}/settings", site_form(home_url="")).status_code
        == 302
    )
    db.session.refresh(site)
    assert site.home_url is None


@pytest.mark.parametrize(
    ("home_url", "message"),
    [
        ("javascript:alert(1)", "must start with https:// or http://"),
        ("ftp://files.lakeside.example/", "must start with https:// or http://"),
        ("news.lakeside.example", "must start with https:// or http://"),
        ("data:text/html,hello", "must start with https:// or http://"),
        ("https://", "needs a host name"),
        ("https://[::1/", "is not a valid web address"),
        ("https://news.lakeside.example:99999/", "needs a host name"),
        ("https://editor:secret@news.lakeside.example/", "must not carry a user name or password"),
        ('https://news.lakeside.example/"><script>', "must not contain spaces, quotes"),
        ("https://news.lakeside.example/" + "a" * 500, "under 500 characters"),
    ],
)
def test_a_home_page_address_that_is_not_plain_http_is_refused(
    client, db_session, home_url, message
):
    sign_in_as(client, make_user())
    response = post_form(client, "/admin/sites/new", site_form(home_url=home_url))
    assert response.status_code == 422
    error_line = response.text.split('id="home_url-error">', 1)[1].split("</p>", 1)[0]
    assert message in error_line
    assert (
        db.session.execute(sa.select(Site).where(Site.name == "Lakeside Courier")).first() is None
    )


# The page ------------------------------------------------------------------------------------


def test_the_goal_page_names_the_site_and_links_back_to_it(client, db_session):
    site = make_site(name="Riverside <Gazette>", home_url="https://riverside.example/")
    make_goal(site, slug="home-link")
    body = client.get("/g/home-link").text
    assert (
        '<a class="site-name" href="https://riverside.example/" rel="noopener">'
        "Riverside &lt;Gazette&gt;</a>"
    ) in body
    assert '<meta property="og:site_name" content="Riverside &lt;Gazette&gt;">' in body


def test_without_a_home_page_the_site_is_named_without_a_link(client, db_session):
    make_goal(make_site(name="Hilltop Herald"), slug="no-home")
    body = client.get("/g/no-home").text
    assert '<span class="site-name">Hilltop Herald</span>' in body


def test_a_new_site_name_or_home_page_shows_at_once(client, db_session):
    site = make_site(name="Old Name")
    make_goal(site, slug="renamed")
    assert "Old Name" in client.get("/g/renamed").text
    site.name, site.home_url = "New Name", "https://new.example/"
    db.session.commit()
    body = client.get("/g/renamed").text
    assert "New Name" in body and 'href="https://new.example/"' in body


def test_share_links_are_plain_addresses_with_the_page_and_title(client, db_session):
    make_goal(make_site(), slug="share-me", title="Fund the city hall & courts desk")
    response = client.get("/g/share-me")
    body = response.text
    page = "http%3A//127.0.0.1%3A5000/g/share-me"
    title = "Fund%20the%20city%20hall%20%26%20courts%20desk"
    assert f'href="mailto:?subject={title}&amp;body={title}%0A%0A{page}"' in body
    assert f'href="https://www.facebook.com/sharer/sharer.php?u={page}"' in body
    assert f'href="https://www.linkedin.com/sharing/share-offsite/?url={page}"' in body
    assert f'href="https://bsky.app/intent/compose?text={title}%20{page}"' in body
    assert (
        '<input id="share-url" type="url" readonly value="http://127.0.0.1:5000/g/share-me">'
        in body
    )
    # The copy button is hidden until the page's own script finds a clipboard to write to.
    assert '<button type="button" class="copy" data-copy="share-url"' in body
    assert "navigator.clipboard" in body
    # Nothing of the networks' is loaded: no script, image or frame from anywhere else.
    assert "<iframe" not in body and " src=" not in body.split("<main", 1)[1]
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'sha256-" in policy and "https:" not in policy.split("frame-ancestors")[0]


def test_share_links_and_days_left_are_translated(client, db_session, monkeypatch, app):
    monkeypatch.setitem(
        app.extensions, CLOCK_EXTENSION, lambda: datetime(2027, 1, 5, 12, tzinfo=UTC)
    )
    make_goal(make_site(), slug="teilen", ends_at=datetime(2027, 1, 10, tzinfo=UTC))
    text = page_text(client.get("/g/teilen?locale=de").data)
    assert "Diese Spendenaktion teilen" in text and "Noch 4 Tage" in text
    text = page_text(client.get("/g/teilen?locale=fr").data)
    assert "Partager cette collecte" in text and "Encore 4 jours" in text
    text = page_text(client.get("/g/teilen?locale=es").data)
    assert "Comparte esta campaña" in text and "Quedan 4 días" in text


# Days left change at the site's midnight ----------------------------------------------------

# Etc/GMT-5 is UTC+5 all year: a fixed offset in the time zone database (the sign is POSIX's),
# with no daylight saving and no rule that a new tzdata release could change.
PLUS_FIVE = timezone(timedelta(hours=5))


def _at(app, monkeypatch, moment: datetime) -> None:
    monkeypatch.setitem(app.extensions, CLOCK_EXTENSION, lambda: moment)


@pytest.mark.parametrize(
    ("time_zone", "ends_at", "before_midnight", "after_midnight"),
    [
        (
            "UTC",
            datetime(2027, 1, 10, tzinfo=UTC),
            datetime(2027, 1, 4, 23, 59, tzinfo=UTC),
            datetime(2027, 1, 5, 0, 1, tzinfo=UTC),
        ),
        (
            # The site's midnight is 19:00 UTC: both moments are 4 January in UTC.
            "Etc/GMT-5",
            datetime(2027, 1, 10, tzinfo=PLUS_FIVE),
            datetime(2027, 1, 4, 18, 59, tzinfo=UTC),
            datetime(2027, 1, 4, 19, 1, tzinfo=UTC),
        ),
    ],
)
def test_days_left_change_at_the_sites_midnight_with_a_new_etag(
    app, client, db_session, monkeypatch, time_zone, ends_at, before_midnight, after_midnight
):
    make_goal(make_site(time_zone=time_zone), slug="countdown", ends_at=ends_at)

    _at(app, monkeypatch, before_midnight)
    first = client.get("/g/countdown")
    assert "5 days left" in page_text(first.data)
    etag = first.headers["ETag"]
    # Earlier the same site day: the same page and validator, so a revalidation gets 304.
    _at(app, monkeypatch, before_midnight - timedelta(hours=10))
    same_day = client.get("/g/countdown", headers={"If-None-Match": etag})
    assert same_day.status_code == 304

    _at(app, monkeypatch, after_midnight)
    after = client.get("/g/countdown", headers={"If-None-Match": etag})
    assert after.status_code == 200, "a cached page must not keep yesterday's count"
    assert "4 days left" in page_text(after.data)
    assert "5 days left" not in page_text(after.data)
    assert after.headers["ETag"] != etag


def test_every_cached_rendering_gets_a_new_etag_at_the_sites_midnight(
    app, client, db_session, monkeypatch
):
    make_goal(
        make_site(time_zone="Etc/GMT-5"),
        slug="frames",
        ends_at=datetime(2027, 1, 10, tzinfo=PLUS_FIVE),
    )
    paths = [
        "/w/frames",
        "/w/frames?variant=bar",
        "/w/frames?variant=button",
        "/w/frames/progress.svg",
        "/w/frames/progress.png",
        "/g/frames",
    ]
    _at(app, monkeypatch, datetime(2027, 1, 4, 18, 59, tzinfo=UTC))
    before = {path: client.get(path).headers["ETag"] for path in paths}
    cache = app.extensions["donate.widget_cache"]
    renderings = len(cache)
    _at(app, monkeypatch, datetime(2027, 1, 4, 19, 1, tzinfo=UTC))
    for path in paths:
        response = client.get(path, headers={"If-None-Match": before[path]})
        assert response.status_code == 200, path
        assert response.headers["ETag"] != before[path], path
    assert len(cache) == 2 * renderings, "each rendering is made anew for the new day"


def test_the_last_day_and_the_end(app, client, db_session, monkeypatch):
    make_goal(
        make_site(time_zone="Etc/GMT-5"),
        slug="last",
        ends_at=datetime(2027, 1, 10, tzinfo=PLUS_FIVE),
    )
    _at(app, monkeypatch, datetime(2027, 1, 9, 18, 0, tzinfo=UTC))  # 23:00 on the last day
    assert "Last day to give" in page_text(client.get("/g/last").data)
    _at(app, monkeypatch, datetime(2027, 1, 8, 18, 0, tzinfo=UTC))
    assert "1 day left" in page_text(client.get("/g/last").data)
    _at(app, monkeypatch, datetime(2027, 1, 9, 19, 0, tzinfo=UTC))  # the deadline itself
    text = page_text(client.get("/g/last").data)
    assert "day left" not in text and "days left" not in text and "Last day" not in text


def test_a_goal_without_a_deadline_shows_no_days_left(client, db_session):
    make_goal(make_site(), slug="open-ended")
    assert "left" not in page_text(client.get("/g/open-ended").data)


def test_days_left_counts_site_days_not_hours():
    ends = datetime(2027, 1, 10, tzinfo=PLUS_FIVE)
    assert days_left(ends, datetime(2027, 1, 9, 19, 0, 1, tzinfo=UTC), "Etc/GMT-5") is None
    assert days_left(ends, datetime(2027, 1, 9, 18, 59, tzinfo=UTC), "Etc/GMT-5") == 0
    assert days_left(ends, datetime(2027, 1, 8, 19, 0, tzinfo=UTC), "Etc/GMT-5") == 0
    assert days_left(ends, datetime(2027, 1, 8, 18, 59, tzinfo=UTC), "Etc/GMT-5") == 1
    assert days_left(None, datetime(2027, 1, 8, tzinfo=UTC), "UTC") is None
    # An unknown zone name (a row from an older tzdata) counts in UTC rather than failing.
    assert days_left(ends, datetime(2027, 1, 8, 18, 59, tzinfo=UTC), "Nowhere/Gone") == 1


def test_many_days_are_written_with_the_locales_digit_grouping(app):
    from flask_babel import force_locale

    from donate.widget.site_day import days_left_text

    with app.test_request_context(), force_locale("de"):
        assert days_left_text(26_415) == "Noch 26.415 Tage"
    with app.test_request_context(), force_locale("en"):
        assert days_left_text(1) == "1 day left"
