"""Which locale a reader sees: the embed's choice, else their browser's, else the site's.

Every choice is one of SERVED_LOCALES, a named set, since the locale is part of the key of
cached renderings.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from flask import request

from donate.goal_view import BadLocale, parse_locale

# Languages with a catalogue in donate/translations.
SUPPORTED_LANGUAGES = ("en", "de", "fr", "es")
# A header longer than this is read no further; nobody prefers a tenth language.
_MAX_HEADER_ENTRIES = 10
# The regional forms we serve: those whose numbers or amounts read differently from the
# language's own ("12,34,567" in en-IN, "1’234’567" in de-CH, "US$" in en-GB). Any other region
# of our languages is served its language's form, and other languages are not served at all, so
# `locale` cannot multiply cached renderings beyond this set.
REGIONAL_FORMS = frozenset(
    {
        "en_GB", "en_IE", "en_CA", "en_AU", "en_NZ", "en_IN", "en_ZA", "en_CH", "en_DE", "en_NL",
        "de_AT", "de_CH", "de_LI",
        "fr_CA", "fr_CH", "fr_LU",
        "es_419", "es_MX", "es_US", "es_AR", "es_CL", "es_CO",
    }
)  # fmt: skip
SERVED_LOCALES = frozenset(SUPPORTED_LANGUAGES) | REGIONAL_FORMS


@dataclass(frozen=True)
class LocaleChoice:
    """A Babel locale identifier, and whether Accept-Language decided it (so caches must Vary)."""

    locale: str
    negotiated: bool


def _from_accept_language() -> str | None:
    """The reader's most preferred locale whose language we have text for."""
    for position, (tag, _quality) in enumerate(request.accept_languages):
        if position >= _MAX_HEADER_ENTRIES:
            break
        if tag == "*":
            continue
        try:
            locale = Locale.parse(tag.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            continue
        if locale.language in SUPPORTED_LANGUAGES:
            return served_form(locale)
    return None


def served_form(locale: Locale) -> str:
    """The locale we serve for one of our languages: its regional form if we have it."""
    regional = f"{locale.language}_{locale.territory}" if locale.territory else ""
    return regional if regional in REGIONAL_FORMS else locale.language


def _served(name: str) -> str | None:
    """A locale name as we serve it, or None when its language is not one of ours."""
    try:
        locale = Locale.parse(parse_locale(name, "en"))
    except (BadLocale, ValueError, UnknownLocaleError):
        return None
    return served_form(locale) if locale.language in SUPPORTED_LANGUAGES else None


def choose_locale(asked: str | None, site_default: str) -> LocaleChoice:
    """Honour data-locale when Babel knows it; otherwise negotiate, falling back to the site's."""
    if asked and asked.strip():
        served = _served(asked.strip()[:40])
        if served:
            return LocaleChoice(served, negotiated=False)
        # A typo or a language we have no text for: the reader's language, as if none was set.
    negotiated = _from_accept_language()
    if negotiated:
        return LocaleChoice(negotiated, negotiated=True)
    return LocaleChoice(_served(site_default) or "en", negotiated=True)
