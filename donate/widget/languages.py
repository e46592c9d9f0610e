"""Which locale a reader sees: the embed's choice, else their browser's, else the site's."""

from __future__ import annotations

from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from flask import request

from donate.goal_view import BadLocale, parse_locale

# Languages with a catalogue in donate/translations; amounts follow any locale Babel knows.
SUPPORTED_LANGUAGES = ("en", "de", "fr", "es")
# A header longer than this is read no further; nobody prefers a tenth language.
_MAX_HEADER_ENTRIES = 10


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
            return str(locale)
    return None


def choose_locale(asked: str | None, site_default: str) -> LocaleChoice:
    """Honour data-locale when Babel knows it; otherwise negotiate, falling back to the site's."""
    if asked and asked.strip():
        try:
            return LocaleChoice(parse_locale(asked, site_default), negotiated=False)
        except BadLocale:
            pass  # an embed with a typo still shows the widget, in the reader's language
    negotiated = _from_accept_language()
    if negotiated:
        return LocaleChoice(negotiated, negotiated=True)
    try:
        fallback = parse_locale(site_default, "en")
    except BadLocale:
        fallback = "en"
    return LocaleChoice(fallback, negotiated=True)
