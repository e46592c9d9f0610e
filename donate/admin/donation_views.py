"""Dashboard pages for donations: the list and export, one gift's history, refunds, offline gifts,
corrections, hidden messages and erasure."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from donate import ledger, money
from donate.admin import donors, export, gifts, refunds, scoping
from donate.admin.blueprint import admin
from donate.admin.donations import Filters, history, page_of
from donate.admin.forms import (
    CheckRefundsForm,
    CorrectGiftForm,
    DonationFilterForm,
    EraseDonorForm,
    MessageVisibilityForm,
    OfflineGiftForm,
    RefundForm,
    VoidGiftForm,
)
from donate.admin.local_time import today
from donate.admin.scoping import current_site, requires
from donate.admin.views import Page
from donate.extensions import db
from donate.models import Donation, DonationKind, DonationState, RefundStatus, Role


def _filters() -> tuple[DonationFilterForm, Filters]:
    """Read the list's filters from the query string; a field that does not parse is ignored."""
    form = DonationFilterForm(request.args, goals=scoping.site_goals())
    form.validate()

    def valid(field: Any) -> Any:
        return None if field.errors else field.data

    state, kind = valid(form.state), valid(form.kind)
    return form, Filters(
        goal_id=form.goal_id if not form.goal.errors else None,
        state=DonationState(state) if state else None,
        kind=DonationKind(kind) if kind else None,
        start=valid(form.start),
        end=valid(form.end),
        search=valid(form.q) or "",
    )


def _kept_filters(form: DonationFilterForm) -> dict[str, str]:
    """The filters to carry into page and export links: only the form's own fields, as typed.

    Anything else in the query string (_external, _anchor, site_id...) would steer url_for.
    """
    return {
        field.name: str(field.raw_data[0]) for field in form if field.raw_data and field.raw_data[0]
    }


@admin.get("/sites/<int:site_id>/donations")
def donations() -> Page:
    """The site's donations, filtered and a page at a time."""
    form, filters = _filters()
    page = page_of(current_site(), filters, request.args.get("page", 1, type=int))
    return render_template("admin/donations.html", form=form, page=page, query=_kept_filters(form))


@admin.get("/sites/<int:site_id>/donations.csv")
def export_donations() -> Response:
    """The filtered donations as a CSV file, streamed."""
    _form, filters = _filters()
    site = current_site()
    response = Response(
        stream_with_context(export.stream(site, filters)), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{export.filename(site, filters)}"'
    )
    return response


def _detail(donation: Donation, status: int = 200, **forms: Any) -> Page:
    """The donation page, with any form that failed keeping its input and errors."""
    site = current_site()
    locale = site.default_locale
    refundable = refunds.refundable_minor(donation)
    forms.setdefault(
        "refund_form",
        RefundForm(
            formdata=None,
            data={"request_key": refunds.new_request_key()},
            currency=donation.currency,
            locale=locale,
            refundable_minor=refundable,
        ),
    )
    forms.setdefault(
        "correct_form", CorrectGiftForm(formdata=None, currency=donation.currency, locale=locale)
    )
    forms.setdefault("void_form", VoidGiftForm(formdata=None))
    forms.setdefault(
        "message_form",
        MessageVisibilityForm(
            formdata=None, data={"visibility": "shown" if donation.message_hidden else "hidden"}
        ),
    )
    forms.setdefault("erase_form", EraseDonorForm(formdata=None))
    forms.setdefault("check_form", CheckRefundsForm(formdata=None))
    return render_template(
        "admin/donation.html",
        donation=donation,
        goal=donation.goal,
        method=gifts.method_label(donation),
        history=history(site, donation),
        refundable_minor=refundable,
        can_refund=refunds.can_refund(donation),
        waiting_refunds=ledger.open_requests(donation.id),
        **forms,
    ), status


@admin.get("/sites/<int:site_id>/donations/<int:donation_id>")
def donation(donation_id: int) -> Page:
    """One gift: amounts, donor, source, refunds, disputes and its whole history."""
    return _detail(scoping.donation_or_404(donation_id))


def _back_to(donation: Donation) -> Page:
    return redirect(url_for("admin.donation", donation_id=donation.id))


def _refund_news(shown: str, news: refunds.RefundNews) -> str:
    """Tell the user whether the total already dropped, waits for Stripe, or nobody knows yet."""
    if news.repeated:
        return f"This refund of {shown} was already asked for; it is {news.status.value}."
    if news.status == RefundStatus.SUCCEEDED:
        return f"Stripe refunded {shown}; the goal's total is lowered."
    if news.status == RefundStatus.REQUESTED:
        return (
            f"Stripe did not answer in time, so the refund of {shown} may have gone through. "
            f"It stays reserved and will be confirmed when Stripe reports it; "
            f"\u201cCheck with Stripe\u201d below asks now."
        )
    return (
        f"Stripe is refunding {shown}. The goal's total changes when Stripe confirms "
        f"the refund, usually within a minute."
    )


@admin.post("/sites/<int:site_id>/donations/<int:donation_id>/refund")
@requires(Role.EDITOR)
def refund(donation_id: int) -> Page:
    """Ask Stripe to refund all or part of a gift."""
    gift = scoping.donation_or_404(donation_id)
    locale = current_site().default_locale
    earlier = refunds.earlier_request(gift, request.form.get("request_key", ""))
    if earlier is not None:  # the same form sent again: never a second request
        shown = money.format_amount(earlier.amount_minor, gift.currency, locale)
        flash(_refund_news(shown, refunds.RefundNews(earlier.status, 0, repeated=True)), "info")
        return _back_to(gift)
    form = RefundForm(
        currency=gift.currency, locale=locale, refundable_minor=refunds.refundable_minor(gift)
    )
    if form.validate_on_submit() and form.amount_minor is not None:
        try:
            news = refunds.request_refund(
                gift,
                amount_minor=form.amount_minor,
                reason=form.reason.data,
                request_key=form.request_key.data,
            )
        except refunds.RefundRefused as problem:
            db.session.rollback()
            form.amount.errors.append(str(problem))
        else:
            shown = money.format_amount(news.amount_minor, gift.currency, locale)
            flash(_refund_news(shown, news), "info")
            return _back_to(gift)
    return _detail(gift, 422, refund_form=form)


@admin.post("/sites/<int:site_id>/donations/<int:donation_id>/refund-check")
@requires(Role.EDITOR)
def check_refunds(donation_id: int) -> Page:
    """Ask Stripe what became of refunds whose answer never came."""
    gift = scoping.donation_or_404(donation_id)
    if not CheckRefundsForm().validate_on_submit():
        flash("The form has expired; open the donation again.", "error")
        return _back_to(gift)
    try:
        answers = refunds.check_with_stripe(gift)
    except refunds.RefundRefused as problem:
        flash(str(problem), "error")
        return _back_to(gift)
    flash(_check_news(answers), "info")
    return _back_to(gift)


def _check_news(answers: list[Any]) -> str:
    """One sentence for what the check found."""
    if not answers:
        return "No refund is waiting for Stripe's answer."
    parts = []
    for answer in answers:
        if answer.status == RefundStatus.REQUESTED:
            parts.append("Stripe has no record of the refund yet; check again in a few minutes.")
        elif answer.status == RefundStatus.REFUSED:
            parts.append("Stripe has no record of the refund: nothing was refunded.")
        else:
            parts.append(f"Stripe has the refund: it is {answer.status.value}.")
    return " ".join(parts)


@admin.post("/sites/<int:site_id>/donations/<int:donation_id>/message")
@requires(Role.EDITOR)
def message_visibility(donation_id: int) -> Page:
    """Hide a donor's public message from the goal page, or show it again."""
    gift = scoping.donation_or_404(donation_id)
    form = MessageVisibilityForm()
    if not form.validate_on_submit():
        return _detail(gift, 422, message_form=form)
    if gifts.set_message_hidden(gift, form.hidden):
        db.session.commit()
    flash("The message is hidden." if form.hidden else "The message is shown again.", "info")
    return _back_to(gift)


@admin.post("/sites/<int:site_id>/donations/<int:donation_id>/correct")
@requires(Role.EDITOR)
def correct_gift(donation_id: int) -> Page:
    """Correct an offline gift's amount, with a reason."""
    gift = scoping.donation_or_404(donation_id)
    form = CorrectGiftForm(currency=gift.currency, locale=current_site().default_locale)
    if form.validate_on_submit() and form.amount_minor is not None:
        try:
            gifts.correct(gift, form.amount_minor, form.reason.data)
        except ledger.LedgerError as problem:
            db.session.rollback()
            form.amount.errors.append(str(problem))
        else:
            db.session.commit()
            flash("The amount is corrected and the goal's total with it.", "info")
            return _back_to(gift)
    return _detail(gift, 422, correct_form=form)


@admin.post("/sites/<int:site_id>/donations/<int:donation_id>/void")
@requires(Role.EDITOR)
def void_gift(donation_id: int) -> Page:
    """Void an offline gift entered by mistake, with a reason."""
    gift = scoping.donation_or_404(donation_id)
    form = VoidGiftForm()
    if form.validate_on_submit():
        try:
            gifts.void(gift, form.reason.data)
        except ledger.LedgerError as problem:
            db.session.rollback()
            form.reason.errors.append(str(problem))
        else:
            db.session.commit()
            flash("The gift is voided; it no longer counts towards the goal.", "info")
            return _back_to(gift)
    return _detail(gift, 422, void_form=form)


@admin.post("/sites/<int:site_id>/donations/<int:donation_id>/erase")
@requires(Role.EDITOR)
def erase_donor(donation_id: int) -> Page:
    """Erase the donor's personal data from all their gifts to this site; amounts stay."""
    gift = scoping.donation_or_404(donation_id)
    form = EraseDonorForm()
    if not form.validate_on_submit():
        return _detail(gift, 422, erase_form=form)
    count = donors.erase(current_site(), gift)
    db.session.commit()
    flash(
        f"The donor's personal data is erased from {count} gift(s); the amounts still count.",
        "info",
    )
    return _back_to(gift)


@admin.route("/sites/<int:site_id>/donations/offline", methods=["GET", "POST"])
@requires(Role.EDITOR)
def offline_gift() -> Page:
    """Enter a gift received as cash, cheque or bank transfer."""
    site = current_site()
    goals = scoping.site_goals()
    form = OfflineGiftForm(site=site, goals=goals, data={"received_on": today(site.time_zone)})
    if not goals:
        flash("Create a goal first: an offline gift counts towards a goal.", "error")
        return redirect(url_for("admin.new_goal"))
    if form.validate_on_submit():
        gift = gifts.record_offline(site, form)
        if gift is not None:
            db.session.commit()
            flash("The offline gift is recorded and counts towards the goal.", "info")
            return _back_to(gift)
        db.session.rollback()
    return render_template("admin/offline_gift.html", form=form), (
        422 if form.is_submitted() else 200
    )
