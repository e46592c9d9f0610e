"""A goal's match in a real browser: the card in an article says the offer and what is left."""

from __future__ import annotations

import pytest

from donate.extensions import db
from tests.browser.embedding import READY, csp_violations, embed
from tests.factories import make_goal, make_site
from tests.match_support import open_match, settled

pytestmark = [pytest.mark.browser, pytest.mark.live]


def _axe_violations(page) -> str | None:  # noqa: ANN001
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return None if results.violations_count == 0 else results.generate_report()


def test_the_card_shows_the_match_in_an_article_and_stays_axe_clean(
    live_server, article_site, pages, artifacts
):
    site = make_site(default_currency="EUR", default_locale="en")
    goal = make_goal(site, slug="year-end", target_minor=1_000_000, milestones_minor=[500_000])
    open_match(goal, 500_000)
    settled(goal, 380_000, "ada@example.org")
    db.session.commit()

    page = pages.open(width=390)
    page.goto(article_site.publish("/year-end", embed(live_server.url, "year-end")))
    page.wait_for_function(READY, arg=1)
    frame = page.query_selector(".donate-widget iframe").content_frame()
    note = frame.inner_text(".match")
    assert "Every gift doubled, up to €5,000, by The Ada Trust, while the match lasts." in note
    assert "€1,200 of the match left" in note
    page.screenshot(path=artifacts("match-card-390.png"), full_page=True)
    assert csp_violations(pages) == []

    direct = pages.open(width=390)
    direct.goto(f"{live_server.url}/w/year-end")
    assert _axe_violations(direct) is None
