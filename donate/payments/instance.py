"""What this instance keeps in its own table: its id in Stripe metadata, its portal configuration.

The id is stored, never derived from configuration again: a changed PUBLIC_URL or a command run
without it must not turn our own payments into another instance's.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from flask import current_app

from donate.extensions import db, insert_ignoring_duplicates
from donate.models import EventStatus, InstanceSetting, StripeEvent, utcnow

INSTANCE_ID = "instance_id"
# Sessions we applied carry the id our Checkout Sessions were opened with.
_SETTLING_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


def legacy_instance_id(public_url: str) -> str:
    """The id earlier versions derived from PUBLIC_URL; seeds the stored one so old ids match."""
    return hashlib.sha256(public_url.rstrip("/").encode()).hexdigest()[:12]


def _read(key: str) -> str | None:
    return db.session.execute(
        sa.select(InstanceSetting.value).where(InstanceSetting.key == key)
    ).scalar_one_or_none()


def instance_id() -> str:
    """This instance's id in Stripe metadata and idempotency keys, stored on first use."""
    stored = _read(INSTANCE_ID)
    if stored:
        return stored
    seed = id_in_applied_sessions() or legacy_instance_id(current_app.config["PUBLIC_URL"])
    insert_ignoring_duplicates(
        InstanceSetting.__table__, {"key": INSTANCE_ID, "value": seed, "updated_at": utcnow()}
    )
    return _read(INSTANCE_ID) or seed


def id_in_applied_sessions() -> str | None:
    """The instance id of the newest session we applied: what Stripe knows us by, if anything."""
    payloads = db.session.execute(
        sa.select(StripeEvent.payload)
        .where(StripeEvent.status == EventStatus.PROCESSED, StripeEvent.type.in_(_SETTLING_EVENTS))
        .order_by(StripeEvent.id.desc())
        .limit(20)
    ).scalars()
    for payload in payloads:
        try:
            metadata = json.loads(payload)["data"]["object"]["metadata"]
            value = metadata.get("donate_instance")
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if isinstance(value, str) and value and len(value) <= 255:
            return value
    return None


def _portal_key(livemode: bool) -> str:
    return f"portal_configuration_{'live' if livemode else 'test'}"


def portal_configuration(livemode: bool) -> str | None:
    """The Customer Portal configuration stripe-setup made for this mode, if any."""
    return _read(_portal_key(livemode))


def _login_key(livemode: bool) -> str:
    return f"portal_login_url_{'live' if livemode else 'test'}"


def portal_login_url(livemode: bool) -> str | None:
    """The portal's login page for this mode, where donors sign in by proving their e-mail."""
    return _read(_login_key(livemode))


def _write(key: str, value: str | None) -> None:
    row = db.session.get(InstanceSetting, key)
    if value is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(InstanceSetting(key=key, value=value, updated_at=utcnow()))
    else:
        row.value = value
        row.updated_at = utcnow()


def remember_portal_configuration(
    livemode: bool, configuration_id: str, login_url: str | None = None
) -> None:
    """Keep the configuration id for portal sessions and its login page; the caller commits."""
    _write(_portal_key(livemode), configuration_id)
    usable = login_url and login_url.startswith(("https://", "http://")) and len(login_url) <= 255
    _write(_login_key(livemode), login_url if usable else None)
