"""Readers see a goal's match: the sponsor's offer, what is left, and plainly when it is used up."""

from __future__ import annotations

import pytest

from donate.matches import close_match
from tests.factories import make_goal, make_site
from tests.match_support import open_match, settled
from tests.widget_support import fresh_widget_cache, page_text  # noqa: F401

OFFER = "Every gift doubled, up to €5,000, by The Ada Trust, while the match lasts."


@pytest.fixture
def goal(db_session):
    site = make_site(default_currency="EUR", default_locale="en")
    return make_goal(site, slug="matched")


def _text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.data[:300]
    return page_text(response.data)


def test_the_card_and_the_goal_page_say_the_offer_and_what_is_left(client, goal):
    open_match(goal, 500_000)
    settled(goal, 380_000)
    for url in ("/w/matched?locale=en", "/g/matched?locale=en"):
        text = _text(client, url)
        assert f"{OFFER} €1,200 of the match left" in text, url
    # Raised counts the match: 3,800 given and 3,800 matched.
    assert "€7,600 of €5,000" in _text(client, "/w/matched?locale=en")


def test_a_used_up_match_says_so_plainly(client, goal):
    open_match(goal, 100_000)
    settled(goal, 150_000)
    text = _text(client, "/w/matched?locale=en")
    assert "The match of €1,000 by The Ada Trust is used up: gifts are no longer doubled." in text
    assert "of the match left" not in text


def test_opening_and_closing_a_match_changes_a_cached_widget(client, goal):
    assert "doubled" not in _text(client, "/w/matched?locale=en")
    open_match(goal, 500_000)
    assert OFFER in _text(client, "/w/matched?locale=en")
    close_match(goal)
    assert "doubled" not in _text(client, "/w/matched?locale=en")


@pytest.mark.parametrize(
    ("locale", "offer", "left"),
    [
        (
            "de",
            "The Ada Trust verdoppelt jede Spende bis zu insgesamt 5.000 €, "
            "solange der Betrag reicht.",
            "Noch 1.200 € für die Verdopplung übrig",
        ),
        (
            "fr",
            "Chaque don est doublé par The Ada Trust, jusqu’à 5 000 €, "
            "dans la limite de l’enveloppe.",
            "Il reste 1 200 € pour doubler les dons",
        ),
        (
            "es",
            "Cada donación se duplica, hasta 5.000 €, gracias a The Ada Trust, "
            "mientras dure el fondo.",
            "Quedan 1.200 € para duplicar donaciones",
        ),
    ],
)
def test_the_offer_is_translated(client, goal, locale, offer, left):
    open_match(goal, 500_000)
    settled(goal, 380_000)
    text = _text(client, f"/w/matched?locale={locale}")
    assert offer in text
    assert left in text


def test_the_api_reports_matched_money_apart(client, goal):
    open_match(goal, 500_000)
    settled(goal, 2_000)
    data = client.get("/api/v1/goals/matched").get_json()
    assert (data["raised_minor"], data["matched_minor"], data["donation_count"]) == (
        4_000,
        2_000,
        1,
    )
