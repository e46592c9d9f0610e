"""The site's wall clock: days and times as its people see them, stored times staying UTC."""

from __future__ import annotations

from datetime import MINYEAR, UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# Where the calendar ends: a range reaching past either end is cut there instead of failing.
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def local(moment: datetime, zone: str) -> datetime:
    """A stored (UTC) time in the site's time zone."""
    return moment.astimezone(ZoneInfo(zone))


def local_day(moment: datetime, zone: str) -> date:
    """The calendar day a moment falls on in the site's time zone."""
    return local(moment, zone).date()


def day_start(day: date, zone: str) -> datetime:
    """Midnight at the start of a local day, in UTC (DST days included), cut at the calendar's ends.

    1 January of year 1 in Berlin is still year 0 in UTC, which Python cannot hold.
    """
    try:
        return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    except OverflowError:
        return _EARLIEST if day.year == MINYEAR else _LATEST


def day_end(day: date, zone: str) -> datetime:
    """Midnight at the end of a local day: the exclusive upper bound of a date range."""
    try:
        following = day + timedelta(days=1)
    except OverflowError:
        return _LATEST
    return day_start(following, zone)


def today(zone: str) -> date:
    """Today's date where the site is."""
    return datetime.now(ZoneInfo(zone)).date()
