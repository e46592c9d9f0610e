"""Cover the fees in a real browser: the offer follows the amount to Checkout and the ledger."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from donate import fee_cover
from donate.extensions import db
from donate.models import Donation, Goal
from tests.browser.embedding import READY, embed, widget_frames
from tests.browser.test_accessibility_in_browser import _axe_violations
from tests.factories import make_goal, make_site

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.payments_e2e]


@pytest.fixture
def fee_goal(live_server) -> Goal:  # noqa: ANN001
    goal = make_goal(
        make_site(default_currency="EUR", allowed_origins=["http://localhost:*"]),
        slug="fee-cover",
        maximum_minor=None,
        fee_cover_enabled=True,
        fee_cover_basis_points=290,
        fee_cover_fixed_minor=30,
    )
    db.session.commit()
    return goal


def _label(frame) -> str:  # noqa: ANN001
    return frame.inner_text("#fee-cover")


def test_the_donor_ticks_the_box_and_the_fee_reaches_checkout_and_the_ledger(
    live_server, stripe_sandbox, article_site, pages, artifacts, fee_goal
):
    article = article_site.publish("/fee-cover", embed(live_server.url, "fee-cover"))
    page = pages.open(width=390, height=1100)
    page.goto(article)
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    # Rendered by the server for the smallest preset: ceil((10.00 + 0.30) / 0.971) - 10.00.
    assert _label(frame) == "Add about €0.61 to help cover fees"

    frame.click("text=€25")
    assert _label(frame) == "Add about €1.06 to help cover fees"
    frame.fill("#amount", "1,234.5")
    expected = fee_cover.gross_up(123_450, 290, 30)
    assert expected == 3_718
    assert _label(frame) == "Add about €37.18 to help cover fees"
    frame.fill("#amount", "40")
    assert _label(frame) == "Add about €1.51 to help cover fees"
    frame.fill("#amount", "4o")  # not an amount: the label keeps the last one
    assert _label(frame) == "Add about €1.51 to help cover fees"
    frame.fill("#amount", "")
    frame.click("text=€50")
    assert _label(frame) == "Add about €1.81 to help cover fees"
    frame.check("input[name=cover_fees]")
    page.screenshot(path=artifacts("fee-cover-widget-390.png"), full_page=True)

    frame.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(stripe_sandbox.url) + r"/pay/cs_"))
    assert "Contribution to fees" in page.inner_text("body")
    page.screenshot(path=artifacts("fee-cover-checkout.png"), full_page=True)
    page.click("button.primary")
    page.wait_for_url(article)
    page.wait_for_function(READY, arg=1)
    assert stripe_sandbox.flush(timeout=30)

    db.session.expire_all()
    donation = db.session.execute(sa.select(Donation)).scalar_one()
    assert (donation.amount_minor, donation.fee_cover_minor) == (5_181, 181)
    goal = db.session.get(Goal, fee_goal.id)
    assert goal.raised_minor == 5_181
    frame = widget_frames(page)[0]
    assert "€51.81 of" in frame.inner_text(".raised")


def test_the_offer_is_axe_clean_and_translated(live_server, pages, fee_goal):
    for locale, text in (
        ("en", "Add about €0.61 to help cover fees"),
        ("de", "Etwa 0,61\xa0€ für die Gebühren dazugeben"),
        ("fr", "Ajouter environ 0,61\xa0€ pour aider à couvrir les frais"),
    ):
        page = pages.open(width=320)
        page.goto(f"{live_server.url}/w/fee-cover?locale={locale}")
        assert page.inner_text("#fee-cover") == text
        page.click("text=25")
        assert page.inner_text("#fee-cover") != text  # the script formats as the server does
        assert _axe_violations(page) is None, locale
    page.check("input[name=cover_fees]")
    assert _axe_violations(page) is None
    goal_page = pages.open(width=1280)
    goal_page.goto(f"{live_server.url}/g/fee-cover")
    assert goal_page.inner_text("#fee-cover") == "Add about €0.61 to help cover fees"
    assert _axe_violations(goal_page) is None
