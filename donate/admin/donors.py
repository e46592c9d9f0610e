"""Erasing a donor's personal data on request; amounts, states and totals stay in the ledger."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from donate.admin import audit
from donate.admin.donations import events_naming, stripe_ids
from donate.extensions import db
from donate.models import Donation, Goal, Site
from donate.outbox import queue

ERASED = "erased"

# Objects whose listed fields (all of them when None) are a person's: name, address, phone...
_PERSONAL_OBJECTS: dict[str, tuple[str, ...] | None] = {
    "customer_details": ("email", "name", "phone", "address"),
    "billing_details": None,
}
# Fields that are personal wherever they appear; amounts and ids are never among them.
_PERSONAL_KEYS = frozenset(
    {
        "receipt_email",
        "customer_email",
        "customer_name",
        "customer_phone",
        "customer_address",
        "customer_shipping",
        "shipping",
        "shipping_details",
    }
)


def _same_donor(site: Site, donation: Donation) -> list[Donation]:
    """Every donation to the site's goals by the same person (by donor key or e-mail)."""
    conditions = [Donation.id == donation.id]
    if donation.donor_key:
        conditions.append(Donation.donor_key == donation.donor_key)
    if donation.donor_email:
        conditions.append(sa.func.lower(Donation.donor_email) == donation.donor_email.lower())
    return list(
        db.session.execute(
            sa.select(Donation)
            .join(Goal, Goal.id == Donation.goal_id)
            .where(Goal.site_id == site.id, sa.or_(*conditions))
            .order_by(Donation.id)
        ).scalars()
    )


def _erased(value: Any) -> Any:
    """What a personal field holds after erasure: a marker for text, nothing for the rest."""
    return ERASED if isinstance(value, str) else None


def _scrub(node: Any) -> bool:
    """Clear the known personal fields, by key, anywhere in a Stripe object; say if any changed.

    Values are never compared, so a donor called "succeeded" leaves every status alone.
    """
    changed = False
    if isinstance(node, list):
        for item in node:
            changed = _scrub(item) or changed
    if not isinstance(node, dict):
        return changed
    for key, value in node.items():
        if key in _PERSONAL_OBJECTS and isinstance(value, dict):
            for field in _PERSONAL_OBJECTS[key] or list(value):
                if value.get(field) not in (None, ERASED):
                    value[field] = _erased(value[field])
                    changed = True
        elif key in _PERSONAL_KEYS:
            if value not in (None, ERASED):
                node[key] = _erased(value)
                changed = True
        else:
            changed = _scrub(value) or changed
    return changed


def _scrub_inbox(gifts: list[Donation]) -> int:
    """Clear personal fields in the stored Stripe events about these gifts; count rows changed.

    Only events naming one of the gifts' own Stripe ids are read, so other sites' stay as sent.
    """
    ids = sorted({value for gift in gifts for value in stripe_ids(gift, with_subscription=True)})
    changed = 0
    for event in events_naming(ids):
        try:
            payload = json.loads(event.payload)
        except ValueError:
            continue
        if _scrub(payload):
            event.payload = json.dumps(payload)
            changed += 1
    db.session.flush()
    return changed


def erase(site: Site, donation: Donation) -> int:
    """Remove name, e-mail, messages and notes from all the donor's gifts; return how many."""
    gifts = _same_donor(site, donation)
    for gift in gifts:
        gift.donor_email = None
        gift.public_name = None
        gift.public_message = None
        gift.note = None
        gift.anonymous = True
    db.session.flush()
    scrubbed = _scrub_inbox(gifts)
    messages = queue.forget_donations(gift.id for gift in gifts)
    audit.record(
        "donor.erase",
        f"donation:{donation.id}",
        donations=[gift.id for gift in gifts],
        stripe_events_scrubbed=scrubbed,
        outbox_messages_deleted=messages,
    )
    return len(gifts)
