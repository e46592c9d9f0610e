"""The receipt and the refund notice, in the donor's language, as plain text and simple HTML.

The HTML has inline styles only: no remote images, fonts, pixels or tracked links, so it reads
the same in every mail client and tells nobody when it was opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from flask import render_template
from flask_babel import force_locale, gettext

from donate import money
from donate.extensions import db
from donate.models import Donation, DonationKind, OutboxMessage, Refund, Site
from donate.outbox.letters import Letter

_LANGUAGES = ("en", "de", "fr", "es")


@dataclass(frozen=True)
class ReceiptFacts:
    """What a receipt states, formatted for the donor's locale."""

    number: int
    date: str
    amount: str
    goal: str
    kind: str
    organisation: str
    address_lines: list[str]
    tax_note_lines: list[str]
    copy: bool


def _locale(donation: Donation, site: Site) -> str:
    """The donor's locale when we have text in its language, else the site's, else English."""
    for name in (donation.locale, site.default_locale):
        try:
            locale = Locale.parse((name or "").replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            continue
        if locale.language in _LANGUAGES:
            return str(locale)
    return "en"


def _kind(donation: Donation) -> str:
    if donation.kind == DonationKind.MONTHLY:
        return gettext("Monthly gift (one instalment)")
    if donation.kind == DonationKind.OFFLINE:
        return gettext("Gift received offline")
    return gettext("One-time gift")


def _facts(donation: Donation, site: Site, locale: str, *, copy: bool) -> ReceiptFacts:
    assert donation.receipt_number is not None
    when = (donation.settled_at or donation.created_at).astimezone(ZoneInfo(site.time_zone))
    return ReceiptFacts(
        number=donation.receipt_number,
        date=format_date(when.date(), format="long", locale=locale),
        # The whole amount the donor gave (a fee they chose to cover included); a match is the
        # matcher's gift, never on this receipt.
        amount=money.format_amount(donation.amount_minor, donation.currency, locale),
        goal=donation.goal.title,
        kind=_kind(donation),
        organisation=site.receipt_organisation or site.name,
        address_lines=[line for line in site.receipt_address.splitlines() if line.strip()],
        tax_note_lines=site.receipt_tax_note.splitlines(),
        copy=copy,
    )


def _gift(message: OutboxMessage) -> Donation | None:
    if message.donation_id is None or not message.recipient:
        return None
    donation = db.session.get(Donation, message.donation_id)
    if donation is None or donation.receipt_number is None or not donation.donor_email:
        return None
    return donation


def receipt_letter(message: OutboxMessage) -> Letter | None:
    """The thank-you with its receipt; None when the gift or its donor's address is gone."""
    donation = _gift(message)
    if donation is None:
        return None
    site = donation.goal.site
    locale = _locale(donation, site)
    with force_locale(locale):
        facts = _facts(donation, site, locale, copy=message.copy)
        subject = gettext(
            "Thank you: receipt %(number)s from %(organisation)s",
            number=facts.number,
            organisation=facts.organisation,
        )
        if message.copy:
            subject = gettext("%(subject)s (copy)", subject=subject)
        context = {"facts": facts, "lang": locale.split("_")[0]}
        text = render_template("mail/receipt.txt", **context)
        html = render_template("mail/receipt.html", **context)
    return Letter(to=donation.donor_email or "", subject=subject, text=text, html=html)


def refund_letter(message: OutboxMessage) -> Letter | None:
    """The notice that money came back to the donor, naming the receipt it changes."""
    donation = _gift(message)
    refund = db.session.get(Refund, message.refund_id) if message.refund_id else None
    if donation is None or refund is None:
        return None
    site = donation.goal.site
    locale = _locale(donation, site)
    with force_locale(locale):
        facts = _facts(donation, site, locale, copy=False)
        refunded = money.format_amount(refund.amount_minor, refund.currency, locale)
        kept = money.format_amount(donation.kept_minor, donation.currency, locale)
        subject = gettext(
            "Refund of your gift, receipt %(number)s, from %(organisation)s",
            number=facts.number,
            organisation=facts.organisation,
        )
        context = {
            "facts": facts,
            "refunded": refunded,
            "kept": kept,
            "lang": locale.split("_")[0],
        }
        text = render_template("mail/refund.txt", **context)
        html = render_template("mail/refund.html", **context)
    return Letter(to=donation.donor_email or "", subject=subject, text=text, html=html)
