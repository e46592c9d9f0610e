"""Outbox rows: write one with its cause, lease it, then mark it sent, retried or given up.

Each step is its own short transaction, so no transaction is open while a worker talks to the
mail server or waits between polls. A lease is a conditional UPDATE of `claimed_until`, so any
number of workers can poll at once: one wins each message, and a worker that died loses its
lease when it runs out.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from donate.extensions import db
from donate.models import OutboxKind, OutboxMessage, OutboxStatus, utcnow

# After this many attempts (a crash counts as one) a message is given up and marked failed.
MAX_ATTEMPTS = 8
_FIRST_RETRY_SECONDS = 30
_LONGEST_RETRY_SECONDS = 3600
_CANDIDATES = 5


@dataclass(frozen=True)
class Lease:
    """A message this worker may send until the lease runs out; the token proves it is ours."""

    message_id: int
    token: str


def new_message_id() -> str:
    """A Message-ID on our public host, chosen once per message and used for every attempt."""
    host = urlsplit(current_app.config.get("PUBLIC_URL") or "").hostname or "donate.local"
    return make_msgid(idstring="outbox", domain=host)


def enqueue(
    kind: OutboxKind,
    recipient: str,
    *,
    site_id: int | None = None,
    donation_id: int | None = None,
    refund_id: int | None = None,
    copy: bool = False,
) -> OutboxMessage:
    """Write a message in the caller's transaction: it exists exactly when its cause does."""
    message = OutboxMessage(
        kind=kind,
        status=OutboxStatus.PENDING,
        recipient=recipient,
        site_id=site_id,
        donation_id=donation_id,
        refund_id=refund_id,
        copy=copy,
        message_id=new_message_id(),
        attempts=0,
        available_at=utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    return message


def retry_delay(attempts: int) -> timedelta:
    """Wait longer after each failure: 30 s, 1 min, 2 min, ... at most an hour."""
    seconds = _FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, _LONGEST_RETRY_SECONDS))


def _free_now() -> sa.ColumnElement[bool]:
    now = utcnow()
    return sa.and_(
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.available_at <= now,
        sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim_next(lease_seconds: float) -> Lease | None:
    """Lease the next due message and commit at once; None when nothing is due."""
    try:
        candidates = list(
            db.session.execute(
                sa.select(OutboxMessage.id, OutboxMessage.attempts)
                .where(_free_now())
                .order_by(OutboxMessage.available_at, OutboxMessage.id)
                .limit(_CANDIDATES)
            ).all()
        )
        for message_id, attempts in candidates:
            if attempts >= MAX_ATTEMPTS:
                _give_up(message_id, "Gave up: the worker stopped during every attempt.")
                continue
            token = secrets.token_hex(16)
            won = db.session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id, _free_now())
                .values(
                    claimed_until=utcnow() + timedelta(seconds=lease_seconds),
                    claim_token=token,
                    attempts=OutboxMessage.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            ).rowcount  # type: ignore[attr-defined]
            if won:
                db.session.commit()
                return Lease(message_id, token)
        db.session.commit()
        return None
    except BaseException:
        db.session.rollback()
        raise


def _give_up(message_id: int, error: str) -> None:
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _free_now())
        .values(status=OutboxStatus.FAILED, last_error=error, claimed_until=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )


def finish(
    lease: Lease,
    status: OutboxStatus,
    *,
    forget_recipient: bool = False,
    before_commit: Callable[[], None] | None = None,
) -> bool:
    """Mark a message sent (only ever after the server took it) or skipped; True if it changed.

    A worker whose lease ran out may still mark it: the message was sent all the same.
    """
    values: dict[str, object] = {"status": status, "claimed_until": None, "claim_token": None}
    if status == OutboxStatus.SENT:
        values["sent_at"] = utcnow()
    if forget_recipient:
        values["recipient"] = ""
    try:
        changed = db.session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.id == lease.message_id,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(values)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if before_commit is not None:
            before_commit()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return bool(changed)


def retry_later(lease: Lease, error: str) -> None:
    """Give the message back with the error, due again after a longer wait, or give it up."""
    try:
        attempts = db.session.execute(
            sa.select(OutboxMessage.attempts).where(
                OutboxMessage.id == lease.message_id, OutboxMessage.claim_token == lease.token
            )
        ).scalar_one_or_none()
        if attempts is not None:
            gave_up = attempts >= MAX_ATTEMPTS
            db.session.execute(
                sa.update(OutboxMessage)
                .where(
                    OutboxMessage.id == lease.message_id,
                    OutboxMessage.claim_token == lease.token,
                    OutboxMessage.status == OutboxStatus.PENDING,
                )
                .values(
                    status=OutboxStatus.FAILED if gave_up else OutboxStatus.PENDING,
                    available_at=utcnow() + retry_delay(attempts),
                    claimed_until=None,
                    claim_token=None,
                    last_error=error[:2000],
                )
                .execution_options(synchronize_session=False)
            )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def forget_donations(donation_ids: Iterable[int]) -> int:
    """Delete every message about these gifts (an erased donor's), sent or not; count them."""
    ids = list(donation_ids)
    if not ids:
        return 0
    result = db.session.execute(
        sa.delete(OutboxMessage)
        .where(OutboxMessage.donation_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
