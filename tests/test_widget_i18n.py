"""Text in English, German, French and Spanish; amounts, dates and percentages per locale."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from donate.widget.languages import SUPPORTED_LANGUAGES
from tests.factories import make_goal, make_offline_gift, make_site
from tests.widget_support import fresh_widget_cache, page_text  # noqa: F401

TRANSLATIONS = Path(__file__).resolve().parent.parent / "donate" / "translations"


@pytest.fixture
def goal(db_session):
    goal = make_goal(slug="i18n", milestones_minor=[250_000])
    make_offline_gift(goal, 82_200)
    make_offline_gift(goal, 100_000)
    return goal


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            ["Support Keep the newsroom going", "$1,822 of $5,000", "36%", "2 donors", "Give"],
        ),
        (
            "de",
            [
                "Unterstützen Sie Keep the newsroom going",
                "1.822 $ von 5.000 $",
                "36 %",
                "2 Personen haben gespendet",
                "Betrag wählen",
                "Spenden",
            ],
        ),
        (
            "fr",
            [
                "Soutenez Keep the newsroom going",
                "1 822 $US sur 5 000 $US",
                "36 %",
                "2 personnes ont donné",
                "Choisissez un montant",
                "Donner",
            ],
        ),
        (
            "es",
            [
                "Apoya Keep the newsroom going",
                "1.822 US$ de 5.000 US$",
                "36 %",
                "2 personas han donado",
                "Elige un importe",
                "Donar",
            ],
        ),
    ],
)
def test_widget_text_and_amounts_follow_data_locale(client, goal, locale, expected):
    text = page_text(client.get(f"/w/i18n?locale={locale}").data)
    for fragment in expected:
        assert fragment in text, (locale, fragment, text)


@pytest.mark.parametrize(
    ("header", "language", "fragment"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", "de", "Unterstützen Sie"),
        ("fr-CA,fr;q=0.8", "fr", "Soutenez"),
        ("it-IT,it;q=0.9,es;q=0.5", "es", "Apoya"),
        ("ja-JP", "en", "Support"),
    ],
)
def test_accept_language_picks_a_language_we_have_text_for(
    client, goal, header, language, fragment
):
    body = client.get("/w/i18n", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{language}"' in body
    assert fragment in page_text(body.encode())


def test_negotiated_locale_formats_for_the_readers_region(client, goal):
    text = page_text(client.get("/w/i18n", headers={"Accept-Language": "fr-CA"}).data)
    assert "1 822 $ US sur 5 000 $ US" in text


def test_without_a_header_the_sites_own_locale_is_used(client, db_session):
    goal = make_goal(make_site(default_locale="de", default_currency="EUR"), slug="site-de")
    make_offline_gift(goal, 82_200)
    text = page_text(client.get("/w/site-de").data)
    assert "822 € von 5.000 €" in text


def test_an_unknown_data_locale_falls_back_to_negotiation(client, goal):
    response = client.get("/w/i18n?locale=xx-nowhere", headers={"Accept-Language": "fr"})
    assert response.status_code == 200
    assert "Soutenez" in page_text(response.data)
    assert "Accept-Language" in response.headers["Vary"]


def test_amount_sentences_use_the_locales_notation(client, db_session):
    make_goal(slug="eur-fr", currency="EUR", minimum_minor=500, maximum_minor=100_000)
    body = client.get("/w/eur-fr?locale=fr").get_data(as_text=True)
    assert 'data-m-min="Le don minimum est de 5,00\xa0€."' in body
    assert 'data-m-max="Le don maximum est de 1\u202f000,00\xa0€."' in body
    assert "par exemple 25,50." in body


def test_goal_page_and_images_are_translated_too(client, goal):
    page = page_text(client.get("/g/i18n?locale=de").data)
    assert "Neueste Spenden" in page and "Anonym" in page
    svg = page_text(client.get("/w/i18n/progress.svg?locale=fr").data)
    assert "1 822 $US collectés sur 5 000 $US" in svg


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED_LANGUAGES if lang != "en"])
def test_every_message_is_translated(language):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = read_po(source)
    untranslated = [
        message.id
        for message in catalogue
        if message.id
        and (not message.string or (isinstance(message.string, tuple) and not all(message.string)))
    ]
    assert untranslated == []
    assert not [message.id for message in catalogue if message.id and message.fuzzy]


def _as_table(catalogue) -> dict:
    def plain(value):
        return value if isinstance(value, str) else tuple(value)

    return {plain(m.id): plain(m.string) for m in catalogue if m.id}


@pytest.mark.parametrize("language", [lang for lang in SUPPORTED_LANGUAGES if lang != "en"])
def test_compiled_catalogues_match_their_sources(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    assert (folder / "messages.mo").is_file(), "Run `make catalogues` to compile translations."
    with (folder / "messages.po").open("rb") as source:
        wanted = _as_table(read_po(source))
    with (folder / "messages.mo").open("rb") as compiled:
        built = _as_table(read_mo(compiled))
    assert built == wanted, "The .mo file is stale: run `make catalogues`."


def test_the_frame_learns_the_servers_digits_and_the_sentence_for_others(client, db_session):
    make_goal(slug="digits-de", currency="EUR", minimum_minor=500)
    body = client.get("/w/digits-de?locale=de").get_data(as_text=True)
    assert 'data-digits="0123456789"' in body
    assert (
        'data-m-digits="Bitte geben Sie den Betrag mit den Ziffern 0 bis 9 ein, '
        'zum Beispiel 25,50."'
    ) in body
