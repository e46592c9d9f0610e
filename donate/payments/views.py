"""The give endpoints: start a Checkout from the widget, and welcome the donor back."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from donate import money
from donate.extensions import csrf, db, limiter
from donate.goal_view import BadLocale, PublicGoal, find_public_goal, parse_locale
from donate.models import Donation
from donate.origins import origin_of
from donate.payments import checkout, give_limits, inbox, portal_access
from donate.payments.events import EventApplier
from donate.payments.instance import portal_configuration, portal_login_url
from donate.payments.stripe import PaymentProviderError, gateway, limit_stripe_time
from donate.widget.amount_input import explain_amount_error
from donate.widget.views import render_full_widget

give = Blueprint("give", __name__)

PORTAL_NOT_SET_UP = (
    "Managing a monthly gift online is not set up here yet. Please write to us and we will "
    "cancel or change your monthly gift for you."
)
PORTAL_SIGN_IN = (
    "For your security, a monthly gift can be managed from our thank-you page only for half an "
    "hour after paying, in the browser you paid with. Sign in to the donor portal with the "
    "e-mail address you gave to change or cancel it."
)
PORTAL_SIGN_IN_BY_LETTER = (
    "For your security, a monthly gift can be managed from our thank-you page only for half an "
    "hour after paying, in the browser you paid with. Please write to us and we will cancel or "
    "change your monthly gift for you."
)


def _limit(name: str) -> Any:
    return lambda: current_app.config[name]


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _our_origins() -> set[str]:
    """Our public origin; outside production also the one this request reached.

    The Host header is the client's to write, so production trusts PUBLIC_URL alone.
    """
    candidates = [origin_of(current_app.config["PUBLIC_URL"])]
    if current_app.config["DONATE_ENV"] != "production":
        candidates.append(origin_of(request.host_url))
    return {origin for origin in candidates if origin}


def _problem(
    message: str, status: int, *, public_goal: PublicGoal | None = None, field: str = "amount"
) -> tuple[Response, int] | tuple[str, int]:
    """Say what is wrong, as JSON for scripts and as a page for donors; nothing was recorded."""
    if _wants_json():
        return jsonify(error=message, field=field), status
    back = None
    if public_goal is not None:
        back = f"/g/{public_goal.goal.slug}"
    return render_template("give/problem.html", message=message, back=back), status


@give.post("/give/<slug>")
@csrf.exempt
@limiter.limit(_limit("GIVE_RATE_LIMIT_PER_IP"), key_func=give_limits.per_address_and_goal)
@limiter.limit(
    _limit("GIVE_RATE_LIMIT_PER_NETWORK"),
    key_func=give_limits.per_network_and_goal,
    deduct_when=give_limits.was_not_refused,
)
@limiter.limit(
    _limit("GIVE_RATE_LIMIT_PER_GOAL"),
    key_func=give_limits.per_goal,
    deduct_when=give_limits.was_not_refused,
)
def start(slug: str) -> ResponseReturnValue:
    """Validate a gift posted by our widget frame and send the donor to Stripe Checkout."""
    limit_stripe_time(float(current_app.config["STRIPE_GIVE_BUDGET_SECONDS"]))
    origin = request.headers.get("Origin")
    if not origin or origin_of(origin) not in _our_origins():
        return _problem("Please give from the donation form on our page.", 403, field="origin")
    public_goal = find_public_goal(slug)
    if public_goal is None:
        return _problem("We could not find this fundraiser.", 404, field="goal")
    form = {key: value for key, value in request.form.items()}
    try:
        locale = parse_locale(form.get("locale"), public_goal.site_locale)
    except BadLocale:
        locale = parse_locale(None, public_goal.site_locale)
    site_origins = public_goal.goal.site.allowed_origins or []
    source_url = checkout.allowed_source_url(form.get("source_url"), site_origins)
    try:
        gift = checkout.read_gift(public_goal, form, locale)
    except (checkout.GiftError, money.AmountError) as error:
        if isinstance(error, money.AmountError):
            message, field = explain_amount_error(error, public_goal, locale), "amount"
        else:
            message, field = str(error), error.field
        if _wants_json():
            return jsonify(error=message, field=field), 422
        # The widget again, with the sentence beside the amount and what the donor typed kept.
        return render_full_widget(
            public_goal,
            locale=locale,
            status=422,
            error=message,
            values=form,
            source_url=source_url,
        )
    try:
        url = checkout.start_checkout(
            public_goal,
            gift,
            source_url=source_url,
            public_url=current_app.config["PUBLIC_URL"],
            stripe=gateway(),
        )
    except PaymentProviderError as error:
        current_app.logger.warning("Checkout for %s failed: %s", slug, error)
        return _problem(error.user_message, 502, public_goal=public_goal, field="payment")
    if _wants_json():
        return jsonify(checkout_url=url), 201
    return redirect(url, code=303)


@give.get("/give/return")
@limiter.limit(_limit("GIVE_RETURN_RATE_LIMIT"))
def came_back() -> ResponseReturnValue:
    """Settle the donation Stripe says was paid (the webhook may already have), then thank."""
    session_id = (request.args.get("session_id") or "").strip()
    if not session_id.startswith("cs_") or len(session_id) > 255:
        abort(400, description="This link is missing its payment reference.")
    try:
        session = gateway().retrieve_checkout_session(session_id)
    except PaymentProviderError:
        # The donor may well have paid: never say "nothing was charged" here.
        return render_template("give/confirming.html"), 502
    applier = EventApplier(gateway())
    donation = applier.donation_for_session(session)
    if donation is None:
        abort(404, description="We could not find this gift.")
    if session.get("status") == "complete":
        applier.settle_session(
            donation, session, cause=f"return:{session_id}", event_type="checkout.session.completed"
        )
        db.session.commit()
        inbox.apply_deferred(applier)
    goal = donation.goal
    if session.get("mode") == "subscription" or donation.subscription_id:
        return _thanks_monthly(donation, session, session_id)
    return redirect(checkout.thanks_url(donation, current_app.config["PUBLIC_URL"], goal.slug), 303)


def _customer_id(session: dict[str, Any]) -> str | None:
    customer = session.get("customer")
    return customer if isinstance(customer, str) else (customer or {}).get("id")


def _thanks_monthly(donation: Donation, session: dict[str, Any], session_id: str) -> Response:
    """Thank a monthly donor; only the browser that paid may manage the gift from here."""
    granted = portal_access.granted_session(request) == session_id
    newly_granted = False
    if not granted and session.get("status") == "complete" and _customer_id(session):
        newly_granted = portal_access.claim_grant(session_id)
    goal = donation.goal
    response = make_response(
        render_template(
            "give/thanks_monthly.html",
            goal=goal,
            back=checkout.thanks_url(donation, current_app.config["PUBLIC_URL"], goal.slug),
            amount=money.format_amount(
                donation.amount_minor, donation.currency, donation.locale or "en"
            ),
            may_manage=granted or newly_granted,
            login_url=portal_login_url(gateway().livemode),
        )
    )
    if newly_granted:
        portal_access.give_grant(response, session_id)
    return response


def _portal_problem(message: str, status: int, login_url: str | None = None) -> tuple[str, int]:
    """Say why the portal cannot open; the donor has paid, so never "nothing was charged"."""
    return render_template("give/portal_problem.html", message=message, login_url=login_url), status


@give.post("/give/portal")
def customer_portal() -> ResponseReturnValue:
    """Send a monthly donor to Stripe's Customer Portal, where they can cancel."""
    stripe = gateway()
    session_id = portal_access.granted_session(request)
    if session_id is None:
        login_url = portal_login_url(stripe.livemode)
        message = PORTAL_SIGN_IN if login_url else PORTAL_SIGN_IN_BY_LETTER
        return _portal_problem(message, 403, login_url)
    configuration = portal_configuration(stripe.livemode)
    if not configuration:
        current_app.logger.warning("No Customer Portal configuration: run stripe-setup.")
        return _portal_problem(PORTAL_NOT_SET_UP, 503)
    try:
        session = stripe.retrieve_checkout_session(session_id)
        customer_id = _customer_id(session)
        if not customer_id:
            abort(404, description="We could not find the monthly gift to manage.")
        portal = stripe.create_portal_session(
            customer=customer_id,
            return_url=current_app.config["PUBLIC_URL"] + url_for("public.home"),
            configuration=configuration,
        )
    except PaymentProviderError as error:
        return _portal_problem(error.user_message, 502)
    return redirect(portal["url"], 303)


# The pages after payment carry the Checkout session: never cached, framed or sent on as referrer.
_AFTER_PAYMENT = frozenset({"give.came_back", "give.customer_portal"})


@give.after_request
def _private_after_payment(response: Response) -> Response:
    if request.endpoint in _AFTER_PAYMENT:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        response.headers["X-Frame-Options"] = "DENY"
    return response
