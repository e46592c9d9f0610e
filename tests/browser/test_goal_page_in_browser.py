"""The goal page in Chromium: a cover uploaded from the dashboard, the link home, share links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from donate.extensions import db
from donate.models import Role
from tests.admin_support import PASSWORD, make_user
from tests.browser.test_accessibility_in_browser import _axe_violations
from tests.cover_support import phone_photo
from tests.factories import make_goal, make_offline_gift, make_site

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture
def newsroom(live_server, article_site):  # noqa: ANN001
    site = make_site(name="Riverside Gazette", home_url=article_site.origin + "/")
    goal = make_goal(
        site,
        slug="river-desk",
        title="Keep the river desk reporting",
        description="Our reporters follow the river clean-up.\n\nEvery gift keeps a story free.",
        milestones_minor=[100_000, 250_000],
        # Near enough for the card to count days rather than give the date.
        ends_at=datetime.now(UTC) + timedelta(days=20, hours=12),
    )
    make_offline_gift(goal, 25_000, public_name="Marguerite", public_message="For the river.")
    make_user("owner@riverside.example", site=site, role=Role.OWNER)
    db.session.commit()
    return site, goal


def _upload_cover_from_the_dashboard(page, live_server, site, goal) -> None:  # noqa: ANN001
    page.goto(f"{live_server.url}/admin/sign-in")
    page.fill("#email", "owner@riverside.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/sites/{site.id}/")
    page.goto(f"{live_server.url}/admin/sites/{site.id}/goals/{goal.id}")
    page.click("text=Cover image")
    page.set_input_files(
        "#image",
        files=[
            {"name": "river.jpg", "mimeType": "image/jpeg", "buffer": phone_photo((2400, 1600))}
        ],
    )
    page.fill("#alt", "Volunteers hauling nets out of the river")
    page.click("text=Upload the image")
    assert "The cover image is saved" in page.inner_text("main")
    assert page.locator(".cover-preview img").evaluate("img => img.naturalWidth") == 800


@pytest.mark.parametrize("width", [390, 1280])
def test_goal_page_with_cover_site_link_and_share_links(
    live_server, article_site, newsroom, pages, artifacts, width
):
    site, goal = newsroom
    _upload_cover_from_the_dashboard(pages.open(width=1280), live_server, site, goal)

    pages.console_errors.clear()  # the dashboard's missing favicon is no concern here
    page = pages.open(width=width, height=900)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live_server.url}/g/river-desk")

    cover = page.locator("img.cover")
    assert cover.get_attribute("alt") == "Volunteers hauling nets out of the river"
    # Loaded (the page's CSP allows our own images) and upright: 800 × 1200 after orientation.
    assert cover.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]") == [
        True,
        800,
        1200,
    ]
    box = cover.bounding_box()
    assert box is not None and box["width"] <= width

    home = page.locator("a.site-name")
    assert home.inner_text() == "Riverside Gazette"
    assert home.get_attribute("href") == article_site.origin + "/"
    assert home.get_attribute("rel") == "noopener"

    assert "days left" in page.inner_text("main")
    share = page.locator("section.share")
    hrefs = share.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert hrefs[0].startswith("mailto:?subject=Keep%20the%20river%20desk%20reporting")
    assert any(href.startswith("https://www.facebook.com/sharer/sharer.php?u=") for href in hrefs)
    assert any(href.startswith("https://bsky.app/intent/compose?text=") for href in hrefs)
    for link in share.locator("a[target=_blank]").all():
        assert link.get_attribute("rel") == "noopener noreferrer"
    # The copy button appears (the clipboard is there) and says when the link is copied.
    copy = page.locator("button.copy")
    assert copy.is_visible()
    copy.click()
    page.wait_for_function("() => document.querySelector('.copied').textContent === 'Link copied.'")
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}/g/river-desk"

    # Nothing was fetched from anywhere but us: no network's script, image or frame.
    assert requested and all(url.startswith(live_server.url) for url in requested), requested
    assert _axe_violations(page) is None
    assert pages.console_errors == []
    page.screenshot(path=artifacts(f"goal-page-cover-{width}.png"), full_page=True)
