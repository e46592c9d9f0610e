"""Giving from an article: the frame's form reaches Checkout at the top level and comes back."""

from __future__ import annotations

import re

import pytest

from donate.extensions import db
from tests.browser.embedding import READY, embed, widget_frames
from tests.factories import make_goal, make_offline_gift
from tests.isolated_host import Forwarder
from tests.test_checkout_lifetime import hanging_stripe  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.live, pytest.mark.payments_e2e]


def test_a_preset_and_give_land_on_checkout_and_return_thanked(
    live_server, stripe_sandbox, article_site, pages
):
    goal = make_goal(slug="give-e2e")
    make_offline_gift(goal, 10_000)
    db.session.commit()
    article = article_site.publish("/give-e2e", embed(live_server.url, "give-e2e", article="a-1"))
    page = pages.open(width=1000)
    page.goto(article)
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    assert "$100 of" in frame.inner_text(".raised")

    frame.click("text=$25")
    frame.click("button[type=submit]")
    # Checkout refuses to run in a frame: the whole tab went there.
    page.wait_for_url(re.compile(re.escape(stripe_sandbox.url) + r"/pay/cs_"))
    assert page.main_frame.url.startswith(stripe_sandbox.url + "/pay/cs_")
    assert page.query_selector(".donate-widget") is None

    page.click("button.primary")
    # Back on the article, whose loader thanks once and takes the mark out of the address.
    page.wait_for_url(article)
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    frame.wait_for_selector("#thank-you:not([hidden])")
    assert "Your gift of $25.00 takes us to 2%." in frame.inner_text("#thank-you")
    assert "$125 of" in frame.inner_text(".raised")


LONG_ARTICLE = "<p>" + "Paragraph of the article. " * 40 + "</p>"


def test_with_stripe_unreachable_the_frame_says_so_once_and_the_article_stays(
    live_server,
    hanging_stripe,  # noqa: F811 - the fixture imported above
    article_site,
    pages,
):
    make_goal(slug="give-down")
    db.session.commit()
    article = article_site.publish("/give-down", embed(live_server.url, "give-down"))
    page = pages.open(width=1000)
    page.goto(article)
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    frame.click("text=$25")
    frame.click("button[type=submit]")
    frame.wait_for_selector("#give-error:not([hidden])", timeout=10_000)
    assert frame.inner_text("#give-error") == (
        "We could not reach our payment provider. Nothing was charged; please try again in a "
        "moment."
    )
    assert frame.inner_text("body").count("Nothing was charged") == 1
    # The article is still there around the frame, and the form is ready for another try.
    assert page.url == article
    assert page.query_selector(".donate-widget iframe") is not None
    assert frame.is_enabled("button[type=submit]")
    assert frame.is_checked("text=$25")


def test_cancel_on_checkout_returns_to_the_widget_not_the_top_of_the_article(
    live_server, stripe_sandbox, article_site, pages
):
    make_goal(slug="give-cancel")
    db.session.commit()
    body = LONG_ARTICLE * 6 + embed(live_server.url, "give-cancel") + LONG_ARTICLE * 6
    article = article_site.publish("/give-cancel", body)
    page = pages.open(width=1000, height=700)
    page.goto(article)
    page.wait_for_function(READY, arg=1)
    widget_frames(page)[0].click("text=$25")
    widget_frames(page)[0].click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(stripe_sandbox.url) + r"/pay/cs_"))

    page.click("text=Cancel and go back")
    page.wait_for_function(READY, arg=1)
    # The mark is gone from the address (a reload or a shared link does nothing special) ...
    assert page.url == article
    # ... the widget is in view, and nobody is thanked.
    box = page.query_selector(".donate-widget").bounding_box()
    assert box is not None and box["y"] < 700 and box["y"] + box["height"] > 0
    assert page.evaluate("window.scrollY") > 0
    assert widget_frames(page)[0].query_selector(".thanks") is None
    assert widget_frames(page)[0].is_hidden("#thank-you")


def test_past_the_clicks_few_seconds_the_frame_offers_continue_to_payment(
    app, live_server, stripe_sandbox, article_site, pages, monkeypatch
):
    # Stripe answers after 6 s, past the ~5 s in which a click lets the frame move the tab (the
    # give budget is raised here only so that the slow answer arrives at all).
    proxy = Forwarder("127.0.0.1", int(stripe_sandbox.url.rsplit(":", 1)[1]), pause=6)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", proxy.url)
    monkeypatch.setitem(app.config, "STRIPE_GIVE_BUDGET_SECONDS", 12)
    app.extensions.pop("donate.stripe", None)
    make_goal(slug="give-slow")
    db.session.commit()
    article = article_site.publish("/give-slow", embed(live_server.url, "give-slow"))
    page = pages.open(width=1000)
    page.goto(article)
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    frame.click("text=$25")
    frame.click("button[type=submit]")
    # Playwright's own scripts in the page count as user gestures and would keep the click's
    # activation alive: nothing of the test runs in the page while Stripe takes its time.
    page.wait_for_timeout(9_000)
    link = frame.wait_for_selector("a.button", timeout=20_000)
    assert link.inner_text() == "Continue to payment"
    assert page.url == article  # the browser would have refused to move the tab by now
    link.click()
    page.wait_for_url(re.compile(re.escape(stripe_sandbox.url) + r"/pay/cs_"))
    proxy.close()
    app.extensions.pop("donate.stripe", None)


def test_too_many_attempts_are_explained_in_the_frame_with_the_apps_sentence(
    live_server, article_site, pages
):
    make_goal(slug="give-often")
    db.session.commit()
    article = article_site.publish("/give-often", embed(live_server.url, "give-often"))
    page = pages.open(width=1000)
    page.goto(article)
    page.wait_for_function(READY, arg=1)
    frame = widget_frames(page)[0]
    frame.click("text=$25")
    for _attempt in range(11):  # Stripe is unreachable in tests: each try is refused at once
        with page.expect_response(lambda response: "/give/give-often" in response.url):
            frame.click("button[type=submit]")
        frame.wait_for_selector("#give-error:not([hidden])", timeout=10_000)
    assert frame.inner_text("#give-error") == (
        "Too many attempts from your connection in a short time. "
        "Please wait a minute, then try again."
    )
