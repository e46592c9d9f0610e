"""The dashboard on a 390 px phone and a 1280 px screen in Chromium: tables become labelled rows
with no sideways scrolling, refunds and cancellations ask first with the amount, and a new goal's
address follows its title. Screenshots go to test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import AuditLog, DonationKind, Refund, Role, SubscriptionStatus
from tests.admin_support import PASSWORD, make_user
from tests.browser.embedding import csp_violations
from tests.browser.test_accessibility_in_browser import _axe_violations as axe_violations
from tests.factories import make_goal, make_offline_gift, make_site
from tests.test_admin_monthly import monthly_gift

pytestmark = [pytest.mark.browser, pytest.mark.live]

PHONE, DESKTOP = 390, 1280
LONG_ARTICLE = (
    "https://www.riverside-gazette.example/2026/11/06/investigations/"
    "the-long-road-to-repairing-the-old-river-bridge-and-who-pays-for-it?utm_source=newsletter"
)
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
SCROLL_WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"


@pytest.fixture
def newsroom(live_server):  # noqa: ANN001
    """A site with a goal, gifts from long article addresses, a card gift and monthly donors."""
    site = make_site(name="Riverside Gazette", allowed_origins=["http://localhost:*"])
    make_user("editor@riverside-gazette-newsroom.example", site=site, role=Role.EDITOR)
    goal = make_goal(
        site,
        slug="keep-the-flood-desk-open-through-the-winter-season",
        title="Keep the flood desk open through the winter",
        target_minor=300_000,
        milestones_minor=[100_000, 200_000],
        ends_at=datetime(2027, 3, 31, 22, 0, tzinfo=UTC),
    )
    for amount, name, day in ((5_000, "Ana Lima", 3), (2_500, None, 4), (12_000, "Ben O.", 6)):
        make_offline_gift(
            goal,
            amount,
            public_name=name,
            anonymous=name is None,
            donor_email=f"a-rather-long-address-{amount}@subscribers.riverside.example",
            source_url=LONG_ARTICLE,
            created_at=datetime(2026, 11, day, 18, tzinfo=UTC),
        )
    card = ledger.create_pending_donation(
        goal, amount_minor=5_000, kind=DonationKind.ONE_TIME, cause="test"
    )
    ledger.settle_donation(card.id, cause="evt", payment_intent_id="pi_browser_card")
    statuses = [
        (SubscriptionStatus.ACTIVE, 4, False),
        (SubscriptionStatus.ACTIVE, 2, True),
        (SubscriptionStatus.PAST_DUE, 3, False),
        (SubscriptionStatus.INCOMPLETE, 0, False),
        (SubscriptionStatus.CANCELED, 6, False),
    ]
    for number, (status, paid, leaving) in enumerate(statuses):
        monthly_gift(
            goal,
            status=status,
            paid=paid,
            cancel_at_period_end=leaving,
            amount=1_000 + 500 * number,
            email=f"monthly-donor-number-{number}@subscribers.riverside.example",
        )
    db.session.commit()
    site.card_id = card.id  # type: ignore[attr-defined]
    return site


def signed_in(pages, live_server, width: int):  # noqa: ANN001, ANN201
    page = pages.open(width=width, height=844 if width == PHONE else 900)
    page.goto(f"{live_server.url}/admin/sign-in")
    page.fill("#email", "editor@riverside-gazette-newsroom.example")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/sites/*/")
    return page


def fits(page) -> None:  # noqa: ANN001
    page.wait_for_load_state("load")  # measured on the page and its style sheet, not mid-way
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate(SCROLL_WIDTHS)


def label_of(page, selector: str) -> str:  # noqa: ANN001
    return page.eval_on_selector(selector, "cell => getComputedStyle(cell, '::before').content")


def test_monthly_donors_list_on_a_phone_and_a_screen(live_server, pages, artifacts, newsroom):
    base = f"{live_server.url}/admin/sites/{newsroom.id}"
    for width in (PHONE, DESKTOP):
        page = signed_in(pages, live_server, width)
        page.click("text=Monthly donors")
        page.wait_for_url(f"{base}/monthly")
        rows = page.locator("table.monthly tbody tr")
        assert rows.count() == 5
        text = page.inner_text("main")
        for status in ("active", "cancelling at period end", "past due (payment failing)"):
            assert status in text
        fits(page)
        assert axe_violations(page) is None
        page.screenshot(path=artifacts(f"dashboard-monthly-{width}.png"), full_page=True)
        if width == PHONE:
            # Each row is a card; each cell names its column, the header row is for screen readers.
            assert label_of(page, "table.monthly tbody tr td:nth-child(3)") == '"Status"'
            assert (
                page.eval_on_selector("table.monthly tbody tr", "r => getComputedStyle(r).display")
                == "block"
            )
            assert page.locator("table.monthly thead th").first.is_hidden() is False
        else:
            assert label_of(page, "table.monthly tbody tr td:nth-child(3)") in ("none", "normal")
    assert csp_violations(pages) == []


def test_cancel_buttons_ask_first_with_the_amount(live_server, pages, artifacts, newsroom):
    page = signed_in(pages, live_server, PHONE)
    page.click("text=Monthly donors")
    page.click("text=monthly-donor-number-0@subscribers.riverside.example")
    page.wait_for_url("**/monthly/*")
    fits(page)
    assert axe_violations(page) is None
    page.screenshot(path=artifacts("dashboard-monthly-donor-390.png"), full_page=True)
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("text=Cancel now")
    assert asked == ["Cancel this monthly gift of $10.00 now? No further payment will be taken."]
    assert "Stripe accepted" not in page.inner_text("main")
    action = AuditLog.action.like("subscription%")
    assert db.session.execute(sa.select(AuditLog.id).where(action)).first() is None


def test_overview_and_donations_fit_a_phone(live_server, pages, artifacts, newsroom):
    base = f"{live_server.url}/admin/sites/{newsroom.id}"
    page = signed_in(pages, live_server, PHONE)
    assert "Keep the flood desk open" in page.inner_text("main")
    fits(page)
    assert label_of(page, "main table tbody td:nth-child(3)") == '"Raised"'
    page.screenshot(path=artifacts("dashboard-overview-390.png"), full_page=True)

    page.goto(f"{base}/donations")
    assert page.locator("table.donations tbody tr").count() == 20  # 4 gifts, 16 monthly
    fits(page)
    article = "table.donations tbody td.source:not(:empty)"
    assert label_of(page, article) == '"Article"'
    assert axe_violations(page) is None
    # The long article address wraps inside its card instead of widening the page.
    source = page.locator(article).first.bounding_box()
    assert source["x"] + source["width"] <= PHONE
    page.screenshot(path=artifacts("dashboard-donations-390.png"), full_page=True)

    for path in ("/audit", f"/donations/{newsroom.card_id}", "/people"):
        page.goto(base + path)
        fits(page)
    page.click("text=Overview")
    page.wait_for_url(f"{base}/")
    page.click("text=Keep the flood desk open through the winter")
    page.wait_for_url("**/goals/*")
    fits(page)
    assert "/g/keep-the-flood-desk-open-through-the-winter-season" in page.inner_text(".goal-facts")
    page.screenshot(path=artifacts("dashboard-goal-390.png"), full_page=True)
    assert csp_violations(pages) == []


def test_a_refund_asks_first_and_names_the_amount(live_server, pages, newsroom):
    page = signed_in(pages, live_server, PHONE)
    page.goto(f"{live_server.url}/admin/sites/{newsroom.id}/donations/{newsroom.card_id}")
    asked: list[str] = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.fill("#amount", "12.50")
    page.click("text=Refund through Stripe")
    page.fill("#amount", "")
    page.click("text=Refund through Stripe")
    assert asked == [
        "Refund 12.50 USD to the donor through Stripe? This cannot be undone.",
        "Refund $50.00 (everything that remains) to the donor through Stripe? "
        "This cannot be undone.",
    ]
    assert db.session.execute(sa.select(Refund.id)).first() is None


def test_a_new_goals_address_follows_its_title_until_edited(live_server, pages, newsroom):
    page = signed_in(pages, live_server, PHONE)
    page.click("text=New goal")
    page.fill("#title", "Café: the Night Desk, 2027!")
    assert page.input_value("#slug") == "cafe-the-night-desk-2027"
    fits(page)
    page.fill("#slug", "night-desk")
    page.fill("#title", "The night desk")
    assert page.input_value("#slug") == "night-desk"
