"""Money: the currency table against Stripe's rules, parsing, formatting and validation."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.localedata import locale_identifiers
from babel.numbers import parse_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from donate import currencies, money
from donate.money import (
    CURRENCIES,
    MAXIMUM_MINOR,
    AmountError,
    Currency,
    UnknownCurrency,
    decimal_to_minor,
    format_amount,
    from_stripe_amount,
    get_currency,
    gift_limits,
    minor_to_decimal,
    parse_amount,
    to_stripe_amount,
    validate_amount,
)
from donate.widget.languages import SUPPORTED_LANGUAGES

NBSP = "\u00a0"
NNBSP = "\u202f"

STRIPE_ZERO_DECIMAL = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF VND VUV XAF XOF XPF".split()
STRIPE_THREE_DECIMAL = "BHD JOD KWD OMR TND".split()
# https://docs.stripe.com/currencies#presentment-currencies, with the three-decimal ones.
STRIPE_PRESENTMENT = """
USD AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BIF BMD BND BOB BRL BSD BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CVE CZK DJF DKK DOP DZD EGP ETB EUR FJD FKP GBP GEL GIP GMD GNF GTQ
GYD HKD HNL HTG HUF IDR ILS INR ISK JMD JPY KES KGS KHR KMF KRW KYD KZT LAK LBP LKR LRD LSL MAD
MDL MGA MKD MMK MNT MOP MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN
PYG QAR RON RSD RUB RWF SAR SBD SCR SEK SGD SHP SLE SOS SRD STD SZL THB TJS TOP TRY TTD TWD TZS
UAH UGX UYU UZS VND VUV WST XAF XCD XOF XPF YER ZAR ZMW BHD JOD KWD OMR TND
""".split()
# Stripe's published minimum charge per settlement currency, in major units.
STRIPE_MINIMUMS = {
    "USD": "0.50", "AED": "2.00", "AUD": "0.50", "BGN": "1.00", "BRL": "0.50", "CAD": "0.50",
    "CHF": "0.50", "CZK": "15.00", "DKK": "2.50", "EUR": "0.50", "GBP": "0.30", "HKD": "4.00",
    "HUF": "175.00", "INR": "0.50", "JPY": "50", "MXN": "10", "MYR": "2", "NOK": "3.00",
    "NZD": "0.50", "PLN": "2.00", "RON": "2.00", "SEK": "3.00", "SGD": "0.50", "THB": "10",
}  # fmt: skip

# The currencies and locales the round trips cover: two-decimal, zero-decimal,
# three-decimal and Stripe's special cases, in the reader locales we ship.
ROUND_TRIP_CURRENCIES = ["EUR", "USD", "JPY", "KWD", "BHD", "ISK", "HUF"]
ROUND_TRIP_LOCALES = ["en", "en_US", "de", "fr", "de_CH", "en_IN", "sv", "nl"]
# Every regional form of the languages the widget speaks (de_CH, en_IN, fr_CH, es_419, ...).
READER_LOCALES = sorted(
    name for name in locale_identifiers() if name.split("_")[0] in SUPPORTED_LANGUAGES
)


def assert_readable_sentence(message: str) -> None:
    """A donor sees this text as is: a capitalised sentence without Python's fingerprints."""
    assert message[:1].isupper(), message
    assert message.endswith("."), message
    for fingerprint in ("Decimal(", "\\x", "\\u", "None", "<", ">", "{", "}", "'"):
        assert fingerprint not in message, message


def amounts_on_step(code: str, *, whole: bool = False) -> st.SearchStrategy[int]:
    """Amounts the currency accepts, optionally only whole major units."""
    currency = CURRENCIES[code]
    unit = 10**currency.display_exponent if whole else currency.step
    return st.integers(min_value=1, max_value=MAXIMUM_MINOR // unit).map(lambda n: n * unit)


# The currency table ----------------------------------------------------------


@pytest.mark.parametrize("code", STRIPE_ZERO_DECIMAL)
def test_stripe_zero_decimal_currency_is_counted_in_whole_units_everywhere(code):
    assert CURRENCIES[code] == Currency(
        code, display_exponent=0, stripe_exponent=0, step=1,
        minimum_minor=CURRENCIES[code].minimum_minor, stripe_maximum=99_999_999,
    )  # fmt: skip


@pytest.mark.parametrize("code", ["ISK", "UGX"])
def test_isk_and_ugx_are_shown_whole_but_sent_to_stripe_in_hundredths(code):
    currency = CURRENCIES[code]
    assert (currency.display_exponent, currency.stripe_exponent, currency.step) == (0, 2, 1)


@pytest.mark.parametrize("code", STRIPE_THREE_DECIMAL)
def test_three_decimal_currency_takes_only_multiples_of_ten_minor_units(code):
    currency = CURRENCIES[code]
    assert (currency.display_exponent, currency.stripe_exponent, currency.step) == (3, 3, 10)


@pytest.mark.parametrize("code", ["HUF", "TWD"])
def test_huf_and_twd_keep_two_decimals_but_take_only_whole_units(code):
    currency = CURRENCIES[code]
    assert (currency.display_exponent, currency.stripe_exponent, currency.step) == (2, 2, 100)


@pytest.mark.parametrize("code", ["USD", "EUR", "GBP", "CHF", "INR", "BRL", "SEK", "ZAR"])
def test_ordinary_currency_has_two_decimals_and_step_one(code):
    currency = CURRENCIES[code]
    assert (currency.display_exponent, currency.stripe_exponent, currency.step) == (2, 2, 1)


@pytest.mark.parametrize("code", ["ALL", "LBP", "RSD"])
def test_currency_stored_in_whole_units_is_still_sent_to_stripe_in_hundredths(code):
    # Stripe reads every currency off its zero- and three-decimal lists as
    # two-decimal, so 100 of these must reach Stripe as 10000.
    currency = CURRENCIES[code]
    assert (currency.display_exponent, currency.stripe_exponent) == (0, 2)
    assert to_stripe_amount(100, code) == 10000


@pytest.mark.parametrize(("code", "exponent"), [("RSD", 0), ("COP", 2), ("IDR", 2), ("HUF", 2)])
def test_exponents_stay_what_stored_amounts_were_written_with(code, exponent):
    # Babel 2.19's CLDR gives RSD two decimals and COP, IDR and HUF none; our stored amounts
    # were written with the exponents below and are read with them whatever Babel says.
    assert CURRENCIES[code].display_exponent == exponent


def test_currency_table_is_committed_data_that_never_asks_babel():
    source = Path(currencies.__file__).read_text()
    assert "babel" not in source.split('"""', 2)[2].lower()
    assert "get_currency_precision" not in Path(money.__file__).read_text()


def test_table_holds_exactly_the_currencies_stripe_charges_in():
    assert set(CURRENCIES) == set(STRIPE_PRESENTMENT)
    assert all(re.fullmatch(r"[A-Z]{3}", key) and c.code == key for key, c in CURRENCIES.items())


@pytest.mark.parametrize(
    ("code", "minimum_minor"),
    [
        ("USD", 50), ("AED", 200), ("AUD", 50), ("BGN", 100), ("BRL", 50), ("CAD", 50),
        ("CHF", 50), ("CZK", 1500), ("DKK", 250), ("EUR", 50), ("GBP", 30), ("HKD", 400),
        ("HUF", 17500), ("INR", 50), ("JPY", 50), ("MXN", 1000), ("MYR", 200), ("NOK", 300),
        ("NZD", 50), ("PLN", 200), ("RON", 200), ("SEK", 300), ("SGD", 50), ("THB", 1000),
    ],
)  # fmt: skip
def test_stripe_published_minimum_is_stored_in_our_minor_units(code, minimum_minor):
    assert CURRENCIES[code].minimum_minor == minimum_minor


def test_only_stripe_published_minimums_are_in_the_table():
    published = {c.code: c.minimum_minor for c in CURRENCIES.values() if c.minimum_minor}
    assert published == {
        code: decimal_to_minor(Decimal(major), code) for code, major in STRIPE_MINIMUMS.items()
    }


@pytest.mark.parametrize("code", ["KRW", "ISK", "KWD", "RSD"])
def test_currency_without_a_published_minimum_never_falls_back_to_one_major_unit(code):
    assert CURRENCIES[code].minimum_minor is None
    with pytest.raises(AmountError) as caught:
        validate_amount(10 ** CURRENCIES[code].display_exponent, code)
    assert caught.value.reason == "no_minimum"
    assert str(caught.value) == (
        f"This fundraiser takes no gifts in {code} until it sets a minimum gift."
    )


def test_currency_without_a_published_minimum_takes_gifts_above_the_goal_minimum():
    assert validate_amount(1000, "KRW", minimum_minor=700) is None
    with pytest.raises(AmountError) as caught:
        validate_amount(1, "KRW", minimum_minor=700, locale="en")
    assert str(caught.value) == "The minimum gift is ₩700."


def test_every_minimum_is_a_positive_multiple_of_its_currency_step():
    minimums = [c for c in CURRENCIES.values() if c.minimum_minor is not None]
    assert [c.code for c in minimums if c.minimum_minor % c.step] == []
    assert all(c.minimum_minor > 0 for c in minimums)


@pytest.mark.parametrize(
    ("code", "stripe_maximum", "maximum_minor"),
    [
        ("USD", 99_999_999, 99_999_999), ("JPY", 99_999_999, 99_999_999),
        ("KWD", 99_999_999, 99_999_990), ("HUF", 99_999_999, 99_999_900),
        ("ISK", 99_999_999, 999_999), ("UGX", 99_999_999, 999_999), ("RSD", 99_999_999, 999_999),
        ("IDR", 999_999_999_999, 999_999_999_999),
    ],
)  # fmt: skip
def test_largest_charge_is_stripes_digit_limit_in_our_units(code, stripe_maximum, maximum_minor):
    currency = CURRENCIES[code]
    assert currency.stripe_maximum == stripe_maximum
    assert currency.maximum_minor == maximum_minor
    assert to_stripe_amount(maximum_minor, code) <= stripe_maximum
    assert to_stripe_amount(maximum_minor + currency.step, code) > stripe_maximum


def test_every_charge_limit_is_on_step_and_within_stripes_digits():
    for currency in CURRENCIES.values():
        assert currency.maximum_minor % currency.step == 0
        assert to_stripe_amount(currency.maximum_minor, currency.code) <= currency.stripe_maximum


def test_every_amount_on_step_converts_exactly_to_stripe_units():
    for currency in CURRENCIES.values():
        assert from_stripe_amount(to_stripe_amount(currency.step, currency.code), currency.code) \
            == currency.step  # fmt: skip


def test_table_holds_no_retired_or_non_money_codes():
    assert not {"DEM", "FRF", "HRK", "XAU", "XTS", "XXX", "BOV"} & set(CURRENCIES)


def test_currency_codes_are_found_in_any_letter_case():
    assert get_currency("eur") is CURRENCIES["EUR"]
    assert get_currency(" Jpy ") is CURRENCIES["JPY"]


@pytest.mark.parametrize("code", ["XYZ", "", "euro", "DEM", "VES"])
def test_unknown_currency_is_refused_with_a_sentence(code):
    with pytest.raises(UnknownCurrency) as caught:
        get_currency(code)
    assert isinstance(caught.value, ValueError)
    assert_readable_sentence(str(caught.value))


# The Stripe boundary ---------------------------------------------------------


def test_isk_500_goes_to_stripe_as_50000_and_comes_back_as_500():
    assert to_stripe_amount(500, "ISK") == 50000
    assert from_stripe_amount(50000, "ISK") == 500


@pytest.mark.parametrize(
    ("code", "ours", "stripes"),
    [
        ("USD", 1234, 1234), ("JPY", 500, 500), ("KWD", 1230, 1230), ("HUF", 17500, 17500),
        ("UGX", 1000, 100000), ("EUR", 50, 50),
    ],
)  # fmt: skip
def test_stripe_amount_matches_stripe_units(code, ours, stripes):
    assert to_stripe_amount(ours, code) == stripes
    assert from_stripe_amount(stripes, code) == ours


def test_stripe_amount_that_is_not_whole_in_our_units_is_refused():
    with pytest.raises(ValueError):
        from_stripe_amount(50050, "ISK")
    with pytest.raises(ValueError):
        from_stripe_amount(199, "UGX")


def test_no_currency_shows_more_decimals_than_stripe_counts():
    # So every amount on step reaches Stripe exactly, never rounded.
    assert all(c.display_exponent <= c.stripe_exponent for c in CURRENCIES.values())


@pytest.mark.parametrize("bad", [5.0, True, Decimal("5")])
def test_stripe_conversion_takes_only_integers(bad):
    with pytest.raises(TypeError):
        to_stripe_amount(bad, "EUR")
    with pytest.raises(TypeError):
        from_stripe_amount(bad, "EUR")


@settings(deadline=None)
@given(code=st.sampled_from(sorted(CURRENCIES)), multiple=st.integers(0, 10**10))
def test_any_amount_on_step_survives_the_trip_to_stripe_and_back(code, multiple):
    amount = multiple * CURRENCIES[code].step
    assert from_stripe_amount(to_stripe_amount(amount, code), code) == amount


# Decimal views ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code", "expected"),
    [(82200, "USD", "822.00"), (500, "JPY", "500"), (1230, "KWD", "1.230"), (-5, "EUR", "-0.05")],
)
def test_minor_units_become_an_exact_decimal_with_the_currency_decimals(amount, code, expected):
    value = minor_to_decimal(amount, code)
    assert isinstance(value, Decimal)
    assert str(value) == expected


def test_huge_amounts_become_decimals_without_rounding():
    assert minor_to_decimal(10**40 + 1, "EUR") == Decimal("1" + "0" * 37 + "0.01")


def test_major_unit_decimal_becomes_minor_units_or_is_refused_when_it_would_round():
    assert decimal_to_minor(Decimal("25.5"), "EUR") == 2550
    assert decimal_to_minor(Decimal("1.23"), "KWD") == 1230
    with pytest.raises(AmountError) as caught:
        decimal_to_minor(Decimal("0.001"), "EUR")
    assert str(caught.value) == "EUR amounts have at most 2 decimals."
    with pytest.raises(TypeError):
        decimal_to_minor(25.5, "EUR")


# Formatting ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code", "locale", "expected"),
    [
        (82200, "USD", "en_US", "$822.00"),
        (82200, "USD", "en-US", "$822.00"),
        (82200, "USD", "fr", f"822,00{NBSP}$US"),
        (82200, "EUR", "de", f"822,00{NBSP}€"),
        (100050, "EUR", "fr", f"1{NNBSP}000,50{NBSP}€"),
        (100050, "EUR", "en", "€1,000.50"),
        (82200, "JPY", "en", "¥82,200"),
        (500, "ISK", "en", "ISK500"),
        (822000, "KWD", "en", "KWD822.000"),
        (822000, "KWD", "de", f"822,000{NBSP}KWD"),
        (100000, "HUF", "en", "HUF1,000.00"),
    ],
)
def test_amount_is_written_the_way_the_reader_locale_writes_money(amount, code, locale, expected):
    assert format_amount(amount, code, locale) == expected


@pytest.mark.parametrize(
    ("amount", "code", "locale", "expected"),
    [
        (82200, "USD", "fr", f"822{NBSP}$US"),
        (82200, "USD", "en", "$822"),
        (82200, "EUR", "de", f"822{NBSP}€"),
        (100000, "HUF", "en", "HUF1,000"),
        (82250, "USD", "en", "$822.50"),
        (500, "JPY", "en", "¥500"),
    ],
)
def test_compact_format_drops_decimals_only_when_the_amount_is_whole(
    amount, code, locale, expected
):
    assert format_amount(amount, code, locale, compact=True) == expected


def test_formatting_hands_babel_a_decimal_never_a_float(monkeypatch):
    seen = []
    real = money.format_currency

    def spy(number, *args, **kwargs):
        seen.append(type(number))
        return real(number, *args, **kwargs)

    monkeypatch.setattr(money, "format_currency", spy)
    format_amount(82250, "USD", "en")
    format_amount(82200, "USD", "en", compact=True)
    assert seen == [Decimal, Decimal]


def test_formatting_refuses_a_float_amount():
    with pytest.raises(TypeError):
        format_amount(822.0, "USD", "en")


# Parsing: what people type ---------------------------------------------------


def test_german_reader_typing_25_5_gets_25_euros_50():
    assert parse_amount("25.5", "EUR", "de") == 2550


def test_babel_lenient_parser_reads_german_25_5_as_255_and_ours_does_not():
    assert parse_decimal("25.5", locale="de") == Decimal("255")
    assert parse_amount("25.5", "EUR", "de") != 25500
    assert parse_amount("25.5", "EUR", "de") == 2550


@pytest.mark.parametrize(
    ("text", "code", "locale", "expected"),
    [
        # German notation.
        ("1.000,50", "EUR", "de", 100050),
        ("25,5", "EUR", "de", 2550),
        ("25,50 €", "EUR", "de", 2550),
        ("1.000", "EUR", "de", 100000),
        ("1.000.000", "EUR", "de", 100000000),
        ("25,-", "EUR", "de", 2500),
        (",50", "EUR", "de", 50),
        # English notation.
        ("1,000.50", "USD", "en", 100050),
        ("25.5", "USD", "en", 2550),
        ("1,000", "USD", "en", 100000),
        ("1,000,000", "USD", "en", 100000000),
        # A lone comma before anything but three digits can only be decimal.
        ("25,50", "EUR", "en", 2550),
        # Two different separators leave no doubt which one is decimal.
        ("1.000,50", "EUR", "en", 100050),
        ("1,000.50", "EUR", "de", 100050),
        # French notation with each kind of space.
        ("1 000,50", "EUR", "fr", 100050),
        (f"1{NBSP}000,50", "EUR", "fr", 100050),
        (f"1{NNBSP}000,50", "EUR", "fr", 100050),
        ("25 $US", "USD", "fr", 2500),
        ("25 $", "USD", "fr", 2500),
        # Currency marks and whitespace around the number.
        ("25", "EUR", "en", 2500),
        ("€25", "EUR", "en", 2500),
        ("25 €", "EUR", "en", 2500),
        ("$25", "USD", "en", 2500),
        ("US$25", "USD", "en", 2500),
        ("25 EUR", "EUR", "en", 2500),
        ("EUR 25", "EUR", "en", 2500),
        ("25 eur", "EUR", "en", 2500),
        ("  25\t", "EUR", "en", 2500),
        ("$25", "CAD", "en", 2500),
        ("25 kr", "SEK", "en", 2500),
        ("２５", "EUR", "en", 2500),
        # Zero-, three-decimal and special currencies.
        ("¥1,000", "JPY", "en", 1000),
        ("1.000 ¥", "JPY", "de", 1000),
        ("1.23", "KWD", "en", 1230),
        ("1,230", "KWD", "de", 1230),
        ("1,000", "KWD", "en", 1000000),
        ("500", "ISK", "en", 500),
        ("5.000 kr.", "ISK", "de", 5000),
        ("1 000", "HUF", "fr", 100000),
        ("1000,00 Ft", "HUF", "hu", 100000),
        # Lakh grouping and Swiss apostrophes.
        ("1,00,000", "INR", "en_IN", 10000000),
        ("CHF 1’000.50", "CHF", "de_CH", 100050),
        ("1'000.50", "CHF", "de_CH", 100050),
    ],
)
def test_amount_typed_in_the_reader_notation_is_read_as_meant(text, code, locale, expected):
    assert parse_amount(text, code, locale) == expected


REFUSALS = [
    ("", "EUR", "en", "empty", "Please enter an amount."),
    ("   ", "EUR", "en", "empty", "Please enter an amount."),
    ("-5", "EUR", "en", "not_positive", "Please enter an amount greater than zero."),
    ("−5 €", "EUR", "de", "not_positive", "Please enter an amount greater than zero."),
    ("-€25", "EUR", "en", "not_positive", "Please enter an amount greater than zero."),
    ("0", "EUR", "en", "not_positive", "Please enter an amount greater than zero."),
    ("0,00", "EUR", "de", "not_positive", "Please enter an amount greater than zero."),
    ("ten", "EUR", "en", "not_a_number", "Please enter the amount in digits, for example 25.50."),
    ("zehn", "EUR", "de", "not_a_number", "Please enter the amount in digits, for example 25,50."),
    ("1e3", "EUR", "en", "not_a_number", None),
    ("NaN", "EUR", "en", "not_a_number", None),
    ("25 dollars", "USD", "en", "not_a_number", None),
    ("25.", "EUR", "en", "not_a_number", None),
    ("€", "EUR", "en", "not_a_number", None),
    ("1,000", "EUR", "de", "too_many_decimals", "EUR amounts have at most 2 decimals."),
    ("1.234", "USD", "en", "too_many_decimals", "USD amounts have at most 2 decimals."),
    ("25.00", "JPY", "en", "too_many_decimals",
     "JPY amounts must be whole numbers, without decimals."),
    ("1,5", "ISK", "de", "too_many_decimals",
     "ISK amounts must be whole numbers, without decimals."),
    ("1.2345", "KWD", "en", "too_many_decimals", "KWD amounts have at most 3 decimals."),
    ("1,00,0", "EUR", "en", "misplaced_group",
     "Please check the amount: its thousands separators are misplaced."),
    ("1 00", "EUR", "fr", "misplaced_group", None),
    ("1.000 000", "EUR", "de", "misplaced_group", None),
    ("1.2.3", "EUR", "en", "several_decimal_separators",
     "Please use only one decimal separator in the amount."),
    ("1,2,3", "EUR", "de", "several_decimal_separators", None),
    ("1,000.000.5", "EUR", "en", "several_decimal_separators", None),
    ("1.000", "EUR", "fr", "ambiguous_separator",
     "Please type thousands without a separator (for example 1000,50) "
     "and decimals with a decimal comma."),
    ("99999999999999", "EUR", "en", "too_large",
     "Please enter an amount of at most €10,000,000,000."),
    ("1" * 60, "JPY", "de", "too_large", None),
    ("1000,50", "HUF", "hu", "off_step", "HUF amounts must be whole numbers, without decimals."),
    ("1.005", "KWD", "en", "off_step", "KWD amounts must be a multiple of 0.01."),
    ("1,005", "BHD", "de", "off_step", "BHD amounts must be a multiple of 0,01."),
    ("£25", "EUR", "en", "other_currency",
     "This gift is in EUR, not GBP; please enter the amount in EUR."),
    ("$25", "EUR", "en", "other_currency", None),
    ("25 USD", "EUR", "de", "other_currency", None),
]  # fmt: skip


@pytest.mark.parametrize(("text", "code", "locale", "reason", "message"), REFUSALS)
def test_misread_or_impossible_amount_is_refused_with_a_readable_sentence(
    text, code, locale, reason, message
):
    with pytest.raises(AmountError) as caught:
        parse_amount(text, code, locale)
    assert caught.value.reason == reason
    if message is not None:
        assert str(caught.value) == message
    assert_readable_sentence(str(caught.value))


@pytest.mark.parametrize(
    ("text", "code", "locale", "expected"),
    [
        # Babel 2.19 writes a billion so in de_CH; an apostrophe or a space cannot be a decimal
        # separator, so a long leading run before it reads the same on any CLDR version.
        ("1000000'000", "CHF", "de_CH", 100_000_000_000),
        ("CHF 1000000'000.50", "CHF", "de_CH", 100_000_000_050),
        ("1000000 000,50", "EUR", "fr", 100_000_000_050),
    ],
)
def test_long_leading_group_before_an_apostrophe_or_space_is_read_as_thousands(
    text, code, locale, expected
):
    assert parse_amount(text, code, locale) == expected


@pytest.mark.parametrize("text", ["10²", "⑩", "١٠", "۱۰", "Ⅻ", "1½", "१०"])
def test_only_ascii_digits_are_read_as_digits(text):
    with pytest.raises(AmountError) as caught:
        parse_amount(text, "USD", "en")
    assert caught.value.reason == "other_digits"
    assert str(caught.value) == "Please type the amount with the digits 0 to 9, for example 25.50."


def test_fullwidth_digits_and_signs_are_folded_to_ascii_on_purpose():
    assert parse_amount("２５", "EUR", "en") == 2500
    assert parse_amount("＄１，０００．５０", "USD", "en") == 100050


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1000", 1000), (" 25 ", 25), ("١٠", None), ("１０", None), ("10²", None), ("", None),
     ("-5", None), ("9" * 18, 10**18 - 1), ("9" * 19, None), ("9" * 5000, None)],
)  # fmt: skip
def test_a_forms_plain_count_takes_ascii_digits_only(text, expected):
    assert money.whole_number(text) == expected


def test_parse_refuses_what_is_not_text():
    with pytest.raises(TypeError):
        parse_amount(25, "EUR")


@settings(deadline=None, max_examples=300)
@given(
    code=st.sampled_from(sorted(CURRENCIES)),
    locale=st.sampled_from(READER_LOCALES),
    data=st.data(),
)
def test_formatted_amount_reads_back_as_the_same_amount(code, locale, data):
    amount = data.draw(amounts_on_step(code))
    assert parse_amount(format_amount(amount, code, locale), code, locale) == amount


@settings(deadline=None, max_examples=300)
@given(
    code=st.sampled_from(sorted(CURRENCIES)),
    locale=st.sampled_from(READER_LOCALES),
    data=st.data(),
)
def test_compact_whole_amount_reads_back_as_the_same_amount(code, locale, data):
    amount = data.draw(amounts_on_step(code, whole=True))
    shown = format_amount(amount, code, locale, compact=True)
    assert parse_amount(shown, code, locale) == amount


@settings(deadline=None)
@given(
    whole=st.integers(0, 10**9),
    cents=st.integers(0, 99),
    grouped=st.booleans(),
    notation=st.sampled_from([("de", ".", ","), ("en", ",", "."), ("fr", " ", ",")]),
)
def test_euros_typed_by_hand_with_two_decimals_read_back_exactly(whole, cents, grouped, notation):
    locale, group, decimal = notation
    digits = f"{whole:,}".replace(",", group) if grouped else str(whole)
    text = f"{digits}{decimal}{cents:02d}"
    amount = whole * 100 + cents
    if amount == 0:
        with pytest.raises(AmountError):
            parse_amount(text, "EUR", locale)
    else:
        assert parse_amount(text, "EUR", locale) == amount


TYPED_ALPHABET = st.sampled_from(list("0123456789.,' -−€$£¥kKrREUSD") + [NBSP, NNBSP, "٫"])


@settings(deadline=None)
@given(
    text=st.one_of(st.text(TYPED_ALPHABET, max_size=16), st.text(max_size=16)),
    code=st.sampled_from(ROUND_TRIP_CURRENCIES),
    locale=st.sampled_from(ROUND_TRIP_LOCALES),
)
def test_anything_typed_is_either_a_valid_amount_or_a_readable_refusal(text, code, locale):
    try:
        amount = parse_amount(text, code, locale)
    except AmountError as refusal:
        assert_readable_sentence(str(refusal))
    else:
        assert 0 < amount <= MAXIMUM_MINOR
        assert amount % CURRENCIES[code].step == 0


# Validation ------------------------------------------------------------------


def test_amount_at_stripe_minimum_and_on_step_is_accepted():
    assert validate_amount(50, "EUR") is None
    assert validate_amount(17500, "HUF") is None
    assert validate_amount(50, "JPY") is None


def test_amount_below_stripe_minimum_names_the_minimum_in_the_reader_locale():
    with pytest.raises(AmountError) as caught:
        validate_amount(10, "EUR", locale="de")
    assert str(caught.value) == f"The minimum gift is 0,50{NBSP}€."
    assert caught.value.reason == "below_minimum"


def test_goal_minimum_above_stripe_minimum_wins():
    assert validate_amount(100, "EUR", minimum_minor=100, locale="de") is None
    with pytest.raises(AmountError) as caught:
        validate_amount(50, "EUR", minimum_minor=100, locale="de")
    assert str(caught.value) == f"The minimum gift is 1,00{NBSP}€."


def test_goal_minimum_below_stripe_minimum_cannot_lower_it():
    with pytest.raises(AmountError) as caught:
        validate_amount(20, "GBP", minimum_minor=1, locale="en")
    assert str(caught.value) == "The minimum gift is £0.30."


def test_amount_above_goal_maximum_names_the_maximum():
    with pytest.raises(AmountError) as caught:
        validate_amount(100001, "USD", maximum_minor=100000, locale="en")
    assert str(caught.value) == "The maximum gift is $1,000.00."
    assert caught.value.reason == "above_maximum"


def test_absurd_amount_is_refused_even_without_a_goal_maximum():
    with pytest.raises(AmountError) as caught:
        validate_amount(MAXIMUM_MINOR + 1, "EUR")
    assert caught.value.reason == "above_maximum"


def test_gift_over_stripes_charge_limit_is_refused_with_a_sentence():
    assert validate_amount(99_999_999, "USD") is None
    with pytest.raises(AmountError) as caught:
        validate_amount(100_000_000, "USD", locale="en")
    assert str(caught.value) == "The maximum gift is $999,999.99."
    assert caught.value.reason == "above_maximum"


def test_isk_charge_limit_counts_stripes_hundredths():
    assert validate_amount(999_999, "ISK", minimum_minor=100) is None
    with pytest.raises(AmountError) as caught:
        validate_amount(1_000_000, "ISK", minimum_minor=100, locale="en")
    assert caught.value.reason == "above_maximum"


def test_goal_maximum_above_stripes_limit_cannot_raise_it():
    assert gift_limits("EUR", maximum_minor=10**11) == (50, 99_999_999)
    assert gift_limits("EUR", minimum_minor=100, maximum_minor=5000) == (100, 5000)
    assert gift_limits("KRW") == (None, 99_999_999)


@pytest.mark.parametrize(
    ("amount", "code", "reason", "message"),
    [
        (0, "EUR", "not_positive", "Please enter an amount greater than zero."),
        (-500, "EUR", "not_positive", "Please enter an amount greater than zero."),
        (17550, "HUF", "off_step", "HUF amounts must be whole numbers, without decimals."),
        (1005, "KWD", "off_step", "KWD amounts must be a multiple of 0.01."),
    ],
)
def test_impossible_amount_is_refused_before_it_reaches_stripe(amount, code, reason, message):
    with pytest.raises(AmountError) as caught:
        validate_amount(amount, code)
    assert caught.value.reason == reason
    assert str(caught.value) == message


def test_validation_takes_only_integer_minor_units():
    with pytest.raises(TypeError):
        validate_amount(25.0, "EUR")


@settings(deadline=None)
@given(code=st.sampled_from(sorted(CURRENCIES)), data=st.data())
def test_every_parsed_amount_within_the_gift_limits_passes_validation(code, data):
    currency = CURRENCIES[code]
    goal_minimum = currency.minimum_minor or currency.step * 100
    minimum, maximum = gift_limits(code, minimum_minor=goal_minimum)
    amount = (
        data.draw(st.integers(minimum // currency.step, maximum // currency.step)) * currency.step
    )
    text = format_amount(amount, code, "de")
    assert (
        validate_amount(
            parse_amount(text, code, "de"), code, minimum_minor=goal_minimum, locale="de"
        )
        is None
    )
