"""The dashboard in Chromium: sign in, create a goal, copy its embed code into an article on another
origin and see the widget there; screenshots of the overview, donations and embed pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from donate.extensions import db
from donate.models import Role
from tests.admin_support import PASSWORD, make_user
from tests.browser.embedding import READY, csp_violations, widget_frames
from tests.factories import make_goal, make_offline_gift, make_site

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.fixture
def newsroom(live_server):  # noqa: ANN001
    """A site that allows embeds from localhost, its owner, and a goal with a few gifts."""
    site = make_site(name="Riverside Gazette", allowed_origins=["http://localhost:*"])
    make_user("owner@riverside.example", site=site, role=Role.OWNER)
    older = make_goal(
        site, slug="flood-desk", title="Keep the flood desk open", target_minor=300_000
    )
    for amount, name, day in ((5_000, "Ana Lima", 3), (2_500, None, 4), (12_000, "Ben O.", 6)):
        make_offline_gift(
            older,
            amount,
            public_name=name,
            anonymous=name is None,
            donor_email=f"donor{amount}@example.org",
            source_url="http://localhost:8123/2026/flood",
            created_at=datetime(2026, 11, day, 18, tzinfo=UTC),
        )
    db.session.commit()
    return site


def test_sign_in_create_a_goal_and_embed_it_on_another_origin(
    live_server, article_site, pages, artifacts, newsroom
):
    page = pages.open(width=1280, height=900)
    page.goto(f"{live_server.url}/admin/sign-in")
    page.fill("#email", "owner@riverside.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/sites/{newsroom.id}/")
    assert "Keep the flood desk open" in page.inner_text("main")

    page.click("text=New goal")
    page.fill("#title", "Cover the school board")
    page.fill("#slug", "school-board")
    page.fill("#target", "5,000")
    page.fill("#presets", "10\n25\n50")
    page.fill("#minimum", "5")
    page.check("#monthly")
    page.click("main button[type=submit]")
    page.wait_for_url("**/embed")
    assert page.inner_text("h1") == "Embed “Cover the school board”"

    # The copy button puts the script snippet on the clipboard, exactly as shown.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.click("#snippet-script button.copy")
    page.wait_for_function(
        "() => document.querySelector('#snippet-script .copied').textContent === 'Copied.'"
    )
    snippet = page.evaluate("() => navigator.clipboard.readText()")
    assert snippet == page.input_value("#code-script")
    assert snippet == (
        f'<div class="donate-widget" data-goal="school-board">'
        f'<a href="{live_server.url}/g/school-board">Give to Cover the school board</a></div>\n'
        f'<script async src="{live_server.url}/embed.js" data-goal="school-board"></script>'
    )
    preview = page.frame_locator("iframe.designer-preview").first
    assert "Cover the school board" in preview.locator("h1").inner_text()
    page.screenshot(path=artifacts("dashboard-embed.png"), full_page=True)

    # Pasted into an article on another origin, the widget renders there.
    reader = pages.open(width=1000)
    reader.goto(article_site.publish("/2026/school-board", snippet))
    reader.wait_for_function(READY, arg=1)
    (frame,) = widget_frames(reader)
    assert frame.inner_text("h1") == "Support Cover the school board"
    assert frame.query_selector("button[type=submit]") is not None
    reader.screenshot(path=artifacts("dashboard-embedded-article.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/sites/{newsroom.id}/donations")
    assert page.locator("table.donations tbody tr").count() == 3
    page.screenshot(path=artifacts("dashboard-donations.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/sites/{newsroom.id}/")
    assert page.locator("text=Cover the school board").count() == 1
    page.screenshot(path=artifacts("dashboard-overview.png"), full_page=True)

    page.click("text=Keep the flood desk open")
    assert page.locator("svg.chart rect").count() == 4  # 3, 4, 5 and 6 November
    page.screenshot(path=artifacts("dashboard-goal-chart.png"), full_page=True)
    assert csp_violations(pages) == []
