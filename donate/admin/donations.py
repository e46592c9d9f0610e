"""Reading a site's donations: the filtered, paginated list and one donation's whole history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from donate.admin import audit
from donate.admin.local_time import day_end, day_start
from donate.extensions import db
from donate.models import (
    AuditLog,
    Dispute,
    Donation,
    DonationKind,
    DonationState,
    Goal,
    LedgerEntry,
    Refund,
    Site,
    StripeEvent,
    Subscription,
)

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to; empty fields mean "any"."""

    goal_id: int | None = None
    state: DonationState | None = None
    kind: DonationKind | None = None
    start: date | None = None
    end: date | None = None
    search: str = ""


def matching(site: Site, filters: Filters) -> sa.Select:
    """The site's donations that pass the filters, newest first; dates are the site's days."""
    query = (
        sa.select(Donation)
        .join(Goal, Goal.id == Donation.goal_id)
        .where(Goal.site_id == site.id)
        .order_by(Donation.created_at.desc(), Donation.id.desc())
    )
    if filters.goal_id is not None:
        query = query.where(Donation.goal_id == filters.goal_id)
    if filters.state is not None:
        query = query.where(Donation.state == filters.state)
    if filters.kind is not None:
        query = query.where(Donation.kind == filters.kind)
    if filters.start is not None:
        query = query.where(Donation.created_at >= day_start(filters.start, site.time_zone))
    if filters.end is not None:
        query = query.where(Donation.created_at < day_end(filters.end, site.time_zone))
    search = filters.search.strip()
    if search:
        pattern = (
            "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            sa.or_(
                sa.func.lower(Donation.donor_email).like(pattern, escape="\\"),
                sa.func.lower(Donation.public_name).like(pattern, escape="\\"),
            )
        )
    return query


@dataclass(frozen=True)
class Page:
    """One page of the list and where it sits among the others."""

    donations: list[Donation]
    number: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_of(site: Site, filters: Filters, number: int) -> Page:
    """Page `number` (from 1) of the filtered list, with the count of all matches."""
    query = matching(site, filters)
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    number = max(1, min(number, max(1, -(-total // PAGE_SIZE))))
    rows = db.session.execute(query.limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)).scalars()
    return Page(donations=list(rows), number=number, total=total)


@dataclass(frozen=True)
class Moment:
    """One line of a donation's history."""

    at: datetime
    what: str
    detail: str
    source: str  # "ledger", "stripe" or "dashboard"
    change_minor: int | None = None  # what a ledger entry did to the goal's total


@dataclass(frozen=True)
class History:
    """Everything that happened to a donation, and the rows that hold it."""

    moments: list[Moment]
    refunds: list[Refund]
    disputes: list[Dispute]
    audit_rows: list[AuditLog]
    events: list[StripeEvent]


def stripe_ids(donation: Donation, *, with_subscription: bool = False) -> list[str]:
    """The Stripe ids that tie inbox events to this gift (and, if asked, to its subscription)."""
    values = [
        donation.stripe_checkout_session_id,
        donation.stripe_payment_intent_id,
        donation.stripe_charge_id,
        donation.stripe_invoice_id,
    ]
    if with_subscription and donation.subscription_id is not None:
        subscription = db.session.get(Subscription, donation.subscription_id)
        values.append(subscription.stripe_subscription_id if subscription else None)
    return [value for value in values if value]


def events_naming(ids: list[str], limit: int | None = None) -> list[StripeEvent]:
    """The inbox's events whose payload holds one of the ids as a whole string, oldest first."""
    if not ids:
        return []
    quoted = [f'"{value}"' for value in ids]
    query = (
        sa.select(StripeEvent)
        .where(sa.or_(*(StripeEvent.payload.contains(q, autoescape=True) for q in quoted)))
        .order_by(StripeEvent.received_at, StripeEvent.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


def events_about(donation: Donation) -> list[StripeEvent]:
    """The inbox's events that name one of the donation's Stripe ids, oldest first."""
    return events_naming(stripe_ids(donation), limit=200)


def history(site: Site, donation: Donation) -> History:
    """A donation's ledger entries, Stripe events and dashboard changes, in time order."""
    entries = db.session.execute(
        sa.select(LedgerEntry)
        .where(LedgerEntry.donation_id == donation.id)
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
    ).scalars()
    events = events_about(donation)
    audit_rows = audit.about(site, f"donation:{donation.id}")
    moments = [
        Moment(e.created_at, e.action, e.cause, "ledger", change_minor=e.raised_delta)
        for e in entries
    ]
    moments += [
        Moment(e.received_at, e.type, f"{e.event_id} · {e.status.value}", "stripe") for e in events
    ]
    moments += [Moment(a.created_at, a.action, a.actor, "dashboard") for a in audit_rows]
    moments.sort(key=lambda moment: moment.at)
    refunds = db.session.execute(
        sa.select(Refund).where(Refund.donation_id == donation.id).order_by(Refund.id)
    ).scalars()
    disputes = db.session.execute(
        sa.select(Dispute).where(Dispute.donation_id == donation.id).order_by(Dispute.id)
    ).scalars()
    return History(
        moments=moments,
        refunds=list(refunds),
        disputes=list(disputes),
        audit_rows=audit_rows,
        events=events,
    )
