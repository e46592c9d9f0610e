"""Gifts entered by hand (cash, cheques, transfers) and their corrections, through the ledger."""

from __future__ import annotations

from flask_login import current_user

from donate import ledger
from donate.admin import audit
from donate.admin.forms import OFFLINE_METHODS, OfflineGiftForm
from donate.admin.local_time import day_start
from donate.models import Donation, DonationKind, Site


def cause() -> str:
    """How the ledger names a change made by the signed-in user."""
    return audit.actor_of(current_user)


def record_offline(site: Site, form: OfflineGiftForm) -> Donation | None:
    """Count a gift received outside Stripe; None (errors on the form) when it is refused."""
    goal = form.chosen_goal
    assert form.amount_minor is not None
    note = (form.note.data or "").strip()
    try:
        donation = ledger.record_succeeded_gift(
            goal,
            amount_minor=form.amount_minor,
            kind=DonationKind.OFFLINE,
            cause=cause(),
            donor_email=form.donor_email.data or None,
            public_name=(form.donor_name.data or "").strip() or None,
            public_message=(form.public_message.data or "").strip() or None,
            anonymous=bool(form.anonymous.data),
            offline_method=form.method.data,
            note=note or None,
            created_at=day_start(form.received_on.data, site.time_zone),
        )
    except ledger.LedgerError as error:
        form.amount.errors.append(str(error))
        return None
    audit.record(
        "gift.offline",
        f"donation:{donation.id}",
        goal=goal.slug,
        amount_minor=donation.amount_minor,
        currency=donation.currency,
        method=form.method.data,
    )
    return donation


def correct(donation: Donation, amount_minor: int, reason: str) -> bool:
    """Change an offline gift's amount; LedgerError says why it cannot be."""
    before = donation.amount_minor
    changed = ledger.correct_offline_gift(
        donation.id, amount_minor=amount_minor, reason=reason, cause=cause()
    )
    if changed:
        audit.record(
            "gift.correct",
            f"donation:{donation.id}",
            before_minor=before,
            after_minor=amount_minor,
            currency=donation.currency,
            reason=reason.strip(),
        )
    return changed


def void(donation: Donation, reason: str) -> bool:
    """Take an offline gift out of the totals; LedgerError says why it cannot be."""
    amount = donation.amount_minor
    voided = ledger.void_donation(donation.id, reason=reason, cause=cause())
    if voided:
        audit.record(
            "gift.void",
            f"donation:{donation.id}",
            amount_minor=amount,
            currency=donation.currency,
            reason=reason.strip(),
        )
    return voided


def method_of(donation: Donation) -> str:
    """How the money came: the offline method, "stripe" for card gifts, "" when unknown."""
    if donation.kind == DonationKind.OFFLINE:
        return donation.offline_method or ""
    if donation.kind in (DonationKind.ONE_TIME, DonationKind.MONTHLY):
        return "stripe"
    return ""


def method_label(donation: Donation) -> str:
    """The method as the offline gift form names it ("Bank transfer"), for the donation page."""
    method = method_of(donation)
    return OFFLINE_METHODS.get(method, "Stripe" if method == "stripe" else "")


def set_message_hidden(donation: Donation, hidden: bool) -> bool:
    """Hide a donor's public message from the goal page, or show it again."""
    if donation.message_hidden == hidden:
        return False
    donation.message_hidden = hidden
    action = "gift.message_hidden" if hidden else "gift.message_shown"
    audit.record(action, f"donation:{donation.id}")
    return True
