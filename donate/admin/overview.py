"""The overview: each goal's numbers, and whether Stripe's webhooks are arriving as they should."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from donate.extensions import db
from donate.ledger.transitions import SUBSCRIPTION_RUNNING
from donate.models import Donation, EventStatus, Goal, Site, StripeEvent, Subscription, utcnow
from donate.payments.stripe import gateway

# Running monthly gifts: a failed first payment (incomplete, then expired) never started.
LIVE_SUBSCRIPTION_STATUSES = SUBSCRIPTION_RUNNING
MISMATCH_WINDOW = timedelta(days=7)
# Stripe retries a webhook for up to three days; an event parked longer waits for nothing coming.
STRIPE_RETRY_WINDOW = timedelta(days=3)
# Before any gift went to Stripe, no webhook is expected: the warning waits for a reason.
WEBHOOK_GRACE = timedelta(minutes=10)
PARKED_SHOWN = 200  # events read to place them on a site; parked ones are few


@dataclass(frozen=True)
class GoalLine:
    """One goal as the overview lists it."""

    goal: Goal
    monthly_donors: int


def goal_lines(site: Site) -> list[GoalLine]:
    """The site's goals, open ones first, with how many monthly gifts are running for each."""
    monthly = (
        sa.select(Subscription.goal_id, sa.func.count(Subscription.id).label("running"))
        .where(Subscription.status.in_(LIVE_SUBSCRIPTION_STATUSES))
        .group_by(Subscription.goal_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Goal, sa.func.coalesce(monthly.c.running, 0))
        .outerjoin(monthly, monthly.c.goal_id == Goal.id)
        .where(Goal.site_id == site.id)
        .order_by(Goal.status, Goal.id.desc())
    ).all()
    return [GoalLine(goal=goal, monthly_donors=int(running)) for goal, running in rows]


@dataclass
class StripeHealth:
    """What the webhook inbox says about the connection to Stripe."""

    livemode: bool
    last_event_at: datetime | None
    last_event_type: str | None
    other_mode_events: int
    failed_events: int
    warnings: list[str] = field(default_factory=list)


def stripe_health(site: Site | None = None) -> StripeHealth:
    """Last webhook, test or live mode, and warnings a site owner should act on."""
    livemode = gateway().livemode
    last = db.session.execute(
        sa.select(StripeEvent.received_at, StripeEvent.type)
        .order_by(StripeEvent.received_at.desc(), StripeEvent.id.desc())
        .limit(1)
    ).first()
    other_mode = db.session.execute(
        sa.select(sa.func.count(StripeEvent.id)).where(
            StripeEvent.livemode == (not livemode),
            StripeEvent.received_at >= utcnow() - MISMATCH_WINDOW,
        )
    ).scalar_one()
    failed = db.session.execute(
        sa.select(sa.func.count(StripeEvent.id)).where(StripeEvent.status == EventStatus.FAILED)
    ).scalar_one()
    health = StripeHealth(
        livemode=livemode,
        last_event_at=last[0] if last else None,
        last_event_type=last[1] if last else None,
        other_mode_events=int(other_mode),
        failed_events=int(failed),
    )
    endpoint = current_app.config["PUBLIC_URL"].rstrip("/") + "/stripe/webhook"
    if not current_app.config.get("STRIPE_SECRET_KEY"):
        health.warnings.append(
            "No Stripe key is configured (STRIPE_SECRET_KEY), so nobody can give yet."
        )
    if last is None and _a_stripe_gift_is_overdue():
        if current_app.config.get("STRIPE_API_BASE"):
            advice = (
                "the local sandbox delivers to the address given with its --webhook-url "
                "(`make run` sets it); check that it points at this app"
            )
        else:
            advice = "run `flask --app wsgi donate stripe-setup` to register it"
        health.warnings.append(
            f"No webhook from Stripe has arrived yet, though a gift went to Stripe's checkout "
            f"more than {WEBHOOK_GRACE.seconds // 60} minutes ago. Gifts are only counted when "
            f"Stripe's events reach {endpoint}; {advice}."
        )
    if other_mode:
        ours, theirs = ("live", "test") if livemode else ("test", "live")
        health.warnings.append(
            f"{other_mode} {theirs}-mode event(s) arrived in the last 7 days, but this app uses a "
            f"{ours}-mode key. Check that the webhook endpoint and STRIPE_SECRET_KEY belong to "
            f"the same mode; those events were stored and not counted."
        )
    if failed:
        health.warnings.append(
            f"{failed} Stripe event(s) could not be applied and are waiting for a retry; "
            f"`flask --app wsgi donate replay-event EVENT_ID` applies one again."
        )
    health.warnings.extend(parked_warnings(site))
    return health


def _a_stripe_gift_is_overdue() -> bool:
    """A gift opened at Stripe long enough ago that its events should have come by now."""
    return (
        db.session.execute(
            sa.select(Donation.id)
            .where(
                Donation.stripe_checkout_session_id.is_not(None),
                Donation.created_at < utcnow() - WEBHOOK_GRACE,
            )
            .limit(1)
        ).first()
        is not None
    )


def parked_warnings(site: Site | None, *, include_unplaced: bool = True) -> list[str]:
    """Events parked past Stripe's retry window: this site's, and (for the instance's operator)
    those no site can be told about."""
    rows = db.session.execute(
        sa.select(StripeEvent.event_id, StripeEvent.payload)
        .where(
            StripeEvent.status == EventStatus.PARKED,
            StripeEvent.received_at < utcnow() - STRIPE_RETRY_WINDOW,
        )
        .order_by(StripeEvent.id)
        .limit(PARKED_SHOWN)
    ).all()
    ours: list[str] = []
    unplaced: list[str] = []
    for event_id, payload in rows:
        site_id = _site_of(payload)
        if site_id is None:
            unplaced.append(event_id)
        elif site is not None and site_id == site.id:
            ours.append(event_id)
    advice = (
        "Stripe stopped retrying after 3 days, so nothing more will arrive for them: run "
        "`flask --app wsgi donate reconcile`, then `donate replay-event EVENT_ID` for any "
        "that should count"
    )
    warnings = []
    if ours:
        warnings.append(
            f"{len(ours)} Stripe event(s) about gifts to this site have waited more than "
            f"3 days for a payment we have not seen ({_first(ours)}). {advice}."
        )
    if unplaced and include_unplaced:
        warnings.append(
            f"{len(unplaced)} Stripe event(s) have waited more than 3 days for a payment we "
            f"have not seen ({_first(unplaced)}); they may belong to another integration on "
            f"the same Stripe account. {advice}."
        )
    return warnings


def _site_of(payload: str) -> int | None:
    """The site whose donation the event's object names in its metadata, if any."""
    try:
        obj = (json.loads(payload).get("data") or {}).get("object") or {}
        raw = str((obj.get("metadata") or {}).get("donate_donation_id") or "")
    except (ValueError, AttributeError):
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return db.session.execute(
        sa.select(Goal.site_id)
        .join(Donation, Donation.goal_id == Goal.id)
        .where(Donation.id == int(raw))
    ).scalar_one_or_none()


def _first(event_ids: list[str]) -> str:
    shown = ", ".join(event_ids[:3])
    return shown + (", ..." if len(event_ids) > 3 else "")
