"""The donations CSV: streamed row by row, safe to open in a spreadsheet.

Text that a spreadsheet would run as a formula (starting with = + - @ or their fullwidth forms,
tab or carriage return, even after spaces, line breaks or other invisible characters) gets a
leading apostrophe; amounts are written as plain numbers, so -12.50 stays a number. `amount` is
what was charged, fee cover included; `fee_cover` is the part of it the donor added for fees.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from donate import money
from donate.admin import gifts
from donate.admin.donations import Filters, matching
from donate.admin.local_time import local
from donate.extensions import db
from donate.models import Donation, Goal, Site

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Characters a spreadsheet may skip before it sees the formula: separators and controls.
_SKIPPED_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
COLUMNS = tuple(
    "id created settled goal kind method state currency amount fee_cover refunded disputed net "
    "donor_email "
    "public_name anonymous public_message message_hidden source_url article_id note "
    "stripe_payment_intent".split()
)
_BATCH = 500


def _first_visible(text: str) -> str:
    """The first character after leading whitespace and control characters, or ""."""
    for char in text:
        if not (char.isspace() or unicodedata.category(char) in _SKIPPED_CATEGORIES):
            return char
    return ""


def neutralise(cell: Any) -> Any:
    """Defuse a text cell a spreadsheet would evaluate; numbers pass unchanged."""
    if isinstance(cell, str) and (
        cell.startswith(FORMULA_STARTS) or _first_visible(cell) in FORMULA_STARTS
    ):
        return "'" + cell
    return cell


def _amount(amount_minor: int, currency: str) -> Decimal:
    return money.minor_to_decimal(amount_minor, currency)


def _when(moment: datetime | None, zone: str) -> str:
    return local(moment, zone).isoformat(timespec="seconds") if moment else ""


def row_of(donation: Donation, goal_slug: str, zone: str) -> list[Any]:
    """One CSV row: amounts as Decimals in major units, times in the site's time zone."""
    currency = donation.currency
    return [
        donation.id,
        _when(donation.created_at, zone),
        _when(donation.settled_at, zone),
        goal_slug,
        donation.kind.value,
        gifts.method_of(donation),
        donation.state.value,
        currency,
        _amount(donation.amount_minor, currency),
        _amount(donation.fee_cover_minor, currency),
        _amount(donation.refunded_minor, currency),
        _amount(donation.disputed_minor, currency),
        _amount(donation.net_minor, currency),
        donation.donor_email or "",
        donation.public_name or "",
        "yes" if donation.anonymous else "no",
        donation.public_message or "",
        "yes" if donation.message_hidden else "no",
        donation.source_url or "",
        donation.article_id or "",
        donation.note or "",
        donation.stripe_payment_intent_id or "",
    ]


def _line(writer: Any, buffer: io.StringIO, cells: list[Any]) -> str:
    writer.writerow([neutralise(cell) for cell in cells])
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def stream(site: Site, filters: Filters) -> Iterator[str]:
    """The CSV text, a row at a time, with a BOM so spreadsheets read it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff" + _line(writer, buffer, list(COLUMNS))
    query = matching(site, filters).add_columns(Goal.slug).order_by(None).order_by(Donation.id)
    rows = db.session.execute(query.execution_options(yield_per=_BATCH))
    for donation, goal_slug in rows:
        yield _line(writer, buffer, row_of(donation, goal_slug, site.time_zone))


def filename(site: Site, filters: Filters) -> str:
    """A download name that says what is inside."""
    parts = ["donations", f"site-{site.id}"]
    if filters.goal_id is not None:
        slug = db.session.execute(sa.select(Goal.slug).where(Goal.id == filters.goal_id)).scalar()
        parts.append(slug or f"goal-{filters.goal_id}")
    if filters.start:
        parts.append(f"from-{filters.start.isoformat()}")
    if filters.end:
        parts.append(f"to-{filters.end.isoformat()}")
    return "-".join(parts) + ".csv"
