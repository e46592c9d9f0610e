"""Giving from an article: the frame's form reaches Checkout at the top level and comes back."""

from __future__ import annotations

import re

import pytest

from donate.extensions import db
from tests.browser.embedding import READY, embed, widget_frames
from tests.factories import make_goal, make_offline_gift

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
    assert "$100 raised" in frame.inner_text(".figures")

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
    assert frame.inner_text(".thanks") == "Thank you for your gift!"
    assert "$125 raised" in frame.inner_text(".figures")
