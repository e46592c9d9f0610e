"""Report where the installed Babel's CLDR data disagrees with our currency table.

`make cldr-report` prints it before and after a Babel upgrade. It is a report, not a test:
our exponents are frozen in donate/currencies.py and never follow CLDR, and the test suite
holds the parser to whatever our formatter writes. Run it to see what an upgrade changed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import babel
from babel.localedata import locale_identifiers
from babel.numbers import get_currency_precision

from donate import money
from donate.currencies import CURRENCIES, Currency
from donate.widget.languages import SUPPORTED_LANGUAGES


def _set_by_stripe(currency: Currency) -> bool:
    """Whether Stripe's rules, not the frozen CLDR digits, chose this exponent."""
    return currency.stripe_exponent != 2 or currency.step != 1 or currency.code in ("ISK", "UGX")


def exponent_differences() -> list[tuple[str, int, int, str]]:
    """(code, ours, CLDR's, why ours stands) for every currency where the two differ."""
    rows = []
    for code, currency in CURRENCIES.items():
        theirs = get_currency_precision(code)
        if theirs != currency.display_exponent:
            why = "Stripe's rule" if _set_by_stripe(currency) else "frozen: amounts are stored so"
            rows.append((code, currency.display_exponent, theirs, why))
    return rows


def reader_locales() -> list[str]:
    """Every regional form of the languages the widget speaks."""
    return sorted(n for n in locale_identifiers() if n.split("_")[0] in SUPPORTED_LANGUAGES)


def _samples(currency: Currency) -> Iterable[int]:
    """Small, grouped, the largest charge, and the largest target."""
    step = currency.step
    yield from (step, 1_234_567 * step, currency.maximum_minor)
    yield money.MAXIMUM_MINOR - money.MAXIMUM_MINOR % step


def round_trip_failures(locale: str) -> list[tuple[str, int, str, str]]:
    """(code, amount, shown, what went wrong) where parsing our own output does not give it back."""
    failures = []
    for code, currency in CURRENCIES.items():
        for amount in _samples(currency):
            for compact in (False, True):
                shown = money.format_amount(amount, code, locale, compact=compact)
                try:
                    read = money.parse_amount(shown, code, locale)
                except money.AmountError as refusal:
                    failures.append((code, amount, shown, f"refused: {refusal}"))
                    continue
                if read != amount:
                    failures.append((code, amount, shown, f"read as {read}"))
    return failures


def main() -> int:
    """Print both sections; always succeed, because a report is read, not enforced."""
    print(f"Babel {babel.__version__} and its CLDR data, against donate/currencies.py\n")
    differences = exponent_differences()
    print(f"Exponents: {len(differences)} of {len(CURRENCIES)} currencies differ from CLDR")
    print(f"  {'code':<6}{'ours':>5}{'CLDR':>6}  why ours stands")
    for code, ours, theirs, why in differences:
        print(f"  {code:<6}{ours:>5}{theirs:>6}  {why}")
    locales = reader_locales()
    print(f"\nRound trips (format, then parse) in {len(locales)} locales:")
    broken = 0
    for locale in locales:
        failures = round_trip_failures(locale)
        if failures:
            broken += 1
            print(f"  {locale}: {len(failures)} failed, for example:")
            for code, amount, shown, problem in failures[:3]:
                print(f"    {code} {amount}: {shown!r} {problem}")
    print(f"  {len(locales) - broken} locales read back everything we write; {broken} do not.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
