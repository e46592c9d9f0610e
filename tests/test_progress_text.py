"""The share of the target raised reads the same on every page for one locale, "<1%" when small."""

from __future__ import annotations

import html
import re

import pytest

from donate import money
from tests.admin_support import sign_in_as
from tests.factories import make_goal, make_offline_gift
from tests.widget_support import fresh_widget_cache, page_text  # noqa: F401

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard fixtures


def _plain(text: str) -> str:
    """Entities decoded and no-break spaces as spaces, as a reader sees them."""
    return html.unescape(text).replace("\u00a0", " ").replace("\u202f", " ")


def test_english_writes_a_whole_percent_and_less_than_one_percent():
    assert money.format_progress(82_200, 500_000, "en") == "16%"
    assert money.format_progress(4_250, 500_000, "en") == "<1%"
    assert money.format_progress(0, 500_000, "en") == "0%"
    # Floored: 99.98 % never reads as reached.
    assert money.format_progress(499_900, 500_000, "en") == "99%"
    assert money.format_progress(600_000, 500_000, "en") == "120%"


def test_less_than_one_percent_follows_the_locale():
    one = money.format_progress(5_000, 500_000, "de")
    assert money.format_progress(4_250, 500_000, "de") == "<" + one
    assert money.format_progress(4_250, 500_000, "de") != money.format_progress(0, 500_000, "de")


@pytest.mark.parametrize("locale", ["en", "de", "fr"])
@pytest.mark.parametrize("raised_minor", [82_200, 4_250, 0])
def test_widget_image_api_home_and_dashboard_show_one_formatting(
    client, dashboard, locale, raised_minor
):
    d = dashboard
    d.site_a.default_locale = locale
    goal = make_goal(
        d.site_a, slug=f"share-{locale}-{raised_minor}", title="The share", target_minor=500_000
    )
    if raised_minor:
        make_offline_gift(goal, raised_minor)
    expected = _plain(money.format_progress(raised_minor, 500_000, locale))

    widget = page_text(client.get(f"/w/{goal.slug}?locale={locale}").data)
    assert f" {expected} · " in widget
    svg = _plain(client.get(f"/w/{goal.slug}/progress.svg?locale={locale}").get_data(as_text=True))
    assert f" · {expected}" in svg
    api = client.get(f"/api/v1/goals/{goal.slug}?locale={locale}").get_json()
    assert _plain(api["display"]["percent"]) == expected

    home = _plain(client.get("/").get_data(as_text=True))
    assert re.search(rf"The share</a>\s*\({re.escape(expected)} of the target;", home)

    sign_in_as(client, d.viewer)
    overview = _plain(client.get(f"/admin/sites/{d.site_a.id}/").get_data(as_text=True))
    assert f'<td data-label="Reached" class="num">{expected}</td>' in overview
    detail_page = client.get(f"/admin/sites/{d.site_a.id}/goals/{goal.id}")
    detail = _plain(detail_page.get_data(as_text=True))
    assert f"<dt>Reached</dt><dd>{expected}</dd>" in detail
