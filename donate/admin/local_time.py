"""The site's wall clock: days and times as its people see them, stored times staying UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def local(moment: datetime, zone: str) -> datetime:
    """A stored (UTC) time in the site's time zone."""
    return moment.astimezone(ZoneInfo(zone))


def local_day(moment: datetime, zone: str) -> date:
    """The calendar day a moment falls on in the site's time zone."""
    return local(moment, zone).date()


def day_start(day: date, zone: str) -> datetime:
    """Midnight at the start of a local day, as an aware time (DST days included)."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))


def day_end(day: date, zone: str) -> datetime:
    """Midnight at the end of a local day: the exclusive upper bound of a date range."""
    return day_start(day + timedelta(days=1), zone)


def today(zone: str) -> date:
    """Today's date where the site is."""
    return datetime.now(ZoneInfo(zone)).date()
