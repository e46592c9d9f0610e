"""The widget's documents: the full widget and its form, bar-only, button, goal states, 422 page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from donate.extensions import db
from donate.models import GoalStatus, utcnow
from donate.widget.reading import find_widget_goal
from donate.widget.views import render_full_widget
from tests.factories import make_goal, make_offline_gift, make_site
from tests.widget_support import fresh_widget_cache, page_text  # noqa: F401


def _get(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.data[:500]
    return response


def test_full_widget_shows_bar_figures_and_a_give_form(client, db_session):
    goal = make_goal(slug="newsroom", milestones_minor=[250_000])
    make_offline_gift(goal, 82_200)
    body = _get(client, "/w/newsroom?locale=en").data.decode()
    text = page_text(body.encode())
    assert "Keep the newsroom going" in text
    assert "$822 raised of $5,000 · 16% · 1 donor" in text
    bar = re.search(r'<div class="bar" role="progressbar"[^>]*>', body).group(0)
    assert 'aria-valuenow="16"' in bar
    assert 'aria-valuemin="0"' in bar and 'aria-valuemax="100"' in bar
    assert 'aria-valuetext="$822 raised of $5,000, 16%"' in bar
    form = re.search(r"<form [^>]*>", body).group(0)
    assert 'method="post"' in form and 'action="/give/newsroom"' in form
    assert 'target="_top"' in form
    assert "csrf" not in body.lower()
    for value in ("1000", "2500", "5000"):
        assert f'type="radio" name="amount_minor" value="{value}"' in body
    assert "$10 $25 $50" in text
    for name in ("amount", "name", "message", "anonymous", "source_url", "article", "locale"):
        assert f'name="{name}"' in body
    assert 'name="frequency" value="monthly"' in body
    assert "Give" in text


def test_form_carries_the_amount_rules_for_the_frames_own_check(client, db_session):
    make_goal(slug="rules", currency="EUR", minimum_minor=500, maximum_minor=100_000)
    body = _get(client, "/w/rules?locale=de").data.decode()
    assert 'data-min="500"' in body and 'data-max="100000"' in body
    assert 'data-exp="2"' in body and 'data-dec=","' in body and 'data-grp="."' in body
    assert 'data-m-min="Die kleinste mögliche Spende beträgt 5,00\xa0€."' in body


def test_one_time_only_goals_post_frequency_once(client, db_session):
    make_goal(slug="once-only", monthly_enabled=False)
    body = _get(client, "/w/once-only").data.decode()
    assert '<input type="hidden" name="frequency" value="once">' in body
    assert 'value="monthly"' not in body


def test_deadline_is_shown_in_the_sites_time_zone(client, db_session):
    site = make_site(time_zone="America/New_York")
    # 03:00 UTC on 1 April is still 31 March in New York.
    make_goal(site, slug="deadline", ends_at=datetime(2099, 4, 1, 3, 0, tzinfo=UTC))
    text = page_text(_get(client, "/w/deadline?locale=en").data)
    assert "Ends on March 31, 2099" in text


def test_bar_variant_has_milestone_labels_and_the_raised_amount(client, db_session):
    goal = make_goal(slug="sidebar", milestones_minor=[250_000])
    make_offline_gift(goal, 82_200)
    body = _get(client, "/w/sidebar?variant=bar&locale=en").data
    text = page_text(body)
    assert "$0 · $2,500 · $5,000" in text
    assert "$822 raised of $5,000 · 16%" in text
    assert b"<form" not in body
    assert b'role="progressbar"' in body


def test_bar_variant_milestones_follow_the_locale(client, db_session):
    make_goal(slug="sidebar-de", milestones_minor=[250_000])
    text = page_text(_get(client, "/w/sidebar-de?variant=bar&locale=de").data)
    assert "0 $ · 2.500 $ · 5.000 $" in text


def test_button_variant_links_to_the_goal_page_at_the_top(client, db_session):
    make_goal(slug="button")
    body = _get(client, "/w/button?variant=button").data.decode()
    assert '<a class="button" href="/g/button" target="_top">Give</a>' in body


def test_unknown_variant_falls_back_to_the_full_widget(client, db_session):
    make_goal(slug="odd-variant")
    assert b"<form" in _get(client, "/w/odd-variant?variant=sparkles").data


@pytest.mark.parametrize(
    ("changes", "sentence", "form_shown"),
    [
        ({"status": GoalStatus.PAUSED}, "Giving to this fundraiser is paused for now.", False),
        ({"status": GoalStatus.CLOSED}, "This fundraiser is closed.", False),
        ({"ends_at": utcnow() - timedelta(days=1)}, "This fundraiser has ended.", False),
        ({"starts_at": utcnow() + timedelta(days=3)}, "Giving opens on", False),
        ({"target_minor": 50_000}, "Goal reached! Gifts are still welcome.", True),
    ],
)
def test_goal_state_shows_in_every_variant(client, db_session, changes, sentence, form_shown):
    goal = make_goal(slug="stateful", milestones_minor=[])
    make_offline_gift(goal, 60_000)
    for name, value in changes.items():
        setattr(goal, name, value)
    db.session.flush()
    for url in (
        "/w/stateful",
        "/w/stateful?variant=bar",
        "/w/stateful?variant=button",
        "/g/stateful",
        "/w/stateful/progress.svg",
    ):
        body = _get(client, url).data
        assert sentence in page_text(body), url
    assert (b"<form" in _get(client, "/w/stateful").data) is form_shown
    assert (b"<form" in _get(client, "/g/stateful").data) is form_shown


def test_drafts_and_unknown_goals_are_not_found(client, db_session):
    make_goal(slug="draft", status=GoalStatus.DRAFT)
    for url in (
        "/w/draft",
        "/w/draft/progress.svg",
        "/w/draft/progress.png",
        "/g/draft",
        "/w/nothing-here",
        "/g/nothing-here",
    ):
        assert client.get(url).status_code == 404, url


def test_thank_you_state_is_shown_when_asked(client, db_session):
    make_goal(slug="thanks")
    assert "Thank you for your gift!" in page_text(_get(client, "/w/thanks?thanks=1").data)
    assert "Thank you for your gift!" not in page_text(_get(client, "/w/thanks").data)
    assert "Thank you for your gift!" in page_text(_get(client, "/g/thanks?thanks=1").data)


def test_widget_document_loads_nothing_from_third_parties(client, db_session):
    make_goal(slug="self-contained", description="Visit https://example.org for more.")
    for url in ("/w/self-contained", "/g/self-contained", "/w/self-contained?variant=bar"):
        body = _get(client, url).data.decode()
        # Only the thank-you's share links point away (links to follow, not loads).
        main = re.sub(r'<ul class="share">.*?</ul>', "", body.split("<main")[1], flags=re.S)
        assert not re.search(r'\b(src|href)="(https?:)?//', main), url
        assert '<link rel="stylesheet"' not in body
        assert re.findall(r"<script[^>]*\bsrc=", body) == []


# The goal page --------------------------------------------------------------------------


def test_goal_page_has_sharing_tags_description_and_the_widget(client, db_session):
    make_goal(slug="share-me", description="Our reporters cover the council.\n\nEvery gift helps.")
    body = _get(client, "/g/share-me?locale=en").data.decode()
    assert '<meta property="og:title" content="Keep the newsroom going">' in body
    assert '<meta property="og:url" content="http://127.0.0.1:5000/g/share-me">' in body
    assert (
        '<meta property="og:image" content="http://127.0.0.1:5000/w/share-me/progress.png">' in body
    )
    assert '<meta name="twitter:card" content="summary_large_image">' in body
    assert '<meta property="og:description" content="Our reporters cover the council.">' in body
    assert "<p>Every gift helps.</p>" in body
    assert 'action="/give/share-me"' in body


def test_donor_wall_shows_consented_names_and_anonymous_gifts(client, db_session):
    goal = make_goal(slug="wall")
    make_offline_gift(
        goal,
        2_500,
        public_name="Marguerite",
        public_message="For the council.",
        donor_email="marguerite@example.org",
    )
    make_offline_gift(
        goal, 1_000, public_name="Hidden Name", anonymous=True, donor_email="secret@example.org"
    )
    hidden = make_offline_gift(goal, 5_000, public_name="Sam", public_message="Rude words")
    hidden.message_hidden = True
    make_offline_gift(goal, 7_500)  # no name given at all
    db.session.flush()
    text = page_text(_get(client, "/g/wall?locale=en").data)
    wall = text.split("Recent supporters", 1)[1]
    assert "Marguerite $25" in wall and "For the council." in wall
    assert "Sam $50" in wall
    assert wall.count("Anonymous") == 2
    assert "Hidden Name" not in text
    assert "Rude words" not in text
    assert "@example.org" not in text
    # Newest first.
    assert wall.index("Anonymous $75") < wall.index("Sam") < wall.index("Marguerite")


def test_donor_wall_is_bounded_and_skips_refunded_gifts(client, db_session):
    goal = make_goal(slug="long-wall")
    for number in range(25):
        make_offline_gift(goal, 1_000 + number, public_name=f"Donor {number:02d}")
    refunded = make_offline_gift(goal, 9_900, public_name="Refunded Rita")
    refunded.refunded_minor = 9_900
    db.session.flush()
    text = page_text(_get(client, "/g/long-wall").data)
    assert "Refunded Rita" not in text
    assert "Donor 24" in text and "Donor 05" in text
    assert "Donor 04" not in text  # only the latest 20


def test_donor_wall_orders_gifts_by_their_own_date(client, db_session):
    goal = make_goal(slug="dated-wall")
    make_offline_gift(
        goal, 1_000, public_name="Early Dec", created_at=datetime(2026, 12, 1, 9, tzinfo=UTC)
    )
    make_offline_gift(
        goal, 2_000, public_name="Later Dec", created_at=datetime(2026, 12, 1, 18, tzinfo=UTC)
    )
    # Entered last, but received in November: it belongs below both.
    make_offline_gift(
        goal, 3_000, public_name="November Cheque", created_at=datetime(2026, 11, 27, tzinfo=UTC)
    )
    db.session.flush()
    wall = page_text(_get(client, "/g/dated-wall?locale=en").data).split("Recent supporters", 1)[1]
    assert wall.index("Later Dec") < wall.index("Early Dec") < wall.index("November Cheque")


def test_goal_page_without_gifts_invites_the_first(client, db_session):
    make_goal(slug="empty-wall")
    text = page_text(_get(client, "/g/empty-wall").data)
    assert "No gifts yet. Yours could be the first." in text


# The give endpoint's 422 page ---------------------------------------------------------------


def test_render_full_widget_keeps_the_donors_input_and_explains_the_error(app, db_session):
    make_goal(slug="refused")
    public_goal = find_widget_goal("refused")
    values = {
        "amount": "2,50",
        "amount_minor": "",
        "frequency": "monthly",
        "name": "Ana <b>",
        "message": "Keep going",
        "anonymous": "",
        "article": "story-42",
        "locale": "en",
    }
    with app.test_request_context("/give/refused", method="POST"):
        response = render_full_widget(
            public_goal,
            locale="en",
            status=422,
            error="The minimum gift is $5.00.",
            values=values,
            source_url="http://localhost:8000/story",
        )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    assert '<p id="amount-error" class="err" role="alert">The minimum gift is $5.00.</p>' in body
    assert 'id="amount" name="amount"' in body and 'value="2,50"' in body
    assert 'aria-invalid="true"' in body
    assert 'name="frequency" value="monthly" checked' in body
    assert 'value="Ana &lt;b&gt;"' in body
    assert ">Keep going</textarea>" in body
    assert '<input type="hidden" name="source_url" value="http://localhost:8000/story">' in body
    assert '<input type="hidden" name="article" value="story-42">' in body


def test_render_full_widget_keeps_a_chosen_preset(app, db_session):
    make_goal(slug="preset-kept")
    with app.test_request_context("/give/preset-kept", method="POST"):
        response = render_full_widget(
            find_widget_goal("preset-kept"),
            locale="de",
            status=422,
            error="Bitte wählen Sie einen Betrag.",
            values={"amount_minor": "2500", "anonymous": "1"},
        )
    body = response.get_data(as_text=True)
    assert 'name="amount_minor" value="2500" checked' in body
    assert 'name="anonymous" value="1" checked' in body
    assert "<details open>" in body
    assert '<html lang="de"' in body


def test_goal_page_says_when_payments_are_simulated(app, client, db_session, monkeypatch):
    from tests.factories import make_goal

    make_goal(slug="night-desk-goal")
    app.extensions.pop("donate.stripe", None)
    page = client.get("/g/night-desk-goal").get_data(as_text=True)
    assert "payments here are simulated" in page
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_live_real")
    app.extensions.pop("donate.stripe", None)
    try:
        live_page = client.get("/g/night-desk-goal?locale=fr").get_data(as_text=True)
        assert "paiements sont simulés" not in live_page
        assert "payments here are simulated" not in live_page
    finally:
        app.extensions.pop("donate.stripe", None)
