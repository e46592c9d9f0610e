"""The currency table: every currency Stripe charges in, as committed data, never read from Babel.

Our stored amounts are integer counts of each currency's *display* minor unit, so that exponent
is part of the meaning of every amount in the database and must never change with a library
upgrade. The exponents below are frozen at what the code ran with before this table existed
(Babel's CLDR data up to Babel 2.18, overridden by Stripe's rules): RSD stays 0 and COP and IDR
stay 2 although Babel 2.19 says otherwise. `make cldr-report` lists where the installed Babel
disagrees; Babel only formats.

Sources (https://docs.stripe.com/currencies): the presentment currency list; zero-decimal
currencies; three-decimal currencies (BHD JOD KWD OMR TND), whose API amounts must end in 0;
ISK and UGX, whole units sent in hundredths; HUF and TWD, whole units only; the minimum charge
per settlement currency; and the amount limit of eight digits in Stripe's units, twelve for IDR.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Currency:
    """One currency's units: how people see it, how Stripe counts it, what it accepts."""

    code: str
    # Digits after the decimal separator as people are shown them; our minor units. Frozen.
    display_exponent: int
    # Digits Stripe's API counts in; only the Stripe boundary converts between the two.
    stripe_exponent: int
    # An amount in our minor units must be a multiple of this.
    step: int
    # Stripe's published minimum charge in our minor units, or None where Stripe publishes none
    # (its minimum is then the account's settlement minimum after conversion): such a currency
    # takes gifts only on goals that state their own minimum.
    minimum_minor: int | None
    # The largest amount one charge may carry, in Stripe's units (its API's digit limit).
    stripe_maximum: int

    @property
    def maximum_minor(self) -> int:
        """Stripe's largest charge in our minor units, on the currency's step."""
        shift = self.stripe_exponent - self.display_exponent
        largest = (
            self.stripe_maximum // 10**shift if shift >= 0 else self.stripe_maximum * 10**-shift
        )
        return largest - largest % self.step


# code, display exponent, Stripe exponent, step (our units), Stripe minimum (our units, "-" where
# Stripe publishes none), digits Stripe accepts in one charge amount.
_TABLE = """
AED  2  2    1    200   8
AFN  0  2    1      -   8
ALL  0  2    1      -   8
AMD  2  2    1      -   8
ANG  2  2    1      -   8
AOA  2  2    1      -   8
ARS  2  2    1      -   8
AUD  2  2    1     50   8
AWG  2  2    1      -   8
AZN  2  2    1      -   8
BAM  2  2    1      -   8
BBD  2  2    1      -   8
BDT  2  2    1      -   8
BGN  2  2    1    100   8
BHD  3  3   10      -   8
BIF  0  0    1      -   8
BMD  2  2    1      -   8
BND  2  2    1      -   8
BOB  2  2    1      -   8
BRL  2  2    1     50   8
BSD  2  2    1      -   8
BWP  2  2    1      -   8
BYN  2  2    1      -   8
BZD  2  2    1      -   8
CAD  2  2    1     50   8
CDF  2  2    1      -   8
CHF  2  2    1     50   8
CLP  0  0    1      -   8
CNY  2  2    1      -   8
COP  2  2    1      -   8
CRC  2  2    1      -   8
CVE  2  2    1      -   8
CZK  2  2    1   1500   8
DJF  0  0    1      -   8
DKK  2  2    1    250   8
DOP  2  2    1      -   8
DZD  2  2    1      -   8
EGP  2  2    1      -   8
ETB  2  2    1      -   8
EUR  2  2    1     50   8
FJD  2  2    1      -   8
FKP  2  2    1      -   8
GBP  2  2    1     30   8
GEL  2  2    1      -   8
GIP  2  2    1      -   8
GMD  2  2    1      -   8
GNF  0  0    1      -   8
GTQ  2  2    1      -   8
GYD  2  2    1      -   8
HKD  2  2    1    400   8
HNL  2  2    1      -   8
HTG  2  2    1      -   8
HUF  2  2  100  17500   8
IDR  2  2    1      -  12
ILS  2  2    1      -   8
INR  2  2    1     50   8
ISK  0  2    1      -   8
JMD  2  2    1      -   8
JOD  3  3   10      -   8
JPY  0  0    1     50   8
KES  2  2    1      -   8
KGS  2  2    1      -   8
KHR  2  2    1      -   8
KMF  0  0    1      -   8
KRW  0  0    1      -   8
KWD  3  3   10      -   8
KYD  2  2    1      -   8
KZT  2  2    1      -   8
LAK  0  2    1      -   8
LBP  0  2    1      -   8
LKR  2  2    1      -   8
LRD  2  2    1      -   8
LSL  2  2    1      -   8
MAD  2  2    1      -   8
MDL  2  2    1      -   8
MGA  0  0    1      -   8
MKD  2  2    1      -   8
MMK  0  2    1      -   8
MNT  2  2    1      -   8
MOP  2  2    1      -   8
MUR  2  2    1      -   8
MVR  2  2    1      -   8
MWK  2  2    1      -   8
MXN  2  2    1   1000   8
MYR  2  2    1    200   8
MZN  2  2    1      -   8
NAD  2  2    1      -   8
NGN  2  2    1      -   8
NIO  2  2    1      -   8
NOK  2  2    1    300   8
NPR  2  2    1      -   8
NZD  2  2    1     50   8
OMR  3  3   10      -   8
PAB  2  2    1      -   8
PEN  2  2    1      -   8
PGK  2  2    1      -   8
PHP  2  2    1      -   8
PKR  2  2    1      -   8
PLN  2  2    1    200   8
PYG  0  0    1      -   8
QAR  2  2    1      -   8
RON  2  2    1    200   8
RSD  0  2    1      -   8
RUB  2  2    1      -   8
RWF  0  0    1      -   8
SAR  2  2    1      -   8
SBD  2  2    1      -   8
SCR  2  2    1      -   8
SEK  2  2    1    300   8
SGD  2  2    1     50   8
SHP  2  2    1      -   8
SLE  2  2    1      -   8
SOS  0  2    1      -   8
SRD  2  2    1      -   8
STD  0  2    1      -   8
SZL  2  2    1      -   8
THB  2  2    1   1000   8
TJS  2  2    1      -   8
TND  3  3   10      -   8
TOP  2  2    1      -   8
TRY  2  2    1      -   8
TTD  2  2    1      -   8
TWD  2  2  100      -   8
TZS  2  2    1      -   8
UAH  2  2    1      -   8
UGX  0  2    1      -   8
USD  2  2    1     50   8
UYU  2  2    1      -   8
UZS  2  2    1      -   8
VND  0  0    1      -   8
VUV  0  0    1      -   8
WST  2  2    1      -   8
XAF  0  0    1      -   8
XCD  2  2    1      -   8
XOF  0  0    1      -   8
XPF  0  0    1      -   8
YER  0  2    1      -   8
ZAR  2  2    1      -   8
ZMW  2  2    1      -   8
"""


def _row(line: str) -> Currency:
    code, display, stripe, step, minimum, digits = line.split()
    return Currency(
        code=code,
        display_exponent=int(display),
        stripe_exponent=int(stripe),
        step=int(step),
        minimum_minor=None if minimum == "-" else int(minimum),
        stripe_maximum=10 ** int(digits) - 1,
    )


CURRENCIES: dict[str, Currency] = {row.code: row for row in map(_row, _TABLE.strip().splitlines())}
