"""The site's calendar day: days left turn over at the site's midnight, not the server's.

Every cached rendering that can show days left carries the site-local date in its cache key
and ETag, so no reader is served yesterday's count after the site's midnight.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import format_decimal, gettext, ngettext

from donate.models import utcnow

# Tests may put a callable returning an aware datetime here to fix what "now" is.
CLOCK_EXTENSION = "donate.clock"


def current_time() -> datetime:
    """Now, from the app's clock (tests fix it) or the real one."""
    clock: Callable[[], datetime] | None = current_app.extensions.get(CLOCK_EXTENSION)
    return clock() if clock is not None else utcnow()


def site_zone(time_zone: str | None) -> ZoneInfo:
    """The site's zone; UTC when its name is unknown here (the widget must still render)."""
    try:
        return ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def site_date(moment: datetime, time_zone: str | None) -> date:
    """The calendar day a moment falls on at the site."""
    return moment.astimezone(site_zone(time_zone)).date()


def days_left(ends_at: datetime | None, now: datetime, time_zone: str | None) -> int | None:
    """Whole site-local days after today on which gifts are still taken; None when past or open.

    A deadline at the site's midnight closes at the end of the day before it, so that day is
    the last one (0 days left after it, "last day" on it).
    """
    if ends_at is None or ends_at <= now:
        return None
    last_day = site_date(ends_at - timedelta(microseconds=1), time_zone)
    return (last_day - site_date(now, time_zone)).days


def days_left_text(count: int | None) -> str | None:
    """How many days are left, in the current locale ("Last day" on the last one)."""
    if count is None:
        return None
    if count == 0:
        return gettext("Last day to give")
    return ngettext("%(count)s day left", "%(count)s days left", count, count=format_decimal(count))


def dated_etag(etag: str, day: date) -> str:
    """A validator that changes with the site's day, even where the bytes do not."""
    return hashlib.sha256(f"{etag}:{day.isoformat()}".encode()).hexdigest()[:32]
