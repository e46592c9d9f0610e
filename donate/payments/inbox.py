"""The webhook inbox: store each Stripe event under its id, then apply it exactly once."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from donate.extensions import db, insert_ignoring_duplicates
from donate.models import EventStatus, StripeEvent, utcnow
from donate.payments.events import EventApplier, StripeNeededLater
from donate.payments.stripe_data import mapping, text

log = logging.getLogger(__name__)
_DONE = (EventStatus.PROCESSED, EventStatus.IGNORED, EventStatus.PARKED)


@dataclass(frozen=True)
class Receipt:
    """What the webhook answers Stripe."""

    http_status: int
    message: str


def _store(event: dict[str, Any], payload: str) -> None:
    """Insert the event unless a row with its id exists."""
    livemode = event.get("livemode")
    insert_ignoring_duplicates(
        StripeEvent.__table__,
        {
            "event_id": text(event, "id"),
            "type": (text(event, "type") or "")[:100],
            "livemode": livemode if isinstance(livemode, bool) else False,
            "api_version": (text(event, "api_version") or "")[:64] or None,
            "payload": payload,
            "status": EventStatus.RECEIVED.value,
            "received_at": utcnow(),
            "attempts": 0,
        },
    )


def receive(
    event: dict[str, Any], payload: str, applier: EventApplier, *, retried: bool = False
) -> Receipt:
    """Store, claim and apply one verified event; 5xx asks for a retry.

    The event is stored before anything else. When applying it needs Stripe's API, the stored
    row is committed first, so a slow or unreachable Stripe can cost a retry but never the event,
    and no lock waits on the network. Concurrent copies of one event serialise on the stored row
    (FOR UPDATE on PostgreSQL, the write lock on SQLite): the first applies it, the others find
    it done and change nothing.
    """
    event_id = text(event, "id") or ""
    event_type = text(event, "type") or ""
    try:
        done = db.session.execute(
            sa.select(StripeEvent.status).where(
                StripeEvent.event_id == event_id, StripeEvent.status.in_(_DONE)
            )
        ).scalar_one_or_none()
        if done is not None:
            db.session.rollback()
            return Receipt(200, f"{event_id} was already {done.value}.")
        _store(event, payload)
        verdict = None
        if applier.handles(event_type) and not applier.livemode_mismatch(event):
            applier.before_stripe_call = db.session.commit
            try:
                verdict = applier.prefetch(event_type, mapping(event, "data", "object"))
            finally:
                applier.before_stripe_call = _no_commit
        # Count the attempt first: that write takes the row's lock (SQLite's write lock), so the
        # status read next is final, and a concurrent copy of this event waits for our commit.
        db.session.execute(
            sa.update(StripeEvent)
            .where(StripeEvent.event_id == event_id)
            .values(attempts=StripeEvent.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        row = db.session.execute(
            sa.select(StripeEvent)
            .where(StripeEvent.event_id == event_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        if row.status in _DONE:
            db.session.rollback()
            return Receipt(200, f"{event_id} was already {row.status.value}.")
        if verdict is None:
            with applier.no_stripe_calls(), db.session.begin_nested():
                outcome = applier.apply(event)
        else:
            outcome = verdict
        row.status = outcome.status
        row.parked_on = outcome.parked_on
        row.error = outcome.note if outcome.status == EventStatus.IGNORED else None
        row.processed_at = utcnow() if outcome.status != EventStatus.PARKED else None
        db.session.commit()
        apply_deferred(applier)
        return Receipt(200, f"{event_id}: {outcome.status.value}.")
    except StripeNeededLater:
        # What Stripe had to say changed while we waited for the lock (the payment settled
        # meanwhile): start again, asking Stripe first, once.
        db.session.rollback()
        if not retried:
            return receive(event, payload, applier, retried=True)
        _record_failure(event, payload, RuntimeError("Stripe was needed under a lock twice."))
        return Receipt(500, f"{event_id} could not be applied; Stripe will retry.")
    except Exception as error:  # noqa: BLE001 - any failure must become a retry, not a lost event
        _roll_back()
        recorded = _record_failure(event, payload, error)
        _log_failure(event_id, error, recorded)
        return Receipt(500, f"{event_id} could not be applied; Stripe will retry.")


def apply_deferred(applier: EventApplier) -> None:
    """Apply the parked events a payment released that needed Stripe, now that nothing is locked.

    Each goes through receive() again, so Stripe is asked before its transaction begins; one
    that fails is kept as failed for a retry and never undoes the payment that released it.
    """
    while applier.deferred:
        event_id = applier.deferred.pop(0)
        row = db.session.execute(
            sa.select(StripeEvent).where(
                StripeEvent.event_id == event_id, StripeEvent.status == EventStatus.PARKED
            )
        ).scalar_one_or_none()
        if row is None:
            db.session.rollback()
            continue
        payload = row.payload
        row.status = EventStatus.RECEIVED
        db.session.commit()
        receive(json.loads(payload), payload, applier)


def _no_commit() -> None:
    """Later calls to Stripe (while applying) must not commit half an event."""


# Error types whose traceback this process has logged: an outage fails every event alike, and
# thousands of identical tracebacks would bury the one line per event that says which failed.
_tracebacks_logged: set[type[BaseException]] = set()


def _log_failure(event_id: str, error: Exception, recorded: bool) -> None:
    """One line per failed event; the traceback the first time this kind of error is seen."""
    first_line = (str(error).splitlines() or [""])[0][:300]
    first_time = type(error) not in _tracebacks_logged
    _tracebacks_logged.add(type(error))
    log.error(
        "Applying Stripe event %s failed (%s: %s)%s; Stripe will retry.",
        event_id,
        type(error).__name__,
        first_line,
        "" if recorded else ", and its failure could not be recorded",
        exc_info=error if first_time or log.isEnabledFor(logging.DEBUG) else None,
    )


def _roll_back() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the database itself may be what failed
        pass


def _record_failure(event: dict[str, Any], payload: str, error: Exception) -> bool:
    """Keep the event with its error, so a retry or a replay can apply it later; True if kept."""
    try:
        _store(event, payload)
        db.session.execute(
            sa.update(StripeEvent)
            .where(StripeEvent.event_id == text(event, "id"), StripeEvent.status.not_in(_DONE))
            .values(
                status=EventStatus.FAILED,
                error=f"{type(error).__name__}: {error}"[:2000],
                attempts=StripeEvent.attempts + 1,
            )
        )
        db.session.commit()
    except Exception:  # noqa: BLE001 - the database itself may be what failed
        _roll_back()
        return False
    return True


def replay(event_id: str, applier: EventApplier) -> Receipt:
    """Apply a stored event again, whatever its status (an operator's decision)."""
    row = db.session.execute(
        sa.select(StripeEvent).where(StripeEvent.event_id == event_id)
    ).scalar_one_or_none()
    if row is None:
        return Receipt(404, f"No stored event has the id {event_id}.")
    row.status = EventStatus.RECEIVED
    db.session.commit()
    return receive(json.loads(row.payload), row.payload, applier)
