"""A site's own share of the webhook inbox: what its owners may see without the instance's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from donate.admin.overview import parked_warnings
from donate.extensions import db
from donate.models import Donation, EventStatus, Goal, LedgerEntry, Site, StripeEvent
from donate.payments.events import METADATA_DONATION_ID
from donate.payments.stripe import gateway
from donate.payments.stripe_data import dig

# Failed events are few and kept for a retry; past this many, the newest are what matter.
FAILED_EVENTS_READ = 500
_CAUSE_PREFIX = "stripe:"


@dataclass(frozen=True)
class SiteWebhookHealth:
    """The Stripe events that concern one site's gifts, and nothing about other sites."""

    livemode: bool
    last_event_at: datetime | None
    last_event_type: str | None
    failed_events: int
    parked: tuple[str, ...] = ()

    @property
    def warnings(self) -> list[str]:
        failed = []
        if self.failed_events:
            failed.append(
                f"{self.failed_events} Stripe event(s) about this site's gifts could not be "
                f"applied and are waiting for a retry; the instance's operator sees them on "
                f"their overview."
            )
        return failed + list(self.parked)


def site_webhook_health(site: Site) -> SiteWebhookHealth:
    """The last event that changed this site's totals and the failed events about its gifts."""
    cause = db.session.execute(
        sa.select(LedgerEntry.cause)
        .join(Goal, Goal.id == LedgerEntry.goal_id)
        .where(Goal.site_id == site.id, LedgerEntry.cause.startswith(_CAUSE_PREFIX))
        .order_by(LedgerEntry.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    last = None
    if cause is not None:
        last = db.session.execute(
            sa.select(StripeEvent.received_at, StripeEvent.type).where(
                StripeEvent.event_id == cause.removeprefix(_CAUSE_PREFIX)
            )
        ).first()
    return SiteWebhookHealth(
        livemode=gateway().livemode,
        last_event_at=last[0] if last else None,
        last_event_type=last[1] if last else None,
        failed_events=_failed_events_of(site),
        parked=tuple(parked_warnings(site, include_unplaced=False)),
    )


def _failed_events_of(site: Site) -> int:
    """Failed events whose object names one of this site's donations in our metadata."""
    payloads = db.session.execute(
        sa.select(StripeEvent.payload)
        .where(StripeEvent.status == EventStatus.FAILED)
        .order_by(StripeEvent.id.desc())
        .limit(FAILED_EVENTS_READ)
    ).scalars()
    donation_ids = [_donation_id(payload) for payload in payloads]
    wanted = [donation_id for donation_id in donation_ids if donation_id is not None]
    if not wanted:
        return 0
    ours = set(
        db.session.execute(
            sa.select(Donation.id)
            .join(Goal, Goal.id == Donation.goal_id)
            .where(Goal.site_id == site.id, Donation.id.in_(set(wanted)))
        ).scalars()
    )
    return sum(1 for donation_id in wanted if donation_id in ours)


def _donation_id(payload: str) -> int | None:
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    raw = dig(event, "data", "object", "metadata", METADATA_DONATION_ID)
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return None
