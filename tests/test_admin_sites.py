"""Sites in the dashboard: creating one, and its settings with readable messages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from donate.extensions import db
from donate.models import AuditLog, Membership, Role, Site
from tests.admin_support import make_user, post_form, sign_in_as

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures


def site_form(**overrides: str) -> dict[str, str]:
    values = {
        "name": "Lakeside Courier",
        "allowed_origins": "HTTPS://News.Lakeside.example:443/\nhttp://localhost:*",
        "default_currency": "CHF",
        "default_locale": "fr_CH",
        "time_zone": "Europe/Zurich",
        "brand_colour": "#0F766E",
    }
    values.update(overrides)
    return values


def test_creating_a_site_makes_its_creator_the_owner(client, db_session):
    user = make_user()
    sign_in_as(client, user)
    response = post_form(client, "/admin/sites/new", site_form())
    assert response.status_code == 302
    site = db.session.execute(sa.select(Site).where(Site.name == "Lakeside Courier")).scalar_one()
    assert site.allowed_origins == ["https://news.lakeside.example", "http://localhost:*"]
    assert (site.default_currency, site.default_locale, site.time_zone) == (
        "CHF",
        "fr_CH",
        "Europe/Zurich",
    )
    assert site.brand_colour == "#0f766e"
    membership = db.session.execute(
        sa.select(Membership).where(Membership.site_id == site.id)
    ).scalar_one()
    assert (membership.user_id, membership.role) == (user.id, Role.OWNER)
    assert response.headers["Location"].endswith(f"/admin/sites/{site.id}/")
    assert db.session.execute(
        sa.select(AuditLog.action).where(AuditLog.site_id == site.id)
    ).scalars().all() == ["site.create"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Give the site a name."),
        (
            {"name": "Gazette\r\nBcc: all@example.org"},
            "name",
            "Keep the site&#39;s name on one line, without tabs or control characters.",
        ),
        (
            {"allowed_origins": "https://news.example.org/2026/article"},
            "allowed_origins",
            "is a page address; enter only its origin",
        ),
        (
            {"allowed_origins": "news.example.org"},
            "allowed_origins",
            "must start with http:// or https://",
        ),
        ({"default_locale": "xx_YY"}, "default_locale", "is not a locale we know"),
        ({"brand_colour": "blue"}, "brand_colour", "The brand colour must look like #1d4ed8."),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Not a valid choice"),
    ],
)
def test_each_site_problem_is_named_beside_its_field(client, db_session, overrides, field, message):
    sign_in_as(client, make_user())
    response = post_form(client, "/admin/sites/new", site_form(**overrides))
    assert response.status_code == 422
    error_line = response.text.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error_line
    assert db.session.execute(sa.select(sa.func.count(Site.id))).scalar_one() == 0


def test_an_owner_changes_the_settings_and_the_change_is_logged(client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    response = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/settings",
        site_form(name="Riverside Gazette", default_currency="USD"),
    )
    assert response.status_code == 302
    db.session.expire(d.site_a)
    assert d.site_a.time_zone == "Europe/Zurich"
    entry = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "site.update")
    ).scalar_one()
    assert entry.detail["changes"]["time_zone"] == {"before": "UTC", "after": "Europe/Zurich"}
    assert "name" not in entry.detail["changes"]


def test_a_refused_change_leaves_the_site_as_it_was(client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    response = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/settings",
        site_form(allowed_origins="ftp://files.example"),
    )
    assert response.status_code == 422
    db.session.expire(d.site_a)
    assert d.site_a.name == "Riverside Gazette"


def test_others_see_the_settings_read_only(client, dashboard):
    d = dashboard
    sign_in_as(client, d.editor)
    page = client.get(f"/admin/sites/{d.site_a.id}/settings")
    assert page.status_code == 200
    assert "Only the site's owners can change these settings." in page.text
    assert "<fieldset disabled>" in page.text
