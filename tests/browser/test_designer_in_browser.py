"""The embed designer in Chromium: choosing a variant, a colour and a call to action changes the
three previews (320, 390 and 720 px) and the code to copy; screenshots of both."""

from __future__ import annotations

import pytest

from donate.extensions import db
from donate.models import Role
from donate.widget.colours import PALETTE
from tests.admin_support import PASSWORD, make_user
from tests.browser.embedding import csp_violations
from tests.factories import make_goal, make_offline_gift, make_site

pytestmark = [pytest.mark.browser, pytest.mark.live]

CTA = "Support our city hall investigation"
WIDTHS = (320, 390, 720)


def previews_show(wanted: str, test: str) -> str:
    """JS: all three previews loaded an address containing `wanted`, and `test` holds in each."""
    return f"""() => {{
  const frames = [...document.querySelectorAll('iframe.designer-preview')];
  return frames.length === 3 && frames.every(frame => {{
    const doc = frame.contentDocument;
    return frame.src.includes({wanted!r}) && !!doc && doc.readyState === 'complete' &&
      doc.location.href === frame.src && ({test});
  }});
}}"""


@pytest.fixture
def owner_goal(live_server):  # noqa: ANN001
    site = make_site(name="Riverside Gazette", allowed_origins=["http://localhost:*"])
    make_user("owner@riverside.example", site=site, role=Role.OWNER)
    goal = make_goal(site, slug="city-hall", title="The city hall files", target_minor=500_000)
    make_offline_gift(goal, 82_200, donor_email="donor@example.org")
    db.session.commit()
    return goal


def test_choices_change_the_three_previews_and_the_code(live_server, pages, artifacts, owner_goal):
    goal, site_id = owner_goal, owner_goal.site_id
    page = pages.open(width=1280, height=900)
    page.goto(f"{live_server.url}/admin/sign-in")
    page.fill("#email", "owner@riverside.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/sites/{site_id}/")
    page.goto(f"{live_server.url}/admin/sites/{site_id}/goals/{goal.id}/embed")

    page.wait_for_function(previews_show("/preview?", "!!doc.querySelector('form')"))
    frames = page.locator("iframe.designer-preview")
    assert [round(frames.nth(i).bounding_box()["width"]) for i in range(3)] == list(WIDTHS)
    code = page.input_value("#code-script")
    assert code.endswith('data-goal="city-hall"></script>')

    page.check("input[name=variant][value=bar]")
    page.wait_for_function(previews_show("variant=bar", "!doc.querySelector('form')"))
    page.wait_for_function(
        "() => document.querySelector('#code-script').value.includes('data-variant=\"bar\"')"
    )
    assert '/w/city-hall?variant=bar"' in page.input_value("#code-iframe")

    page.select_option("#color", "green")
    accent = (
        "getComputedStyle(doc.documentElement).getPropertyValue('--accent').trim()"
        f" === '{PALETTE['green']}'"
    )
    page.wait_for_function(previews_show("color=green", accent))
    page.wait_for_function(
        "() => document.querySelector('#code-script').value.includes('data-color=\"green\"')"
    )
    assert page.input_value("#code-iframe").startswith(
        f'<iframe src="{live_server.url}/w/city-hall?variant=bar&color=green" '
    )

    page.check("input[name=variant][value=full]")
    page.fill("#cta", CTA)
    page.wait_for_function(previews_show("cta=Support", f"doc.body.textContent.includes('{CTA}')"))
    page.uncheck("#show_donor_count")
    page.wait_for_function(
        previews_show("show_donor_count=0", "!doc.body.textContent.includes('1 donor')")
    )
    assert page.input_value("#code-script") == (
        f'<div class="donate-widget" data-goal="city-hall"><a href="{live_server.url}/g/'
        f'city-hall">Give to The city hall files</a></div>\n'
        f'<script async src="{live_server.url}/embed.js" data-goal="city-hall" '
        f'data-color="green"></script>'
    )
    # The texts are not in any code: they reach readers only once saved.
    assert "Support" not in page.input_value("#code-iframe")

    # Previews size themselves to their content; then the screenshots.
    page.wait_for_function(
        "() => [...document.querySelectorAll('iframe.designer-preview')].every(f =>"
        " Math.abs(f.getBoundingClientRect().height - f.contentDocument.documentElement"
        ".scrollHeight) < 4)"
    )
    page.screenshot(path=artifacts("designer-1280.png"), full_page=True)
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
    for index, width in enumerate(WIDTHS):
        frames.nth(index).screenshot(path=artifacts(f"designer-preview-{width}.png"))

    page.click("text=Save for this goal")
    page.wait_for_selector("text=The widget's settings are saved")
    assert 'data-color="green"' in page.input_value("#code-script")
    reader = pages.open(width=390)
    reader.goto(f"{live_server.url}/w/city-hall")
    assert CTA in reader.inner_text("body")
    # No script error and no refusal under either policy (the favicon's 404 aside).
    assert [e for e in pages.console_errors if "Failed to load resource" not in e] == []
    assert csp_violations(pages) == []
