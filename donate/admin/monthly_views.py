"""The monthly donors pages: the list, one donor with its instalments, and cancelling."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from donate.admin import monthly_donors, scoping, subscription_cancel
from donate.admin.blueprint import admin
from donate.admin.monthly_forms import CancelMonthlyForm, MonthlyFilterForm
from donate.admin.scoping import current_site, requires
from donate.admin.views import Page
from donate.extensions import db
from donate.models import Role


@admin.get("/sites/<int:site_id>/monthly")
def monthly_donors_list() -> Page:
    """The site's monthly donors, newest first, optionally of one goal."""
    form = MonthlyFilterForm(request.args, goals=scoping.site_goals())
    form.validate()
    goal_id = form.goal_id
    page = monthly_donors.page_of(
        current_site(), goal_id=goal_id, number=request.args.get("page", 1, type=int)
    )
    query = {"goal": str(goal_id)} if goal_id is not None else {}
    return render_template("admin/monthly.html", form=form, page=page, query=query)


def _donor_or_404(subscription_id: int) -> monthly_donors.MonthlyDonor:
    scoping.real_id_or_404(subscription_id)
    donor = monthly_donors.donor_or_none(current_site(), subscription_id)
    if donor is None:
        abort(404)
    return donor


@admin.get("/sites/<int:site_id>/monthly/<int:subscription_id>")
def monthly_donor(subscription_id: int) -> Page:
    """One monthly gift: where it stands, its instalments, and the cancel buttons."""
    donor = _donor_or_404(subscription_id)
    return render_template(
        "admin/monthly_donor.html",
        donor=donor,
        instalments=monthly_donors.instalments_of(donor.subscription),
        cancel_form=CancelMonthlyForm(formdata=None),
    )


@admin.post("/sites/<int:site_id>/monthly/<int:subscription_id>/cancel")
@requires(Role.EDITOR)
def cancel_monthly(subscription_id: int) -> Page:
    """Ask Stripe to cancel a monthly gift now or at the end of the paid period."""
    donor = _donor_or_404(subscription_id)
    back = redirect(url_for("admin.monthly_donor", subscription_id=subscription_id))
    form = CancelMonthlyForm()
    if not form.validate_on_submit():
        flash("The form has expired; open the monthly gift again.", "error")
        return back
    when = form.when.data
    try:
        subscription_cancel.request_cancel(donor, when=when)
    except subscription_cancel.CancelRefused as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return back
    flash(
        "Stripe accepted the cancellation"
        + (" at the end of the paid period" if when == "period_end" else "")
        + ". It shows as requested until Stripe's confirmation arrives, usually within a minute.",
        "info",
    )
    return back
