"""Reading a site's monthly donors: their subscriptions, where each stands, and its instalments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from donate.admin.donations import PAGE_SIZE, Page
from donate.extensions import db
from donate.ledger.transitions import SUBSCRIPTION_FINAL
from donate.models import (
    AuditLog,
    Donation,
    DonationState,
    Goal,
    Site,
    Subscription,
    SubscriptionStatus,
)

CANCEL_ACTION = "subscription.cancel"
CANCELLING = "cancelling_at_period_end"
# Every status Stripe reports, in the words the dashboard uses, plus ours for a scheduled end.
STATUS_LABELS: dict[str, str] = {
    SubscriptionStatus.INCOMPLETE: "incomplete (first payment not made yet)",
    SubscriptionStatus.INCOMPLETE_EXPIRED: "never started (first payment failed)",
    SubscriptionStatus.TRIALING: "trialing",
    SubscriptionStatus.ACTIVE: "active",
    SubscriptionStatus.PAST_DUE: "past due (payment failing)",
    SubscriptionStatus.CANCELED: "canceled",
    SubscriptionStatus.UNPAID: "unpaid",
    SubscriptionStatus.PAUSED: "paused",
    CANCELLING: "cancelling at period end",
}


def subject_of(subscription: Subscription) -> str:
    """How the audit log names a subscription."""
    return f"subscription:{subscription.id}"


@dataclass(frozen=True)
class CancelRequest:
    """A cancellation Stripe accepted from the dashboard: "now" or "period_end"."""

    when: str
    asked_at: datetime


@dataclass(frozen=True)
class MonthlyDonor:
    """One subscription as the dashboard shows it."""

    subscription: Subscription
    goal: Goal
    instalments: int
    given_minor: int
    donor_email: str | None
    donor_name: str | None
    request: CancelRequest | None

    @property
    def state(self) -> str:
        """Stripe's status, or ours when the end of the period is already scheduled."""
        subscription = self.subscription
        if subscription.cancel_at_period_end and not self.final:
            return CANCELLING
        return subscription.status.value

    @property
    def state_label(self) -> str:
        return STATUS_LABELS.get(self.state, self.state)

    @property
    def final(self) -> bool:
        return self.subscription.status in SUBSCRIPTION_FINAL

    @property
    def cancel_requested(self) -> bool:
        """Stripe accepted a cancellation whose event has not arrived yet."""
        request = self.request
        if request is None or self.final:
            return False
        if self.subscription.updated_at > request.asked_at:
            return False  # the row changed since: Stripe's event (or a later one) came
        return request.when == "now" or not self.subscription.cancel_at_period_end

    @property
    def may_cancel_now(self) -> bool:
        return not self.final and not (self.cancel_requested and self.request_when == "now")

    @property
    def may_cancel_at_period_end(self) -> bool:
        return (
            not self.final
            and not self.subscription.cancel_at_period_end
            and not self.cancel_requested
        )

    @property
    def request_when(self) -> str | None:
        return self.request.when if self.request else None


def _donors_query(site: Site) -> sa.Select:
    instalments = (
        sa.select(
            Donation.subscription_id,
            sa.func.count(Donation.id).label("paid"),
            sa.func.sum(Donation.amount_minor).label("given"),
        )
        .where(Donation.subscription_id.is_not(None), Donation.state == DonationState.SUCCEEDED)
        .group_by(Donation.subscription_id)
        .subquery()
    )
    opening = (
        sa.select(Donation.subscription_id, sa.func.min(Donation.id).label("first_id"))
        .where(Donation.subscription_id.is_not(None))
        .group_by(Donation.subscription_id)
        .subquery()
    )
    first = aliased(Donation)
    return (
        sa.select(
            Subscription,
            Goal,
            sa.func.coalesce(instalments.c.paid, 0),
            sa.func.coalesce(instalments.c.given, 0),
            first.donor_email,
            first.public_name,
        )
        .join(Goal, Goal.id == Subscription.goal_id)
        .outerjoin(instalments, instalments.c.subscription_id == Subscription.id)
        .outerjoin(opening, opening.c.subscription_id == Subscription.id)
        .outerjoin(first, first.id == opening.c.first_id)
        .where(Goal.site_id == site.id)
    )


def _latest_requests(site: Site, subscription_ids: list[int]) -> dict[int, CancelRequest]:
    """The newest accepted cancellation of each subscription, from the audit log."""
    if not subscription_ids:
        return {}
    subjects = {f"subscription:{sid}": sid for sid in subscription_ids}
    rows = db.session.execute(
        sa.select(AuditLog)
        .where(
            AuditLog.site_id == site.id,
            AuditLog.action == CANCEL_ACTION,
            AuditLog.subject.in_(list(subjects)),
        )
        .order_by(AuditLog.id)
    ).scalars()
    found: dict[int, CancelRequest] = {}
    for entry in rows:
        detail = entry.detail or {}
        try:
            asked_at = datetime.fromisoformat(str(detail.get("asked_at")))
        except ValueError:
            asked_at = entry.created_at
        found[subjects[entry.subject or ""]] = CancelRequest(
            when=str(detail.get("when") or "now"), asked_at=asked_at
        )
    return found


def _as_donors(site: Site, rows: list[Any]) -> list[MonthlyDonor]:
    requests = _latest_requests(site, [row[0].id for row in rows])
    return [
        MonthlyDonor(
            subscription=subscription,
            goal=goal,
            instalments=int(paid),
            given_minor=int(given),
            donor_email=email,
            donor_name=name,
            request=requests.get(subscription.id),
        )
        for subscription, goal, paid, given, email, name in rows
    ]


@dataclass(frozen=True)
class DonorPage(Page):
    """One page of monthly donors; where it sits is worked out as for the donations list."""

    donors: list[MonthlyDonor] = field(default_factory=list)


def page_of(site: Site, *, goal_id: int | None, number: int) -> DonorPage:
    """The site's monthly donors, newest first, optionally of one goal."""
    query = _donors_query(site)
    if goal_id is not None:
        query = query.where(Subscription.goal_id == goal_id)
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    number = min(max(number, 1), max(1, -(-total // PAGE_SIZE)))
    rows = db.session.execute(
        query.order_by(Subscription.created_at.desc(), Subscription.id.desc())
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
    ).all()
    donors = _as_donors(site, list(rows))
    return DonorPage(donations=[], number=number, total=int(total), donors=donors)


def donor_or_none(site: Site, subscription_id: int) -> MonthlyDonor | None:
    """One subscription of the site, or None when it belongs to another site or to nobody."""
    rows = db.session.execute(_donors_query(site).where(Subscription.id == subscription_id)).all()
    donors = _as_donors(site, list(rows))
    return donors[0] if donors else None


def instalments_of(subscription: Subscription) -> list[Donation]:
    """Every donation the subscription made, the newest first (pending and failed ones too)."""
    return list(
        db.session.execute(
            sa.select(Donation)
            .where(Donation.subscription_id == subscription.id)
            .order_by(Donation.created_at.desc(), Donation.id.desc())
        ).scalars()
    )
