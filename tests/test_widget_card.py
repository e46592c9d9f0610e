"""The donation box as rendered: call to action, hidden figures, default preset, impact lines,
button text per language, the gift preview, and the settings that change them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from donate.extensions import db
from donate.models import utcnow
from donate.widget.documents import render_frame
from donate.widget.money_pattern import money_pattern
from donate.widget.reading import find_widget_goal
from donate.widget.settings import WidgetSettings
from donate.widget.views import render_full_widget
from tests.factories import make_goal, make_offline_gift, make_site
from tests.widget_support import fresh_widget_cache, page_text  # noqa: F401


def _body(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def _figures(body: str) -> str:
    found = re.search(r'<p class="figures">(.*?)</p>', body)
    return found.group(1) if found else ""


def _checked(body: str) -> list[str]:
    return re.findall(r'name="amount_minor" value="(\d+)"[^>]* checked', body)


def _button(body: str) -> str:
    return page_text(re.search(r'<button type="submit">.*?</button>', body).group(0).encode())


def _saved(goal, **settings: object) -> None:
    for name, value in settings.items():
        setattr(goal, name, value)
    db.session.flush()


def test_the_call_to_action_is_the_owners_in_each_language_or_ours(client, db_session):
    goal = make_goal(make_site(default_currency="EUR"), slug="cta")
    assert "Support Keep the newsroom going" in page_text(_body(client, "/w/cta").encode())
    _saved(
        goal,
        call_to_action={
            "": "Support our city hall investigation",
            "de": "Unterstützen Sie unsere Rathaus-Recherche",
        },
    )
    for url, heading in [
        ("/w/cta?locale=en", "Support our city hall investigation"),
        ("/w/cta?locale=fr&variant=bar", "Support our city hall investigation"),
        ("/w/cta?locale=de&variant=button", "Unterstützen Sie unsere Rathaus-Recherche"),
    ]:
        body = _body(client, url)
        assert re.search(r'<h1 class="cta">(<a [^>]*>)?' + re.escape(heading), body), url
    page = _body(client, "/g/cta?locale=de")
    assert '<h2 class="cta">Unterstützen Sie unsere Rathaus-Recherche</h2>' in page


def test_raised_large_with_the_target_beside_and_figures_in_one_line(client, db_session):
    goal = make_goal(slug="box", milestones_minor=[250_000], ends_at=utcnow() + timedelta(days=5))
    make_offline_gift(goal, 82_200)
    body = _body(client, "/w/box?locale=en")
    assert '<p class="raised"><strong>$822</strong> <span>of $5,000</span></p>' in body
    assert _figures(body) == "16% · 1 donor · 5 days left"
    assert (
        '<ol class="scale"><li class="s0">$0</li><li class="m1">$2,500</li>'
        '<li class="s1">$5,000</li></ol>'
    ) in body
    assert ".m1{left:50%}" in body  # the label shares its tick's position


def test_a_milestone_label_too_close_to_another_is_left_out_but_its_tick_stays(client, db_session):
    make_goal(slug="crowded", milestones_minor=[25_000, 250_000, 480_000])
    body = _body(client, "/w/crowded?variant=bar&locale=en")
    assert re.findall(r'<li class="(\w+)">', body) == ["s0", "m2", "s1"]
    assert body.count('<span class="tick') == 3


def test_owners_hide_donors_percentage_or_both_while_small(client, db_session):
    goal = make_goal(slug="small")
    make_offline_gift(goal, 20_000)  # 4%
    assert _figures(_body(client, "/w/small?locale=en")) == "4% · 1 donor"
    _saved(goal, show_donor_count=False)
    assert _figures(_body(client, "/w/small?locale=en&variant=bar")) == "4%"
    _saved(goal, show_donor_count=True, show_percent=False)
    assert _figures(_body(client, "/w/small?locale=en&variant=button")) == "1 donor"
    _saved(goal, show_percent=True, hide_figures_below_percent=10)
    body = _body(client, "/w/small?locale=en")
    assert '<p class="figures">' not in body
    assert 'aria-valuetext="$200 raised of $5,000"' in body  # no percentage read out either
    make_offline_gift(goal, 30_000)  # 10%: out of hiding
    assert _figures(_body(client, "/w/small?locale=en")) == "10% · 2 donors"


def test_the_default_preset_is_checked_with_its_impact_line_and_named_on_the_button(
    client, db_session
):
    goal = make_goal(slug="default", currency="USD", milestones_minor=[])
    make_offline_gift(goal, 82_200)
    body = _body(client, "/w/default?locale=en")
    assert _checked(body) == [] and _button(body) == "Give"
    assert '<p id="preview" class="preview" aria-live="polite"></p>' in body
    _saved(
        goal,
        default_preset_minor=2_500,
        preset_impacts={"once:2500": "pays for one records request"},
    )
    body = _body(client, "/w/default?locale=en")
    assert _checked(body) == ["2500"]
    assert 'data-impact="pays for one records request"' in body
    assert '<p id="impact" class="impact">pays for one records request</p>' in body
    assert _button(body) == "Give $25"
    assert (
        '<p id="preview" class="preview" aria-live="polite">Your gift takes us to 16%.</p>' in body
    )
    assert ".gift{left:16%;width:0.94%}" in body


@pytest.mark.parametrize(
    ("locale", "once", "monthly"),
    [
        ("en", "Give €25", "Give €10 monthly"),
        ("de", "25 € spenden", "10 € monatlich spenden"),
        ("fr", "Donner 25 €", "Donner 10 € par mois"),
        ("es", "Donar 25 €", "Donar 10 € al mes"),
    ],
)
def test_the_button_says_what_will_happen_in_every_language(db_session, app, locale, once, monthly):
    goal = make_goal(
        make_site(default_currency="EUR"),
        slug=f"button-{locale}",
        presets_minor=[1_000, 2_500],
    )
    _saved(goal, default_preset_minor=2_500, monthly_default_minor=1_000)
    public_goal = find_widget_goal(goal.slug)
    with app.test_request_context():
        body = render_frame(public_goal, variant="full", locale=locale, colour="#1d4ed8")
        assert _button(body.body.decode()) == once
        kept = render_full_widget(public_goal, locale=locale, values={"frequency": "monthly"})
        assert _button(kept.get_data(as_text=True)) == monthly


def test_monthly_presets_and_default_swap_in_for_monthly_gifts(app, db_session):
    goal = make_goal(slug="monthly", presets_minor=[2_500, 5_000])
    _saved(
        goal,
        default_preset_minor=5_000,
        monthly_presets_minor=[500, 1_000],
        monthly_default_minor=1_000,
        preset_impacts={"monthly:1000": "keeps our archive open"},
    )
    public_goal = find_widget_goal("monthly")
    with app.test_request_context():
        once = render_frame(public_goal, variant="full", locale="en", colour="#1d4ed8")
        body = once.body.decode()
        assert '<div class="presets" data-freq="monthly" hidden>' in body
        assert (
            'name="amount_minor" value="1000" data-impact="keeps our archive open" disabled' in body
        )
        assert _checked(body) == ["5000"]
        assert 'data-do="5000" data-dm="1000"' in body
        kept = render_full_widget(public_goal, locale="en", values={"frequency": "monthly"})
        body = kept.get_data(as_text=True)
    assert '<div class="presets" data-freq="once" hidden>' in body
    assert _checked(body) == ["1000"]
    assert '<p id="impact" class="impact">keeps our archive open</p>' in body
    assert _button(body) == "Give $10 monthly"


def test_a_refused_typed_amount_is_kept_and_no_preset_is_chosen_for_it(app, db_session):
    goal = make_goal(slug="typed")
    _saved(goal, default_preset_minor=2_500)
    with app.test_request_context():
        response = render_full_widget(
            find_widget_goal("typed"), locale="en", values={"amount": "3"}, error="Too small."
        )
    body = response.get_data(as_text=True)
    assert _checked(body) == [] and _button(body) == "Give"
    assert 'value="3"' in body


@pytest.mark.parametrize(
    ("raised", "settings", "sentence"),
    [
        (240_000, {}, "Your gift takes us past the $2,500 milestone, to 51%."),
        (490_000, {}, "Your gift takes us past our goal, to 101%."),
        (0, {}, "Your gift takes us to 3%."),
        (240_000, {"show_percent": False}, "Your gift takes us to $2,550 of $5,000."),
        (1_000, {"hide_figures_below_percent": 5}, "Your gift takes us to $160 of $5,000."),
    ],
)
def test_the_preview_says_where_the_default_gift_takes_the_goal(
    client, db_session, raised, settings, sentence
):
    goal = make_goal(slug="preview", presets_minor=[15_000], milestones_minor=[250_000, 400_000])
    if raised:
        make_offline_gift(goal, raised)
    _saved(goal, default_preset_minor=15_000, **settings)
    body = _body(client, "/w/preview?locale=en")
    assert f'aria-live="polite">{sentence}</p>' in body, re.findall(r"polite\">[^<]*", body)


def test_the_preview_sentences_reach_the_script_with_placeholders(client, db_session):
    goal = make_goal(make_site(default_currency="EUR"), slug="texts", milestones_minor=[100_000])
    make_offline_gift(goal, 12_345)
    body = _body(client, "/w/texts?locale=fr")
    form = re.search(r"<form [^>]*>", body).group(0)
    for attribute in [
        'data-fmt="#\xa0€"',
        'data-fdec=","',
        'data-fgrp="\u202f"',
        'data-fg1="3" data-fg2="3" data-fmin="4"',
        'data-pct="#\xa0%"',
        'data-raised="12345" data-target="500000" data-ms="100000"',
        'data-t-once="Donner {a}"',
        'data-t-monthly="Donner {a} par mois"',
        'data-t-to="Votre don nous amène à {p}."',
        'data-t-past="Votre don nous fait franchir le palier de {m}, à {p}."',
        'data-t-sum="Votre don nous amène à {a} sur 5\u202f000\xa0€."',
    ]:
        assert attribute in form, attribute


@pytest.mark.parametrize(
    ("currency", "locale", "pattern", "decimal", "group", "sizes"),
    [
        ("EUR", "en", "€#", ".", ",", (3, 3)),
        ("EUR", "de", "#\xa0€", ",", ".", (3, 3)),
        ("USD", "fr", "#\xa0$US", ",", "\u202f", (3, 3)),
        ("INR", "en_IN", "₹#", ".", ",", (3, 2)),
        ("JPY", "en", "¥#", "", ",", (3, 3)),
    ],
)
def test_money_patterns_are_read_off_babels_own_amounts(
    app, currency, locale, pattern, decimal, group, sizes
):
    found = money_pattern(currency, locale)
    assert (found.pattern, found.decimal, found.group) == (pattern, decimal, group)
    assert (found.primary, found.secondary) == sizes


def test_unsaved_settings_preview_without_touching_the_goal(app, db_session):
    goal = make_goal(slug="designer")
    unsaved = WidgetSettings(call_to_action={"": "Fund the night desk"}, default_preset_minor=1_000)
    with app.test_request_context():
        body = render_frame(
            find_widget_goal("designer"),
            variant="full",
            locale="en",
            colour="#1d4ed8",
            settings=unsaved,
        ).body.decode()
    assert "Fund the night desk" in body and _checked(body) == ["1000"]
    assert goal.call_to_action == {} and goal.default_preset_minor is None


def test_saved_settings_show_at_once_despite_the_render_cache(client, db_session):
    goal = make_goal(slug="cached")
    db.session.commit()
    before = client.get("/w/cached?locale=en")
    assert "Support Keep the newsroom going" in page_text(before.data)
    WidgetSettings(call_to_action={"": "Fund the night desk"}).apply_to(goal)
    db.session.commit()
    after = client.get("/w/cached?locale=en", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert "Fund the night desk" in page_text(after.data)
    assert after.headers["ETag"] != before.headers["ETag"]
