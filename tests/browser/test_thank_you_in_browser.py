"""The thank-you after a gift: only in the widget given to, with the amount, axe-clean."""

from __future__ import annotations

import re

import pytest

from donate import ledger
from donate.extensions import db
from donate.models import DonationKind
from donate.widget.thank_you import sign_gift
from tests.browser.embedding import READY, embed, widget_frames
from tests.browser.test_accessibility_in_browser import _axe_violations
from tests.factories import make_goal, make_offline_gift, make_site

pytestmark = [pytest.mark.browser, pytest.mark.live]

ARTICLE_TEXT = "<p>" + "The council's spending is ours to report. " * 12 + "</p>"
# The card's gift segment (its form's preview, then the donor's gift) as drawn.
GIFT_WIDTH = "e => e.getBoundingClientRect().width"
SHOWN = "#thank-you:not([hidden])"


def _two_goal_article(live_server, article_site, path: str) -> str:
    site = make_site()
    given = make_goal(site, slug=f"{path}-hall", title="Support our city hall investigation")
    make_offline_gift(given, 100_000)
    other = make_goal(site, slug=f"{path}-schools", title="Report on our schools")
    make_offline_gift(other, 40_000)
    db.session.commit()
    body = embed(live_server.url, given.slug) + ARTICLE_TEXT + embed(live_server.url, other.slug)
    return article_site.publish(f"/{path}", body)


def _give_through_checkout(page, stripe_sandbox, article: str, outcome: str) -> None:  # noqa: ANN001
    page.goto(article)
    page.wait_for_function(READY, arg=2)
    frame = widget_frames(page)[0]
    frame.click("text=$25")
    frame.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(stripe_sandbox.url) + r"/pay/cs_"))
    page.click(outcome)
    page.wait_for_url(article)
    page.wait_for_function(READY, arg=2)


@pytest.mark.payments_e2e
def test_after_a_gift_only_the_goal_given_to_thanks_with_the_amount(
    live_server, stripe_sandbox, article_site, pages, artifacts
):
    article = _two_goal_article(live_server, article_site, "thank-you")
    page = pages.open(width=1280)
    _give_through_checkout(page, stripe_sandbox, article, "button.primary")
    # The token is out of the address bar: a reload or a shared link thanks nobody.
    assert page.url == article
    assert page.evaluate("location.hash") == ""

    given, other = widget_frames(page)
    given.wait_for_selector(SHOWN)
    assert given.is_hidden("#give")
    thanks = given.inner_text("#thank-you")
    assert "Thank you!" in thanks
    assert "Your gift of $25.00 takes us to 20%." in thanks
    assert "being confirmed" not in thanks
    # The bar has the gift in it, as a segment of its own after what was raised before.
    segment = given.eval_on_selector(".bar .gift", "e => [e.style.left, e.style.width]")
    assert segment == ["20%", "0.5%"]
    assert given.get_attribute(".bar", "aria-valuetext") == "$1,025 raised of $5,000, 20%"
    assert given.inner_text(".raised strong") == "$1,025"
    links = given.eval_on_selector_all(".share a", "links => links.map(a => a.href)")
    assert links[0].startswith("mailto:?subject=Support%20our%20city%20hall%20investigation")
    assert all(link.startswith(("mailto:", "https://")) for link in links) and len(links) == 5
    # The frame took the token out of its own address too.
    assert "donate-thanks" not in given.evaluate("location.href")

    # The other goal's widget is as it was.
    assert other.is_hidden("#thank-you")
    assert other.is_visible("#give")
    assert "#" not in other.url

    page.screenshot(path=artifacts("thank-you-article-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)  # the frame reports its new height
    page.locator(".donate-widget").first.screenshot(path=artifacts("thank-you-widget-390.png"))

    # "Give again" brings the form back, ready for the keyboard.
    given.click("button.again")
    assert given.is_visible("#give")
    assert given.is_hidden("#thank-you")
    assert given.evaluate("document.activeElement.name") == "amount_minor"
    page.locator(".donate-widget").first.screenshot(path=artifacts("thank-you-again-390.png"))

    page.reload()
    page.wait_for_function(READY, arg=2)
    assert all(frame.is_hidden("#thank-you") for frame in widget_frames(page))


@pytest.mark.payments_e2e
def test_a_bank_debit_still_processing_is_being_confirmed(
    live_server, stripe_sandbox, article_site, pages, artifacts
):
    article = _two_goal_article(live_server, article_site, "bank-debit")
    page = pages.open(width=390, height=844)
    _give_through_checkout(page, stripe_sandbox, article, "text=Pay by bank debit (delayed)")
    given, other = widget_frames(page)
    given.wait_for_selector(SHOWN)
    assert (
        "Your gift of $25.00 is being confirmed. It joins the bar once the payment has gone "
        "through." in given.inner_text("#thank-you")
    )
    # Not counted: the bar and the sum are where they were, with no segment for the gift.
    assert given.eval_on_selector(".bar .gift", GIFT_WIDTH) == 0
    assert given.inner_text(".raised strong") == "$1,000"
    assert other.is_hidden("#thank-you")
    page.locator(".donate-widget").first.screenshot(path=artifacts("thank-you-confirming-390.png"))


def _frame_states(live_server):  # noqa: ANN001
    """The frame opened as the loader opens it after each kind of return."""
    goal = make_goal(slug="thanked", milestones_minor=[100_000, 250_000])
    make_offline_gift(goal, 25_000)
    paid = ledger.create_pending_donation(
        goal, amount_minor=2_500, kind=DonationKind.ONE_TIME, cause="test"
    )
    assert ledger.settle_donation(paid.id, cause="test", charge_id="ch_thanked")
    pending = ledger.create_pending_donation(
        goal, amount_minor=1_000, kind=DonationKind.MONTHLY, cause="test"
    )
    db.session.commit()
    base = f"{live_server.url}/w/thanked"
    return {
        "counted": f"{base}#donate-thanks={sign_gift(paid)}",
        "confirming": f"{base}?locale=de#donate-thanks={sign_gift(pending)}",
        "gentle": f"{base}?locale=fr#donate-thanks=",
        "forged": f"{base}#donate-thanks=WzEsMV0.forged.token",
    }


def test_axe_finds_nothing_in_the_thank_you_states(live_server, pages, artifacts):
    states = _frame_states(live_server)
    for name, url in states.items():
        page = pages.open(width=390)
        page.goto(url)
        page.wait_for_selector(SHOWN)
        assert _axe_violations(page) is None, name
        page.screenshot(path=artifacts(f"thank-you-{name}-390.png"), full_page=True)
    page = pages.open(width=390)
    page.goto(states["confirming"])
    page.wait_for_selector(SHOWN)
    assert "wird gerade bestätigt" in page.inner_text("#thank-you")
    assert page.inner_text("#ty-title") == "Vielen Dank!"


def test_without_a_usable_token_the_thanks_is_gentle_and_has_no_amount(live_server, pages):
    states = _frame_states(live_server)
    for name in ("gentle", "forged"):
        page = pages.open(width=390)
        page.goto(states[name])
        page.wait_for_selector(SHOWN)
        shown = page.inner_text("#thank-you")
        assert not re.search(r"\d", shown.split("\n", 1)[0]), name
        assert all(
            page.is_hidden(f"[data-when={when}]") for when in ("once", "monthly", "confirming")
        )
        assert page.eval_on_selector(".bar .gift", GIFT_WIDTH) == 0, name
        page.click("button.again")
        assert page.is_visible("#give")
