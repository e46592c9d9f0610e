"""Reconciliation: walk Stripe's objects since a date, apply what we missed, then recount."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import (
    Donation,
    DonationKind,
    DonationState,
    EventStatus,
    Goal,
    RefundStatus,
    StripeEvent,
    Subscription,
    utcnow,
)
from donate.payments import inbox, refund_requests
from donate.payments.events import EventApplier, StripeNeededLater
from donate.payments.stripe import (
    CHECKOUT_SESSION_LIFETIME_SECONDS,
    PaymentProviderError,
    StripeGateway,
)
from donate.payments.stripe_data import listed, text

CAUSE = "reconcile"
# A subscription as Stripe has it now is applied through the webhook's own handler.
SUBSCRIPTION_EVENT = "customer.subscription.updated"
# gunicorn kills a request after 30 s; a pending donation older than this without a session
# belongs to a give request that died before Stripe answered, and no donor can be paying it.
SESSIONLESS_AFTER = timedelta(seconds=60)
# An open session older than its lifetime (or one opened before sessions had one, when Stripe's
# default was 24 hours) is expired through the API rather than left for Stripe.
OPEN_SESSION_AFTER = timedelta(seconds=CHECKOUT_SESSION_LIFETIME_SECONDS)
# Stripe lets a Checkout Session live at most 24 hours.
LONGEST_SESSION_LIFE = timedelta(hours=24, minutes=5)


@dataclass
class ReconcileReport:
    """What a run looked at, what it changed, and the drift the recount found."""

    seen: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)
    drift: list[ledger.Drift] = field(default_factory=list)
    # Stored events that could not be applied (failed, or received and never applied).
    failed_events: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        """Stripe and we agree: no drift was found and no event is left unapplied."""
        return not self.drift and not self.failed_events

    def count(self, kind: str, applied: bool) -> None:
        self.seen[kind] = self.seen.get(kind, 0) + 1
        if applied:
            self.applied[kind] = self.applied.get(kind, 0) + 1


def _pages(fetch: Callable[..., dict[str, Any]], created_gte: int) -> Iterator[dict[str, Any]]:
    """Every object of a Stripe list since a time, page after page."""
    starting_after: str | None = None
    while True:
        page = fetch(created_gte=created_gte, starting_after=starting_after)
        items = listed(page, "data")
        yield from items
        if not page.get("has_more") or not items:
            return
        starting_after = text(items[-1], "id")


def _totals_version() -> int:
    return int(db.session.execute(sa.select(sa.func.sum(Goal.totals_version))).scalar() or 0)


def reconcile(
    stripe: StripeGateway,
    since: datetime,
    *,
    on_item: Callable[[str], None] = lambda _kind: None,
) -> ReconcileReport:
    """Apply what Stripe has and we lack; safe to run any time, any number of times.

    Only Stripe's objects are walked, so demo and offline gifts are never touched.
    """
    applier = EventApplier(stripe)
    report = ReconcileReport()
    created_gte = int(since.timestamp())
    walks: list[
        tuple[str, Callable[..., dict[str, Any]], Callable[[dict[str, Any]], str | None]]
    ] = [
        ("session", stripe.list_checkout_sessions, _session_event_type),
        ("invoice", stripe.list_invoices, lambda _i: "invoice.paid"),
        ("refund", stripe.list_refunds, lambda _r: "refund.updated"),
        ("dispute", stripe.list_disputes, lambda _d: "charge.dispute.updated"),
    ]
    for kind, fetch, event_type_of in walks:
        for obj in _pages(fetch, created_gte):
            on_item(kind)
            event_type = event_type_of(obj)
            if event_type is None:
                report.count(kind, applied=False)
                continue
            report.count(kind, applied=_apply(applier, event_type, obj, _totals_version))
    seen_subscriptions: set[str] = set()
    for subscription in _pages(stripe.list_subscriptions, created_gte):
        on_item("subscription")
        stripe_id = text(subscription, "id") or ""
        seen_subscriptions.add(stripe_id)
        applied = _apply(
            applier, SUBSCRIPTION_EVENT, subscription, partial(_subscription_state, stripe_id)
        )
        report.count("subscription", applied=applied)
    for stripe_id in _open_subscriptions(exclude=seen_subscriptions):
        on_item("subscription")
        db.session.rollback()
        try:
            subscription = stripe.retrieve_subscription(stripe_id)
        except PaymentProviderError as error:
            if not error.missing:
                raise
            report.count("subscription", applied=False)
            continue
        applied = _apply(
            applier, SUBSCRIPTION_EVENT, subscription, partial(_subscription_state, stripe_id)
        )
        report.count("subscription", applied=applied)
    for event in _pages(stripe.list_undelivered_events, created_gte):
        on_item("undelivered event")
        receipt = inbox.receive(event, json.dumps(event), applier)
        report.count("undelivered event", applied=receipt.http_status == 200)
    for _event_id, payload in _unapplied_events():
        on_item("stored event")
        receipt = inbox.receive(json.loads(payload), payload, applier)
        report.count("stored event", applied=receipt.http_status == 200)
    for closed in close_abandoned_checkouts(stripe, applier):
        on_item("pending donation")
        report.count("pending donation", applied=closed)
    # Dashboard refunds whose answer never came: Stripe's list of the payment's refunds says.
    for answer in refund_requests.settle_every_open_request(stripe, cause=CAUSE):
        report.count("refund request", applied=answer.status != RefundStatus.REQUESTED)
    for goal in db.session.execute(sa.select(Goal).order_by(Goal.id)).scalars().all():
        drift = ledger.recount(goal, cause=CAUSE)
        if drift.found:
            report.drift.append(drift)
    db.session.commit()
    report.failed_events = [event_id for event_id, _payload in _unapplied_events()]
    db.session.rollback()
    return report


def close_abandoned_checkouts(stripe: StripeGateway, applier: EventApplier) -> Iterator[bool]:
    """Close pending gifts nobody can pay any more; yield, per donation looked at, if it moved.

    A pending gift is closed only on what Stripe says of its session: expired (closed), complete
    (settled when paid; a bank debit still on its way stays pending), or open past its lifetime
    (expired through the API first). One without a session is closed once no give request can
    still be opening one.
    """
    now = utcnow()
    pending = db.session.execute(
        sa.select(Donation.id, Donation.stripe_checkout_session_id, Donation.created_at)
        .where(
            Donation.state == DonationState.PENDING,
            Donation.kind.in_((DonationKind.ONE_TIME, DonationKind.MONTHLY)),
            Donation.subscription_id.is_(None),
        )
        .order_by(Donation.id)
    ).all()
    db.session.rollback()
    for donation_id, session_id, created_at in pending:
        if session_id is None:
            moved = created_at <= now - SESSIONLESS_AFTER and ledger.close_pending_donation(
                donation_id, DonationState.EXPIRED, cause=f"{CAUSE}:no-session"
            )
            db.session.commit()
            yield bool(moved)
            continue
        yield _close_by_session(stripe, applier, donation_id, session_id, created_at, now)


def _close_by_session(
    stripe: StripeGateway,
    applier: EventApplier,
    donation_id: int,
    session_id: str,
    created_at: datetime,
    now: datetime,
) -> bool:
    """Ask Stripe for the session, expire it when it is open past its time, then apply it."""
    mode = "cs_live_" if stripe.livemode else "cs_test_"
    try:
        session = stripe.retrieve_checkout_session(session_id)
    except PaymentProviderError as error:
        if not error.missing:
            raise
        # Stripe has no such session. Only a session of our key's mode, past the longest life
        # Stripe gives one, is surely unpayable: a key of another mode or account says "missing"
        # about sessions donors may be paying right now.
        if not session_id.startswith(mode) or created_at > now - LONGEST_SESSION_LIFE:
            return False
        moved = ledger.close_pending_donation(
            donation_id, DonationState.EXPIRED, cause=f"{CAUSE}:no-session"
        )
        db.session.commit()
        return moved
    status = text(session, "status")
    expires_at = session.get("expires_at")
    if isinstance(expires_at, int):
        overdue = expires_at <= int(now.timestamp())  # Stripe's own deadline for this session
    else:
        overdue = created_at <= now - OPEN_SESSION_AFTER
    if status == "open" and overdue:
        try:
            session = stripe.expire_checkout_session(session_id)
        except PaymentProviderError:
            # Paid or expired in the meantime: ask again; on any doubt, leave it for next time.
            try:
                session = stripe.retrieve_checkout_session(session_id)
            except PaymentProviderError:
                return False
        status = text(session, "status")
    event_type = _session_event_type(session)
    if event_type is None:
        return False  # open and within its time: the donor may be paying right now
    return _apply(applier, event_type, session, partial(_donation_state, donation_id))


def _donation_state(donation_id: int) -> object:
    return db.session.execute(
        sa.select(Donation.state).where(Donation.id == donation_id)
    ).scalar_one()


def _unapplied_events() -> list[tuple[str, str]]:
    """Stored events that failed, or were stored and never applied (Stripe was unreachable)."""
    rows = db.session.execute(
        sa.select(StripeEvent.event_id, StripeEvent.payload)
        .where(StripeEvent.status.in_((EventStatus.FAILED, EventStatus.RECEIVED)))
        .order_by(StripeEvent.id)
    ).all()
    db.session.rollback()
    return [(event_id, payload) for event_id, payload in rows]


def _apply(
    applier: EventApplier, event_type: str, obj: dict[str, Any], state: Callable[[], object]
) -> bool:
    """Apply one object as its event would; True when it changed what `state` reads."""
    for last_try in (False, True):
        db.session.rollback()  # end the read transaction: no lock while Stripe answers
        verdict = applier.prefetch(event_type, obj)
        if verdict is not None:
            return False
        before = state()
        try:
            with applier.no_stripe_calls(), db.session.begin_nested():
                outcome = applier.apply_object(event_type, obj, cause=CAUSE)
            break
        except StripeNeededLater:
            # What Stripe had to say changed meanwhile (the payment settled): ask it first again.
            db.session.rollback()
            if last_try:
                raise
    changed = outcome.status == EventStatus.PROCESSED and state() != before
    db.session.commit()
    inbox.apply_deferred(applier)
    return changed


def _subscription_state(stripe_id: str) -> object:
    """What reconciling a subscription can change on our row for it."""
    return db.session.execute(
        sa.select(
            Subscription.status,
            Subscription.cancel_at_period_end,
            Subscription.current_period_end,
            Subscription.canceled_at,
        ).where(Subscription.stripe_subscription_id == stripe_id)
    ).first()


def _open_subscriptions(*, exclude: set[str]) -> list[str]:
    """Our subscriptions Stripe may have moved on since (anything not yet canceled)."""
    ids = db.session.execute(
        sa.select(Subscription.stripe_subscription_id)
        .where(Subscription.status != "canceled")
        .order_by(Subscription.id)
    ).scalars()
    return [stripe_id for stripe_id in ids if stripe_id not in exclude]


def _session_event_type(session: dict[str, Any]) -> str | None:
    """Which event a session's current state stands for."""
    status = text(session, "status")
    if status == "complete":
        return "checkout.session.completed"
    if status == "expired":
        return "checkout.session.expired"
    return None
