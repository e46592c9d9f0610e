"""Money: currencies and their minor units, parsing what people type, formatting with Babel."""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
)

from donate.currencies import CURRENCIES, Currency

__all__ = [
    "CURRENCIES",
    "MAXIMUM_MINOR",
    "AmountError",
    "Currency",
    "UnknownCurrency",
    "decimal_to_minor",
    "format_amount",
    "format_progress",
    "from_stripe_amount",
    "get_currency",
    "gift_limits",
    "minor_to_decimal",
    "parse_amount",
    "percent_raised",
    "to_stripe_amount",
    "validate_amount",
    "whole_number",
]


class UnknownCurrency(ValueError):
    """A currency code we have no table row for."""


class AmountError(ValueError):
    """An amount we refuse; str() is a sentence a donor can read.

    `reason` is a stable keyword (e.g. "too_many_decimals") so callers can
    translate or test without matching the English sentence.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


# Beyond any real gift or target; guards totals and typed amounts against typos like a pasted
# account number. One charge is further capped by Stripe's limit (Currency.maximum_minor).
MAXIMUM_MINOR = 10**12


def _scale_exact(value: Decimal, exponent: int) -> int:
    """Scale a Decimal to a count of 10**-exponent units, refusing to round."""
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than {exponent} decimals")
    return int(scaled)


def get_currency(code: str) -> Currency:
    """Look a currency up by its ISO code, in any letter case, or say which code is unknown."""
    if not isinstance(code, str) or not code.strip():
        raise UnknownCurrency("No currency code was given.")
    key = code.strip().upper()
    try:
        return CURRENCIES[key]
    except KeyError:
        shown = key if re.fullmatch(r"[A-Z]{1,8}", key) else "That code"
        raise UnknownCurrency(f"{shown} is not a currency code we support.") from None


def _require_int(amount: int, name: str) -> None:
    """Keep floats (and bools) out of money arithmetic at the door."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise TypeError(f"{name} must be an int count of minor units, not {type(amount).__name__}")


# Stripe boundary -------------------------------------------------------------


def to_stripe_amount(amount_minor: int, code: str) -> int:
    """Convert our minor units to the integer Stripe's API expects for this currency."""
    _require_int(amount_minor, "amount_minor")
    currency = get_currency(code)
    shift = currency.stripe_exponent - currency.display_exponent
    if shift >= 0:
        return amount_minor * 10**shift
    factor = 10**-shift
    if amount_minor % factor:
        raise ValueError(
            f"{amount_minor} minor units of {currency.code} cannot be expressed in Stripe's units"
        )
    return amount_minor // factor


def from_stripe_amount(stripe_amount: int, code: str) -> int:
    """Convert Stripe's integer back to our minor units, refusing anything that would round."""
    _require_int(stripe_amount, "stripe_amount")
    currency = get_currency(code)
    shift = currency.stripe_exponent - currency.display_exponent
    if shift <= 0:
        return stripe_amount * 10**-shift
    factor = 10**shift
    if stripe_amount % factor:
        raise ValueError(
            f"Stripe amount {stripe_amount} {currency.code} is not whole in our minor units"
        )
    return stripe_amount // factor


# Decimal views -----------------------------------------------------------------


def minor_to_decimal(amount_minor: int, code: str) -> Decimal:
    """Give the exact major-unit value, with the currency's decimals, for display and Babel."""
    _require_int(amount_minor, "amount_minor")
    exponent = get_currency(code).display_exponent
    sign, digits, _ = Decimal(amount_minor).as_tuple()
    # Built from the tuple so no context precision can round a large amount.
    return Decimal((sign, digits, -exponent))


def decimal_to_minor(value: Decimal, code: str) -> int:
    """Turn a major-unit Decimal (from config or a form) into minor units, never rounding."""
    if not isinstance(value, Decimal):
        raise TypeError(f"value must be a Decimal, not {type(value).__name__}")
    currency = get_currency(code)
    if not value.is_finite():
        raise AmountError(_not_a_number_message(currency, "."), "not_a_number")
    try:
        return _scale_exact(value, currency.display_exponent)
    except ValueError:
        raise AmountError(_too_many_decimals_message(currency), "too_many_decimals") from None


# Locale data -------------------------------------------------------------------


# Only ASCII 0-9 are digits in an amount. Full-width forms, as East Asian keyboards type them
# ("２５", "＄２５"), are folded to ASCII on purpose; any other character that Unicode counts as a
# number ("²", "⑩", Arabic-Indic "١٠", "Ⅻ") is refused, never read as digits. The frame's script
# gets the same rule from `DIGIT_RULE` so it refuses what we refuse.
ASCII_DIGITS = "0123456789"
FULLWIDTH_DIGITS = "".join(chr(0xFF10 + value) for value in range(10))


def _fold_fullwidth(char: str) -> str:
    """Map the Halfwidth and Fullwidth Forms block to plain characters; leave the rest alone."""
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII: digits, "，", "．", "＄", letters
        return chr(code - 0xFEE0)
    if 0xFFE0 <= code <= 0xFFE6:  # full-width "￠", "￡", "￥", "￦" and friends
        return unicodedata.normalize("NFKC", char)
    return char


def is_other_digit(char: str) -> bool:
    """A character Unicode counts as a number that is not one of ASCII 0-9."""
    return char not in ASCII_DIGITS and unicodedata.category(char) in ("Nd", "No", "Nl")


def whole_number(text: str, *, max_digits: int = 18) -> int | None:
    """Read a form's plain count (an amount in minor units, an id): ASCII 0-9 only, else None.

    int() alone would take "١٠" as 10 and fail with an error on thousands of digits.
    """
    text = text.strip()
    if not text or len(text) > max_digits or any(c not in ASCII_DIGITS for c in text):
        return None
    return int(text)


def _normalise(text: str) -> str:
    """Fold the many ways a keyboard or a copy-paste spells the same characters."""
    out = []
    for char in map(_fold_fullwidth, text):
        # Zero-width and direction marks, as Babel puts around numbers in RTL locales.
        if unicodedata.category(char) == "Cf":
            continue
        # No-break, narrow no-break and ideographic spaces, tabs: all one space.
        out.append(" " if char.isspace() else char)
    return re.sub(r" +", " ", "".join(out)).strip()


@lru_cache(maxsize=256)
def _locale(locale: str) -> Locale:
    """Accept both en_US and the en-US spelling of browsers and HTTP headers."""
    return Locale.parse(locale.replace("-", "_"))


def _as_locale(locale: str | Locale) -> Locale:
    """Let callers pass a Babel Locale or an identifier."""
    return locale if isinstance(locale, Locale) else _locale(locale)


@dataclass(frozen=True)
class _Symbols:
    """What a locale writes between digits, normalised like typed text."""

    decimal: str
    group: str
    # (primary, secondary) group sizes: (3, 3) mostly, (3, 2) for Indian lakhs.
    grouping: tuple[int, int]
    locale: Locale


@lru_cache(maxsize=256)
def _symbols(locale: Locale) -> _Symbols:
    """Read the decimal and group symbols Babel knows for the locale."""
    grouping = locale.currency_formats["standard"].grouping
    return _Symbols(
        decimal=_normalise(get_decimal_symbol(locale)) or ".",
        group=_normalise(get_group_symbol(locale)) or " ",
        grouping=(grouping[0], grouping[1]),
        locale=locale,
    )


_SEPARATOR_CHARS = frozenset(".,' ’")
_DASHES = "-\u2212\u2013\u2014"  # hyphen-minus, minus sign, en dash, em dash


def _usable_mark(mark: str | None) -> str | None:
    """Drop marks that are empty or could be mistaken for part of a number."""
    if not mark:
        return None
    mark = _normalise(mark)
    if not mark or all(c in ASCII_DIGITS or c in _SEPARATOR_CHARS or c in _DASHES for c in mark):
        return None
    return mark


def _bare_sign(symbol: str) -> str:
    """Strip Latin letters from a symbol, so "US$", "$US" and "CA$" also accept a plain "$"."""
    return re.sub(r"[A-Za-z]", "", symbol)


@lru_cache(maxsize=512)
def _home_symbols(code: str) -> frozenset[str]:
    """Symbols the currency's own countries write, so "25 kr" works for SEK on an English page."""
    territories = [
        territory
        for territory, history in get_global("territory_currencies").items()
        if any(c == code and end is None and tender for c, _s, end, tender in history)
    ]
    languages = get_global("territory_languages")
    symbols = set()
    for territory in territories:
        for language, info in languages.get(territory, {}).items():
            if info.get("official_status") not in ("official", "de_facto_official"):
                continue
            try:
                home = Locale.parse(f"{language}_{territory}")
            except (UnknownLocaleError, ValueError):
                continue
            symbol = home.currency_symbols.get(code)
            if symbol:
                symbols.add(symbol)
    return frozenset(symbols)


@lru_cache(maxsize=1024)
def _own_marks(code: str, locale: Locale) -> tuple[str, ...]:
    """Every way of writing this currency that we strip before reading digits, longest first."""
    symbols = {code}
    for where in (locale, _locale("en"), _locale("root")):
        symbol = where.currency_symbols.get(code)
        if symbol:
            symbols.add(symbol)
    symbols |= _home_symbols(code)
    symbols |= {_bare_sign(s) for s in symbols}
    marks = {m for m in map(_usable_mark, symbols) if m}
    return tuple(sorted(marks, key=lambda m: (-len(m), m)))


@lru_cache(maxsize=64)
def _foreign_marks(locale: Locale) -> tuple[tuple[str, str], ...]:
    """(mark, code) for every currency's code and symbols, longest first, to name a mix-up."""
    found: dict[str, str] = {}
    # The reader's own locale first: there "$" is most likely their dollar.
    for where in (locale, _locale("en"), _locale("root")):
        for code in CURRENCIES:
            for candidate in (where.currency_symbols.get(code), code):
                mark = _usable_mark(candidate)
                if mark and mark.casefold() not in found:
                    found[mark.casefold()] = code
    return tuple(sorted(found.items(), key=lambda item: (-len(item[0]), item[0])))


# Messages ------------------------------------------------------------------------


def _decimal_name(symbol: str) -> str:
    """Name the decimal separator in words; a bare comma inside a sentence reads badly."""
    return {".": "decimal point", ",": "decimal comma"}.get(symbol, f"“{symbol}” for decimals")


def _example(currency: Currency, decimal: str) -> str:
    """A sample amount in the reader's notation with the currency's decimals."""
    if currency.display_exponent == 0:
        return "25"
    return "25" + decimal + "50".ljust(currency.display_exponent, "0")


def _not_a_number_message(currency: Currency, decimal: str) -> str:
    """Show a correct example rather than only saying the input was wrong."""
    return f"Please enter the amount in digits, for example {_example(currency, decimal)}."


def _other_digits_message(currency: Currency, decimal: str) -> str:
    """Say which digits we read, so "10²" or "١٠" is retyped rather than guessed at."""
    return (
        f"Please type the amount with the digits 0 to 9, for example {_example(currency, decimal)}."
    )


def _whole_message(currency: Currency) -> str:
    """One wording for "no decimals" whether the cause is the exponent or the step."""
    return f"{currency.code} amounts must be whole numbers, without decimals."


def _too_many_decimals_message(currency: Currency) -> str:
    """Tell the donor how many decimals the currency has, so they can fix the input."""
    places = currency.display_exponent
    if places == 0:
        return _whole_message(currency)
    return f"{currency.code} amounts have at most {places} decimal{'s' if places > 1 else ''}."


def _step_message(currency: Currency, locale: Locale) -> str:
    """State the step in major units; minor units mean nothing to a donor."""
    if currency.step == 10**currency.display_exponent:
        return _whole_message(currency)
    step = format_decimal(minor_to_decimal(currency.step, currency.code), locale=locale)
    return f"{currency.code} amounts must be a multiple of {step}."


_NOT_POSITIVE = "Please enter an amount greater than zero."


# Parsing -------------------------------------------------------------------------


def _strip_marks(text: str, currency: Currency, locale: Locale) -> tuple[str, bool]:
    """Remove this currency's code or symbol and a minus sign from either end."""
    marks = _own_marks(currency.code, locale)
    negative = False
    changed = True
    while changed and text:
        changed = False
        text = text.strip()
        if text and text[0] in _DASHES:
            negative, text, changed = True, text[1:], True
            continue
        for mark in marks:
            size = len(mark)
            if text[:size].casefold() == mark.casefold():
                text, changed = text[size:], True
                break
            if text[-size:].casefold() == mark.casefold():
                text, changed = text[:-size], True
                break
    return text.strip(), negative


def _refuse_leftover(text: str, currency: Currency, locale: Locale, symbols: _Symbols) -> None:
    """Explain why what is left after the currency marks is not a number."""
    number_chars = _SEPARATOR_CHARS | {symbols.decimal, symbols.group}

    def is_number(rest: str) -> bool:
        rest = rest.strip()
        return bool(rest) and all(c in ASCII_DIGITS or c in number_chars for c in rest)

    for mark, code in _foreign_marks(locale):
        size = len(mark)
        if code == currency.code:
            continue
        # Only a whole mark next to the number counts: "dollars" is not "ARS".
        if (text[:size].casefold() == mark and is_number(text[size:])) or (
            text[-size:].casefold() == mark and is_number(text[:-size])
        ):
            raise AmountError(
                f"This gift is in {currency.code}, not {code}; "
                f"please enter the amount in {currency.code}.",
                "other_currency",
            )
    raise AmountError(_not_a_number_message(currency, symbols.decimal), "not_a_number")


@lru_cache(maxsize=2048)
def _written_layout(digit_count: int, locale: Locale) -> tuple[int, ...]:
    """The digit runs our own formatter writes for a whole number of this many digits."""
    shown = format_currency(
        Decimal("1" * digit_count),
        "EUR",
        format=_currency_pattern(locale, 0),
        locale=locale,
        currency_digits=False,
    )
    return tuple(len(run) for run in re.findall("[0-9]+", _normalise(shown)))


def _valid_groups(groups: list[str], symbols: _Symbols) -> bool:
    """Whether digit runs between group separators sit where a thousands separator goes."""
    first, rest = groups[0], groups[1:]
    # "0.500" is not half a thousand: a group never follows a leading zero.
    if not rest or not first or first.startswith("0"):
        return not rest
    # Whatever our formatter writes must read back, whichever CLDR the installed Babel carries
    # (Babel 2.19 writes 1000000'000 in de_CH).
    if tuple(map(len, groups)) == _written_layout(len("".join(groups)), symbols.locale):
        return True
    # Thousands everywhere, plus the locale's own habit such as lakhs (1,00,000).
    for primary, secondary in {(3, 3), symbols.grouping}:
        if (
            1 <= len(first) <= secondary
            and len(rest[-1]) == primary
            and all(len(g) == secondary for g in rest[:-1])
        ):
            return True
    return False


def _loose_groups(groups: list[str], symbols: _Symbols) -> bool:
    """Groups after an apostrophe or space, which can mean nothing else: any leading run."""
    first, rest = groups[0], groups[1:]
    return bool(first) and not first.startswith("0") and _valid_groups(["1", *rest], symbols)


def _split_number(text: str, currency: Currency, symbols: _Symbols) -> tuple[str, str]:
    """Split digits and separators into whole and fractional digits, refusing any guesswork."""
    not_a_number = AmountError(_not_a_number_message(currency, symbols.decimal), "not_a_number")
    misplaced = AmountError(
        "Please check the amount: its thousands separators are misplaced.", "misplaced_group"
    )
    several_decimals = AmountError(
        "Please use only one decimal separator in the amount.", "several_decimal_separators"
    )
    group_only = {" ", "'", "’"} | ({symbols.group} - {".", ","})
    decimal_capable = {".", ",", symbols.decimal}

    tokens = re.split(r"([^0-9])", text)
    digits, seps = tokens[0::2], tokens[1::2]
    # Two separators in a row, a trailing separator, or no digit at all.
    if not all(digits[1:]) or not "".join(digits):
        raise not_a_number
    if not seps:
        return digits[0], ""

    kinds = set(seps)
    last = seps[-1]
    if len(kinds) == 1:
        if last in group_only:
            if _valid_groups(digits, symbols) or _loose_groups(digits, symbols):
                return "".join(digits), ""
            raise misplaced
        if len(seps) > 1:
            # "1.000.000" can only be thousands, in any locale.
            if _valid_groups(digits, symbols):
                return "".join(digits), ""
            raise several_decimals if last == symbols.decimal else misplaced
        whole, fraction = digits
        if not _valid_groups(digits, symbols):
            # "25.5" in German or "25,50" in English: a thousands separator
            # is always followed by exactly three digits, so this is a decimal.
            return whole, fraction
        if last == symbols.group:
            return whole + fraction, ""
        if last == symbols.decimal:
            return whole, fraction
        # A dot or comma before three digits in a locale that uses it for
        # neither: one thousand and one are both fair readings.
        example = "1000" if currency.display_exponent == 0 else "1000" + symbols.decimal + "50"
        raise AmountError(
            f"Please type thousands without a separator (for example {example}) "
            f"and decimals with a {_decimal_name(symbols.decimal)}.",
            "ambiguous_separator",
        )

    if len(kinds) > 2 or last not in decimal_capable:
        raise misplaced
    if seps.count(last) > 1:
        raise several_decimals
    # Two different separators: the last one is the decimal, whatever the
    # locale, because nobody writes "1.000,50" meaning anything else.
    groups = digits[:-1]
    loose = seps[0] in group_only and _loose_groups(groups, symbols)
    if not (_valid_groups(groups, symbols) or loose) or not digits[0]:
        raise misplaced
    return "".join(digits[:-1]), digits[-1]


# "25,-" and "25.–" are how prices in whole units are written in much of Europe.
_WHOLE_DASH = re.compile(r"(.*[0-9])[.,][-\u2013\u2014]{1,2}")


def parse_amount(text: str, currency: str, locale: str | Locale = "en") -> int:
    """Read what a donor typed, in their locale's notation, as minor units, or say what is wrong."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    cur = get_currency(currency)
    loc = _as_locale(locale)
    symbols = _symbols(loc)
    not_a_number = AmountError(_not_a_number_message(cur, symbols.decimal), "not_a_number")

    normalised = _normalise(text)
    if not normalised:
        raise AmountError("Please enter an amount.", "empty")
    if any(map(is_other_digit, normalised)):
        raise AmountError(_other_digits_message(cur, symbols.decimal), "other_digits")
    if len(normalised) > 64:
        raise not_a_number

    number, negative = _strip_marks(normalised, cur, loc)
    whole_dash = _WHOLE_DASH.fullmatch(number)
    if whole_dash:
        number = whole_dash.group(1)
    number_chars = _SEPARATOR_CHARS | {symbols.decimal, symbols.group}
    if any(not (c in ASCII_DIGITS or c in number_chars) for c in number):
        _refuse_leftover(number, cur, loc, symbols)

    whole, fraction = _split_number(number, cur, symbols)
    if whole_dash and fraction:
        raise not_a_number
    if len(fraction) > cur.display_exponent:
        raise AmountError(_too_many_decimals_message(cur), "too_many_decimals")
    whole = whole.lstrip("0")
    if len(whole) > len(str(MAXIMUM_MINOR)):
        # Skip int() on absurdly long input; it is over the limit either way.
        amount = MAXIMUM_MINOR + 1
    else:
        amount = int(whole or "0") * 10**cur.display_exponent
        amount += int(fraction.ljust(cur.display_exponent, "0") or "0")

    if negative or amount == 0:
        raise AmountError(_NOT_POSITIVE, "not_positive")
    if amount > MAXIMUM_MINOR:
        limit = format_amount(MAXIMUM_MINOR, cur.code, loc, compact=True)
        raise AmountError(f"Please enter an amount of at most {limit}.", "too_large")
    if amount % cur.step:
        raise AmountError(_step_message(cur, loc), "off_step")
    return amount


# Formatting and validation ---------------------------------------------------------


@lru_cache(maxsize=512)
def _currency_pattern(locale: Locale, decimals: int) -> str:
    """The locale's currency pattern with our number of decimals, not CLDR's."""
    pattern = locale.currency_formats["standard"].pattern
    fraction = "." + "0" * decimals if decimals else ""
    return re.sub(r"\.[0#]+", fraction, pattern)


def format_amount(
    amount_minor: int, currency: str, locale: str | Locale = "en", *, compact: bool = False
) -> str:
    """Show an amount the way the reader's locale writes money; compact drops ",00" for bars."""
    cur = get_currency(currency)
    loc = _as_locale(locale)
    value = minor_to_decimal(amount_minor, cur.code)
    decimals = cur.display_exponent
    if compact and amount_minor % 10**decimals == 0:
        decimals = 0
        value = Decimal(amount_minor // 10**cur.display_exponent)
    return format_currency(
        value,
        cur.code,
        format=_currency_pattern(loc, decimals),
        locale=loc,
        currency_digits=False,
    )


def percent_raised(raised_minor: int, target_minor: int) -> int:
    """Whole percent of the target raised, floored, so 99.6 % never reads as reached."""
    if target_minor <= 0 or raised_minor <= 0:
        return 0
    return (raised_minor * 100) // target_minor


def format_progress(raised_minor: int, target_minor: int, locale: str | Locale = "en") -> str:
    """The share of the target raised as the locale writes percentages, the one place it is.

    Floored like `percent_raised`; a gift too small for one percent reads "<1%" (in the
    locale's form), never "0%", which is kept for nothing given.
    """
    loc = _as_locale(locale)
    percent = percent_raised(raised_minor, target_minor)
    if percent == 0 and raised_minor > 0 and target_minor > 0:
        return "<" + format_percent(Decimal("0.01"), locale=loc)
    return format_percent(Decimal(percent) / 100, locale=loc)


def gift_limits(
    currency: str, *, minimum_minor: int | None = None, maximum_minor: int | None = None
) -> tuple[int | None, int]:
    """The smallest and largest gift one charge may carry: the goal's limits within Stripe's.

    The smallest is None when neither Stripe publishes a minimum for the currency nor the goal
    states one: such a goal takes no gifts, rather than guessing at one major unit.
    """
    cur = get_currency(currency)
    floors = [m for m in (cur.minimum_minor, minimum_minor) if m]
    smallest = max(floors) if floors else None
    largest = cur.maximum_minor if maximum_minor is None else min(maximum_minor, cur.maximum_minor)
    return smallest, largest


def validate_amount(
    amount_minor: int,
    currency: str,
    *,
    minimum_minor: int | None = None,
    maximum_minor: int | None = None,
    locale: str | Locale = "en",
) -> None:
    """Refuse an amount Stripe or the goal would not take, with a sentence the donor can read."""
    _require_int(amount_minor, "amount_minor")
    cur = get_currency(currency)
    loc = _as_locale(locale)
    if amount_minor <= 0:
        raise AmountError(_NOT_POSITIVE, "not_positive")
    if amount_minor % cur.step:
        raise AmountError(_step_message(cur, loc), "off_step")
    # A goal may ask for more than Stripe's minimum, never for less.
    minimum, maximum = gift_limits(
        cur.code, minimum_minor=minimum_minor, maximum_minor=maximum_minor
    )
    if minimum is None:
        raise AmountError(
            f"This fundraiser takes no gifts in {cur.code} until it sets a minimum gift.",
            "no_minimum",
        )
    if amount_minor < minimum:
        shown = format_amount(minimum, cur.code, loc)
        raise AmountError(f"The minimum gift is {shown}.", "below_minimum")
    # Stripe's charge limit is in its own units (ISK and UGX in hundredths): maximum_minor has
    # converted it, so 999,999 ISK is the most one gift can be.
    if amount_minor > maximum:
        shown = format_amount(maximum, cur.code, loc)
        raise AmountError(f"The maximum gift is {shown}.", "above_maximum")
