"""Reconciliation: walk Stripe's objects since a date, apply what we missed, then recount."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from donate import ledger
from donate.extensions import db
from donate.models import EventStatus, Goal, RefundStatus
from donate.payments import inbox, refund_requests
from donate.payments.events import EventApplier
from donate.payments.stripe import StripeGateway
from donate.payments.stripe_data import listed, text

CAUSE = "reconcile"


@dataclass
class ReconcileReport:
    """What a run looked at, what it changed, and the drift the recount found."""

    seen: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)
    drift: list[ledger.Drift] = field(default_factory=list)

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
            db.session.rollback()  # end the read transaction: no lock while Stripe answers
            applier.prefetch(event_type, obj)
            before = _totals_version()
            with db.session.begin_nested():
                outcome = applier.apply_object(event_type, obj, cause=CAUSE)
            report.count(
                kind,
                applied=outcome.status == EventStatus.PROCESSED and _totals_version() != before,
            )
            db.session.commit()
    for event in _pages(stripe.list_undelivered_events, created_gte):
        on_item("undelivered event")
        receipt = inbox.receive(event, json.dumps(event), applier)
        report.count("undelivered event", applied=receipt.http_status == 200)
    # Dashboard refunds whose answer never came: Stripe's list of the payment's refunds says.
    for answer in refund_requests.settle_every_open_request(stripe, cause=CAUSE):
        report.count("refund request", applied=answer.status != RefundStatus.REQUESTED)
    for goal in db.session.execute(sa.select(Goal).order_by(Goal.id)).scalars().all():
        drift = ledger.recount(goal, cause=CAUSE)
        if drift.found:
            report.drift.append(drift)
    db.session.commit()
    return report


def _session_event_type(session: dict[str, Any]) -> str | None:
    """Which event a session's current state stands for."""
    status = text(session, "status")
    if status == "complete":
        return "checkout.session.completed"
    if status == "expired":
        return "checkout.session.expired"
    return None
