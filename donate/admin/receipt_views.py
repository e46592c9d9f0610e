"""An owner's resend of a donor's receipt, from the donation's page."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_wtf import FlaskForm

from donate.admin import audit, scoping
from donate.admin.blueprint import admin
from donate.admin.scoping import requires
from donate.admin.views import Page
from donate.extensions import db
from donate.models import Role
from donate.receipts.numbers import queue_copy


class ResendReceiptForm(FlaskForm):
    """Only the CSRF token: the button is the whole form."""


@admin.post("/sites/<int:site_id>/donations/<int:donation_id>/resend-receipt")
@requires(Role.OWNER)
def resend_receipt(donation_id: int) -> Page:
    """Queue the receipt again, marked as a copy, for the worker to send."""
    gift = scoping.donation_or_404(donation_id)
    if not ResendReceiptForm().validate_on_submit():
        flash("The form expired; please send it again.", "error")
    elif queue_copy(gift):
        audit.record("receipt.resend", f"donation:{gift.id}", receipt_number=gift.receipt_number)
        db.session.commit()
        flash(f"Receipt {gift.receipt_number} is on its way to {gift.donor_email} again.", "info")
    else:
        flash("Only a counted gift with a donor e-mail has a receipt to send again.", "error")
    return redirect(url_for("admin.donation", donation_id=gift.id))
