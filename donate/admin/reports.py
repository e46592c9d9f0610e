"""The numbers behind the charts: money raised per day in the site's time zone, and per article."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from donate.admin.local_time import local_day
from donate.extensions import db
from donate.models import Donation, DonationState, Goal, LedgerEntry

# Gifts recorded after the fact count on the day they were received, not the day they were typed.
_BACKDATED_ACTIONS = ("record_offline", "record_demo")
# The most days a chart draws: a goal with a long history shows its latest year or so.
CHART_DAYS = 400


@dataclass(frozen=True)
class Day:
    """One local day of a goal: what the total moved by, and where it stood at the end."""

    day: date
    raised_minor: int
    total_minor: int


class Days(list[Day]):
    """Days oldest first; left_out counts the earlier days cut off, whose money is carried in."""

    left_out: int = 0


def raised_per_day(goal: Goal, zone: str, *, at_most: int = CHART_DAYS) -> Days:
    """Each day up to the last change of the goal's total, gaps filled with zero; at most `at_most`.

    Built from the ledger, so refunds, disputes and voids count on the day they happened. Older
    days are left out, their money counted in the running total, so the page stays small.
    """
    rows = db.session.execute(
        sa.select(
            LedgerEntry.created_at,
            LedgerEntry.raised_delta,
            LedgerEntry.action,
            Donation.settled_at,
        )
        .outerjoin(Donation, Donation.id == LedgerEntry.donation_id)
        .where(LedgerEntry.goal_id == goal.id, LedgerEntry.raised_delta != 0)
    ).all()
    per_day: dict[date, int] = defaultdict(int)
    for created_at, delta, action, settled_at in rows:
        moment = settled_at if action in _BACKDATED_ACTIONS and settled_at else created_at
        per_day[local_day(moment, zone)] += delta
    days = Days()
    if not per_day:
        return days
    first, last = min(per_day), max(per_day)
    current = max(first, last - timedelta(days=at_most - 1))
    days.left_out = (current - first).days
    running = sum(delta for day, delta in per_day.items() if day < current)
    while current <= last:
        running += per_day.get(current, 0)
        days.append(Day(day=current, raised_minor=per_day.get(current, 0), total_minor=running))
        current += timedelta(days=1)
    return days


@dataclass(frozen=True)
class Article:
    """What one article brought in: money, gifts and distinct donors."""

    label: str | None  # article id or page URL; None for gifts that came from no article
    url: str | None
    currency: str
    raised_minor: int
    donations: int
    donors: int
    # Of raised_minor, what donors added to cover fees (as given; refunds come off raised only).
    fee_cover_minor: int = 0


def raised_per_article(goal_ids: list[int], *, limit: int = 50) -> list[Article]:
    """Articles ranked by money raised for these goals (succeeded gifts, net of refunds)."""
    if not goal_ids:
        return []
    article = sa.func.coalesce(Donation.article_id, Donation.source_url)
    net = Donation.kept_minor
    raised = sa.func.sum(net)
    rows = db.session.execute(
        sa.select(
            article.label("article"),
            sa.func.max(Donation.source_url),
            Donation.currency,
            raised.label("raised"),
            sa.func.count(Donation.id),
            sa.func.count(sa.distinct(Donation.donor_key)),
            sa.func.sum(Donation.fee_cover_minor),
        )
        .where(Donation.goal_id.in_(goal_ids), Donation.state == DonationState.SUCCEEDED)
        .group_by(article, Donation.currency)
        .order_by(raised.desc(), article)
        .limit(limit)
    ).all()
    return [
        Article(
            label=label,
            url=url,
            currency=currency,
            raised_minor=int(total),
            donations=int(count),
            donors=int(donors),
            fee_cover_minor=int(fees or 0),
        )
        for label, url, currency, total, count, donors, fees in rows
    ]
