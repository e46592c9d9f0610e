"""The give endpoint as a cross-site frame reaches it: no cookies, our Origin, checked amounts."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from donate.extensions import db
from donate.models import Donation, DonationState, GoalStatus
from donate.payments.checkout import allowed_source_url
from tests.factories import make_goal, make_site, reload

OUR_ORIGIN = "http://127.0.0.1:5000"


@pytest.fixture
def frame_client(app, db_session):
    """A client that keeps no cookies, like a frame on another site with third-party cookies off."""
    return app.test_client(use_cookies=False)


def _give(
    client,
    slug: str,
    *,
    origin: str | None = OUR_ORIGIN,
    json: bool = False,
    ip="10.0.0.1",
    **form: str,
):
    headers = {"Origin": origin} if origin else {}
    if json:
        headers["Accept"] = "application/json"
    return client.post(
        f"/give/{slug}", data=form, headers=headers, environ_base={"REMOTE_ADDR": ip}
    )


def _donations() -> int:
    return db.session.execute(sa.select(sa.func.count(Donation.id))).scalar_one()


def test_a_post_without_our_origin_is_refused(frame_client):
    goal = make_goal()
    for origin in (None, "https://evil.example", "http://localhost:8000"):
        response = _give(frame_client, goal.slug, origin=origin, amount_minor="1000")
        assert response.status_code == 403
        assert "donation form" in response.get_data(as_text=True)
    assert _donations() == 0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"amount": "lots"}, "amount"),
        ({"amount": "0"}, "greater than zero"),
        ({"amount": "-5"}, "."),
        ({"amount": "2"}, "minimum"),
        ({"amount": "20,000"}, "maximum"),
        ({"amount": "10.555"}, "decimals"),
        ({}, "Choose an amount"),
        ({"amount_minor": "ten"}, "Choose one of the amounts"),
        ({"amount_minor": "1000", "frequency": "weekly"}, "one-time or a monthly"),
    ],
)
def test_bad_gifts_get_a_sentence_and_record_nothing(frame_client, form, message):
    goal = make_goal()
    response = _give(frame_client, goal.slug, **form)
    assert response.status_code == 422
    assert message.lower() in response.get_data(as_text=True).lower()
    assert "Traceback" not in response.get_data(as_text=True)
    assert _donations() == 0


@pytest.mark.parametrize("typed", ["10²", "⑩", "١٠"])
def test_digits_other_than_0_to_9_are_refused_with_a_sentence(frame_client, typed):
    # "10²" once opened a $102 Checkout and "⑩" a $10 one.
    goal = make_goal()
    response = _give(frame_client, goal.slug, json=True, amount=typed)
    assert response.status_code == 422
    assert response.get_json()["error"] == (
        "Please type the amount with the digits 0 to 9, for example 25.50."
    )
    assert _donations() == 0


@pytest.mark.parametrize("preset", ["١٠٠٠", "１０００", "10²", "9" * 5000])
def test_a_preset_amount_takes_only_ascii_digits(frame_client, preset):
    goal = make_goal()
    response = _give(frame_client, goal.slug, amount_minor=preset)
    assert response.status_code == 422
    assert "Choose one of the amounts" in response.get_data(as_text=True)
    assert _donations() == 0


def test_a_gift_over_stripes_charge_limit_is_refused_with_a_sentence(frame_client):
    goal = make_goal(make_site(default_currency="USD"), maximum_minor=None)
    response = _give(frame_client, goal.slug, json=True, amount="1,000,000")
    assert response.status_code == 422
    assert response.get_json()["error"] == "The maximum gift is $999,999.99."
    assert _donations() == 0


def test_json_clients_get_json_errors(frame_client):
    goal = make_goal()
    response = _give(frame_client, goal.slug, json=True, amount="2")
    assert response.status_code == 422
    body = response.get_json()
    assert body["field"] == "amount"
    assert "minimum" in body["error"].lower()


def test_monthly_is_refused_when_the_goal_offers_one_time_only(frame_client):
    goal = make_goal(monthly_enabled=False)
    response = _give(frame_client, goal.slug, amount_minor="1000", frequency="monthly")
    assert response.status_code == 422
    assert "one-time gifts only" in response.get_data(as_text=True)


@pytest.mark.parametrize("status", [GoalStatus.PAUSED, GoalStatus.CLOSED])
def test_paused_or_closed_goals_take_no_gifts(frame_client, status):
    goal = make_goal(status=status)
    response = _give(frame_client, goal.slug, amount_minor="1000")
    assert response.status_code == 422
    assert _donations() == 0


def test_amounts_are_read_in_the_widgets_locale(frame_client, app):
    goal = make_goal(maximum_minor=None)
    response = _give(frame_client, goal.slug, json=True, amount="1.000,50", locale="de")
    # Stripe is unreachable in this test app, so the gift stops at Checkout, recorded as failed.
    assert response.status_code == 502
    donation = db.session.execute(sa.select(Donation)).scalar_one()
    assert donation.amount_minor == 100_050


def test_stripe_unreachable_gives_a_try_again_page_and_counts_nothing(frame_client):
    goal = make_goal()
    response = _give(frame_client, goal.slug, amount_minor="2500")
    assert response.status_code == 502
    assert "try again" in response.get_data(as_text=True)
    donation = db.session.execute(sa.select(Donation)).scalar_one()
    assert donation.state is DonationState.FAILED
    assert reload(goal).raised_minor == 0


def test_unknown_goal_is_404(frame_client):
    assert _give(frame_client, "no-such-goal", amount_minor="1000").status_code == 404


def test_a_source_url_outside_the_allowed_origins_is_dropped(frame_client):
    goal = make_goal(make_site(allowed_origins=["https://news.example.org"]))
    _give(frame_client, goal.slug, amount_minor="1000", source_url="https://evil.example/phish")
    _give(
        frame_client,
        goal.slug,
        amount_minor="1000",
        source_url="https://news.example.org/2026/story#comments",
        ip="10.0.0.2",
    )
    sources = db.session.execute(sa.select(Donation.source_url).order_by(Donation.id)).scalars()
    assert list(sources) == [None, "https://news.example.org/2026/story"]


def test_a_look_alike_article_host_is_dropped_and_a_real_one_is_re_serialised(frame_client):
    goal = make_goal(make_site(allowed_origins=["https://strasse.example"]))
    _give(frame_client, goal.slug, amount_minor="1000", source_url="https://straße.example/phish")
    other = make_goal(make_site(allowed_origins=["https://xn--strae-oqa.example"]))
    _give(
        frame_client,
        other.slug,
        amount_minor="1000",
        source_url="https://Straße.example:443/über?q=ä#top",
        ip="10.0.0.2",
    )
    sources = db.session.execute(sa.select(Donation.source_url).order_by(Donation.id)).scalars()
    # What is stored is what Stripe gets as cancel_url and the donor returns to.
    assert list(sources) == [None, "https://xn--strae-oqa.example/%C3%BCber?q=%C3%A4"]


def test_allowed_source_url_rules():
    allowed = ["http://localhost:*", "https://news.example.org"]
    assert (
        allowed_source_url("http://localhost:8123/a?b=1", allowed) == "http://localhost:8123/a?b=1"
    )
    assert allowed_source_url("javascript:alert(1)", allowed) is None
    assert allowed_source_url("https://news.example.org.evil.example/", allowed) is None
    assert allowed_source_url("", allowed) is None


def test_rate_limit_per_ip_and_goal_with_a_readable_429(frame_client, app):
    goal = make_goal()
    other = make_goal()
    codes = [_give(frame_client, goal.slug, amount="lots").status_code for _ in range(10)]
    assert codes == [422] * 10
    blocked = _give(frame_client, goal.slug, amount="lots")
    assert blocked.status_code == 429
    assert "wait a minute" in blocked.get_data(as_text=True)
    # The same donor can still give to another goal, and another donor to this one.
    assert _give(frame_client, other.slug, amount="lots").status_code == 422
    assert _give(frame_client, goal.slug, amount="lots", ip="10.9.9.9").status_code == 422


def test_a_goal_has_a_higher_ceiling_across_donors(frame_client, app, monkeypatch):
    monkeypatch.setitem(app.config, "GIVE_RATE_LIMIT_PER_GOAL", "5 per minute")
    monkeypatch.setitem(app.config, "STRIPE_GIVE_BUDGET_SECONDS", 1.0)
    goal = make_goal()
    # Gifts that reach the payment step count (Stripe is unreachable here); refusals do not.
    codes = [
        _give(frame_client, goal.slug, amount_minor="1000", ip=f"10.{n}.0.1").status_code
        for n in range(6)
    ]
    assert codes == [502] * 5 + [429]


def test_a_refused_form_gift_shows_the_widget_again_with_the_donors_input(frame_client):
    goal = make_goal(make_site(allowed_origins=["http://localhost:*"]))
    response = _give(
        frame_client,
        goal.slug,
        amount="2",
        name="Ada Lovelace",
        message="For the night desk",
        source_url="http://localhost:8123/story",
        locale="de",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="2"' in page
    assert "Ada Lovelace" in page
    assert "For the night desk" in page
    assert "http://localhost:8123/story" in page
    assert "Die kleinste mögliche Spende" in page  # in the widget's language
    assert response.headers["Cache-Control"] == "no-store"
    assert _donations() == 0


def test_odd_input_is_refused_without_a_server_error(frame_client):
    goal = make_goal()
    assert _give(frame_client, goal.slug, amount_minor="²").status_code == 422
    assert (
        _give(frame_client, goal.slug, origin="http://[x", amount_minor="1000").status_code == 403
    )
    response = _give(
        frame_client, goal.slug, amount_minor="1000", source_url="http://[oops", ip="10.3.3.3"
    )
    assert response.status_code == 502  # Stripe is unreachable here; the URL was simply dropped
    assert db.session.execute(sa.select(Donation.source_url)).scalar_one() is None


@pytest.mark.parametrize(
    "source_url",
    [
        "http://evil.example\\@localhost:8123/story",
        "http://user@localhost:8123/story",
        "http://localhost:8123/story\r\nSet-Cookie: x=1",
    ],
)
def test_source_urls_that_browsers_read_differently_are_dropped(source_url):
    assert allowed_source_url(source_url, ["http://localhost:*"]) is None


def test_a_return_without_stripe_never_says_nothing_was_charged(frame_client):
    response = frame_client.get("/give/return?session_id=cs_test_unknown")
    assert response.status_code == 502
    page = response.get_data(as_text=True)
    assert "do not pay a second time" in page
    assert "Nothing was charged" not in page


def test_the_return_page_is_rate_limited(frame_client, app, monkeypatch):
    monkeypatch.setitem(app.config, "GIVE_RETURN_RATE_LIMIT", "2 per minute")
    codes = [frame_client.get("/give/return?session_id=x").status_code for _ in range(3)]
    assert codes == [400, 400, 429]


def test_refusals_speak_the_widgets_language(frame_client):
    paused = make_goal(status=GoalStatus.PAUSED)
    once_only = make_goal(monthly_enabled=False)
    assert "pausiert" in _give(
        frame_client, paused.slug, amount_minor="1000", locale="de"
    ).get_data(as_text=True)
    french = _give(
        frame_client,
        once_only.slug,
        json=True,
        amount_minor="1000",
        frequency="monthly",
        locale="fr",
        ip="10.4.4.4",
    ).get_json()
    assert french["error"] == "Cette collecte n’accepte que des dons ponctuels."


@pytest.mark.parametrize(
    "form",
    [
        {"amount_minor": "9" * 4_400},  # past Python's limit on converting digits to int
        {"amount_minor": "1" * 25},
        {"amount": "9" * 4_400},
        {"amount": "1" * 60},
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_an_absurdly_long_amount_is_a_sentence_not_an_error(frame_client, form, as_json):
    goal = make_goal()
    response = _give(frame_client, goal.slug, json=as_json, **form)
    assert response.status_code == 422
    if as_json:
        assert response.get_json()["error"].endswith(".")
    else:
        assert "Choose one of the amounts or type your own." in response.get_data(as_text=True)
    assert _donations() == 0
