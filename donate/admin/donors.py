"""Erasing a donor's personal data on request; amounts, states and totals stay in the ledger."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from donate.admin import audit
from donate.extensions import db
from donate.models import Donation, Goal, Site, StripeEvent

ERASED = "erased"


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


def _scrub_inbox(values: set[str]) -> int:
    """Replace the donor's address and names inside stored Stripe payloads; count rows changed.

    Only whole JSON string values are replaced (quotes included), so keys and other text stay.
    """
    changed = 0
    for value in sorted(values):
        for quoted in {json.dumps(value), json.dumps(value, ensure_ascii=False)}:
            result: Any = db.session.execute(
                sa.update(StripeEvent)
                .where(StripeEvent.payload.contains(quoted, autoescape=True))
                .values(payload=sa.func.replace(StripeEvent.payload, quoted, json.dumps(ERASED)))
                .execution_options(synchronize_session=False)
            )
            changed += result.rowcount or 0
    return changed


def erase(site: Site, donation: Donation) -> int:
    """Remove name, e-mail, messages and notes from all the donor's gifts; return how many."""
    gifts = _same_donor(site, donation)
    personal: set[str] = set()
    for gift in gifts:
        for value in (gift.donor_email, gift.public_name):
            if value and len(value.strip()) >= 3:
                personal.add(value)
        if gift.donor_email:
            personal.add(gift.donor_email.lower())
        gift.donor_email = None
        gift.public_name = None
        gift.public_message = None
        gift.note = None
        gift.anonymous = True
    db.session.flush()
    scrubbed = _scrub_inbox(personal)
    audit.record(
        "donor.erase",
        f"donation:{donation.id}",
        donations=[gift.id for gift in gifts],
        stripe_events_scrubbed=scrubbed,
    )
    return len(gifts)
