"""Serve the hosted pages a donor sees: the Checkout payment page and the Customer Portal."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import Blueprint, abort, current_app, redirect, render_template_string, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from sandbox import objects, simulation
from sandbox.errors import StripeError

if TYPE_CHECKING:
    from sandbox.store import Account

bp = Blueprint("pages", __name__)

LAYOUT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }} · Stripe sandbox</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; color: #1a1a1a; background: #f6f8fa;
         margin: 0; padding: 2rem 1rem; }
  main { max-width: 34rem; margin: 0 auto; background: #fff; border: 1px solid #d0d7de;
         border-radius: 8px; padding: 1.5rem 2rem; }
  .banner { background: #fff4ce; border: 1px solid #e0c200; border-radius: 6px;
            padding: .5rem .75rem; font-size: .9rem; margin-bottom: 1rem; }
  table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
  td { padding: .35rem 0; border-bottom: 1px solid #eee; }
  td.amount { text-align: right; white-space: nowrap; }
  tr.total td { font-weight: 600; border-bottom: 0; }
  label { display: block; margin: .5rem 0 .2rem; font-size: .9rem; }
  input[type=email], input[type=text] { width: 100%; box-sizing: border-box; padding: .45rem;
         border: 1px solid #8c959f; border-radius: 4px; font: inherit; }
  button { display: block; width: 100%; margin-top: .75rem; padding: .65rem; font: inherit;
           border-radius: 6px; border: 1px solid #8c959f; background: #fff; cursor: pointer; }
  button.primary { background: #0a66c2; border-color: #0a66c2; color: #fff; font-weight: 600; }
  .error { background: #ffebe9; border: 1px solid #cf222e; border-radius: 6px;
           padding: .5rem .75rem; }
  .notice { background: #dafbe1; border: 1px solid #1a7f37; border-radius: 6px;
            padding: .5rem .75rem; }
  .muted { color: #57606a; font-size: .9rem; }
  a { color: #0a66c2; }
</style>
</head>
<body>
<main>
<p class="banner" role="note"><strong>Stripe sandbox — payments are simulated.</strong>
No card is charged and no money moves.</p>
{{ body }}
</main>
</body>
</html>
"""

CHECKOUT = """
<h1>{{ heading }}</h1>
<table>
{% for item in items %}
<tr><td>{{ item.description }}{% if item.quantity > 1 %} × {{ item.quantity }}{% endif %}</td>
<td class="amount">{{ money(item.amount_total, item.currency) }}{{ per(item) }}</td></tr>
{% endfor %}
<tr class="total"><td>Total</td>
<td class="amount">{{ money(session.amount_total, session.currency) }}{{ per(items[0]) }}</td></tr>
</table>
{% if message %}<p class="error" role="alert">{{ message }}</p>{% endif %}
{% if session.status == "open" %}
<form method="post">
  {% if session.customer_email %}
  <p class="muted">Paying as {{ session.customer_email }}</p>
  {% else %}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" value="{{ email }}" required>
  {% endif %}
  <label for="name">Name on card</label>
  <input id="name" name="name" type="text" value="{{ name }}" autocomplete="off">
  <button class="primary" name="outcome" value="succeeded">{{ pay_label }}</button>
  <button name="outcome" value="declined">Pay with a declining card</button>
  <button name="outcome" value="delayed">Pay by bank debit (delayed)</button>
  {% if session.mode == "subscription" %}
  <button name="outcome" value="requires_action">Card needing 3-D Secure (not completed)</button>
  {% endif %}
</form>
{% if session.cancel_url %}<p><a href="{{ session.cancel_url }}">Cancel and go back</a></p>
{% endif %}
{% elif session.status == "complete" %}
<p class="notice">This payment is complete.</p>
{% if success_url %}<p><a href="{{ success_url }}">Continue</a></p>{% endif %}
{% else %}
<p class="error">This checkout session has expired. Nothing was charged.</p>
{% if session.cancel_url %}<p><a href="{{ session.cancel_url }}">Go back</a></p>{% endif %}
{% endif %}
<p class="muted">Session {{ session.id }}</p>
"""

PORTAL = """
<h1>Your subscriptions</h1>
{% if notice %}<p class="notice" role="status">{{ notice }}</p>{% endif %}
{% if message %}<p class="error" role="alert">{{ message }}</p>{% endif %}
<p class="muted">{{ customer.email or customer.id }}</p>
{% for sub in subscriptions %}
<section>
<h2>{{ describe(sub) }}</h2>
<p>Status: {{ sub.status }}.
{% if sub.status == "canceled" %}Ended {{ date(sub.ended_at) }}.
{% elif sub.cancel_at_period_end %}Cancels on {{ date(sub.cancel_at) }}; no further payments.
{% else %}Renews on {{ date(sub["items"].data[0].current_period_end) }}.{% endif %}</p>
{% if sub.status != "canceled" %}
<form method="post">
  <input type="hidden" name="subscription" value="{{ sub.id }}">
  {% if sub.cancel_at_period_end %}
  <button class="primary" name="action" value="renew">Don't cancel</button>
  {% else %}
  <button class="primary" name="action" value="cancel_at_period_end">Cancel at the end of the
    period</button>
  {% endif %}
  <button name="action" value="cancel_now">Cancel now</button>
</form>
{% endif %}
</section>
{% else %}
<p>No subscriptions.</p>
{% endfor %}
{% if return_url %}<p><a href="{{ return_url }}">Return to the site</a></p>{% endif %}
"""

PORTAL_LOGIN = """
<h1>Sign in to manage your subscriptions</h1>
{% if sent %}
<p role="status">If {{ email }} belongs to a customer, a sign-in link is on its way.</p>
<p class="banner">The sandbox sends no e-mail; here is the link Stripe would send:
{% if link %}<a href="{{ link }}">open your subscriptions</a>{% else %}none (no customer has
this e-mail address){% endif %}.</p>
{% else %}
<form method="post">
  <label for="email">E-mail address</label>
  <input id="email" name="email" type="email" required>
  <button class="primary" type="submit">Send a sign-in link</button>
</form>
{% endif %}
"""


def _page(title: str, template: str, status: int = 200, **context: object) -> tuple[str, int]:
    """Render one of the inline templates inside the common layout."""
    body = render_template_string(template, money=objects.format_amount, **context)
    return render_template_string(LAYOUT, title=title, body=Markup(body)), status


def _date(timestamp: int | None) -> str:
    """Format a unix time as a plain UTC date."""
    if not timestamp:
        return "—"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%d %B %Y")


def _per(item: dict) -> str:
    """Return ' per month' (or the item's interval) for recurring prices."""
    recurring = (item.get("price") or {}).get("recurring")
    if not recurring:
        return ""
    count = recurring.get("interval_count") or 1
    return (
        f" per {recurring['interval']}"
        if count == 1
        else (f" every {count} {recurring['interval']}s")
    )


def _owned(object_id: str, kind: str) -> tuple[Account, dict]:
    """Return (account, object) for a page's object id, or a 404 page."""
    store = current_app.extensions["sandbox"].store
    account = store.owner(object_id)
    found = account.get(kind, object_id) if account else None
    if account is None or found is None:
        abort(404)
    return account, found


# --- checkout --------------------------------------------------------------


def _checkout_page(
    account: Account,
    session: dict,
    message: str | None = None,
    status: int = 200,
    email: str = "",
    name: str = "",
) -> tuple[str, int]:
    """Render the payment page for a session, with a decline or error message if any."""
    items = account.private(session["id"]).get("line_items", [])
    total = objects.format_amount(session["amount_total"], session["currency"])
    verbs = {"donate": "Donate", "book": "Book", "subscribe": "Subscribe"}
    verb = verbs.get(
        session.get("submit_type") or "",
        "Subscribe" if session["mode"] == "subscription" else "Pay",
    )
    heading = (
        "Donate"
        if session.get("submit_type") == "donate"
        else ("Subscribe" if session["mode"] == "subscription" else "Checkout")
    )
    return _page(
        heading,
        CHECKOUT,
        status,
        heading=heading,
        session=session,
        items=items,
        message=message,
        email=email or simulation.DEFAULT_EMAIL,
        name=name,
        pay_label=f"{verb} {total}{_per(items[0]) if items else ''}",
        per=_per,
        success_url=simulation.success_redirect(session),
    )


@bp.get("/pay/<session_id>")
def checkout_page(session_id: str) -> tuple[str, int]:
    sandbox = current_app.extensions["sandbox"]
    account, session = _owned(session_id, "checkout.session")
    with sandbox.store.lock:
        if session["status"] == "open" and session["expires_at"] <= objects.now():
            with sandbox.store.change():
                simulation.expire_overdue(account, session)
        return _checkout_page(account, session)


@bp.post("/pay/<session_id>")
def checkout_submit(session_id: str) -> ResponseReturnValue:
    sandbox = current_app.extensions["sandbox"]
    account, session = _owned(session_id, "checkout.session")
    form = request.form
    try:
        with sandbox.store.change():
            result = simulation.pay_session(
                account,
                session,
                form.get("outcome", "succeeded"),
                form.get("email") or None,
                form.get("name") or None,
            )
    except StripeError as error:
        with sandbox.store.lock:
            return _checkout_page(account, session, error.message, 400)
    if result["outcome"] == "requires_action":
        with sandbox.store.lock:
            return _checkout_page(
                account,
                session,
                result["message"],
                402,
                form.get("email", ""),
                form.get("name", ""),
            )
    if result["outcome"] == "declined":
        with sandbox.store.lock:
            return _checkout_page(
                account,
                session,
                f"{result['message']} Nothing was charged; try another card.",
                402,
                form.get("email", ""),
                form.get("name", ""),
            )
    if result["outcome"] == "delayed":
        sandbox.settle_later(session_id)
    if result["redirect_url"]:
        return redirect(result["redirect_url"], code=303)
    return redirect(f"/pay/{session_id}", code=303)


# --- customer portal -------------------------------------------------------


def _describe(subscription: dict) -> str:
    """Summarise what a subscription bills, e.g. '10.00 EUR per month'."""
    parts = []
    for item in subscription["items"]["data"]:
        amount = item["price"]["unit_amount"] * item["quantity"]
        parts.append(objects.format_amount(amount, item["price"]["currency"]) + _per(item))
    return ", ".join(parts)


def _portal_page(
    account: Account,
    portal: dict,
    notice: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """Render the customer's subscriptions with their cancel buttons."""
    customer = account.require("customer", portal["customer"])
    subscriptions = [
        s for s in reversed(account.all("subscription")) if s["customer"] == customer["id"]
    ]
    return _page(
        "Your subscriptions",
        PORTAL,
        status,
        customer=customer,
        subscriptions=subscriptions,
        notice=notice,
        message=message,
        return_url=portal.get("return_url"),
        date=_date,
        describe=_describe,
    )


@bp.get("/portal/<portal_id>")
def portal_page(portal_id: str) -> tuple[str, int]:
    account, portal = _owned(portal_id, "billing_portal.session")
    notices = {
        "cancel_at_period_end": "Your subscription will end at the end of the period.",
        "cancel_now": "Your subscription is canceled.",
        "renew": "Your subscription will continue.",
    }
    with current_app.extensions["sandbox"].store.lock:
        return _portal_page(account, portal, notices.get(request.args.get("done", "")))


@bp.post("/portal/<portal_id>")
def portal_submit(portal_id: str) -> ResponseReturnValue:
    sandbox = current_app.extensions["sandbox"]
    account, portal = _owned(portal_id, "billing_portal.session")
    action = request.form.get("action", "")
    subscription = account.get("subscription", request.form.get("subscription"))
    if subscription is None or subscription["customer"] != portal["customer"]:
        return _portal_page(account, portal, message="That subscription is not yours.", status=404)
    try:
        with sandbox.store.change():
            if action == "cancel_now":
                simulation.cancel_subscription(account, subscription)
            elif action in ("cancel_at_period_end", "renew"):
                simulation.update_subscription(
                    account,
                    subscription,
                    {"cancel_at_period_end": "true" if action != "renew" else "false"},
                )
            else:
                raise StripeError("Unknown action.")
    except StripeError as error:
        return _portal_page(account, portal, message=error.message, status=400)
    after = (portal.get("flow") or {}).get("after_completion") or {}
    if after.get("type") == "redirect" and (after.get("redirect") or {}).get("return_url"):
        return redirect(after["redirect"]["return_url"], code=303)
    return redirect(f"/portal/{portal_id}?done={action}", code=303)


@bp.get("/p/login/<configuration_id>")
def portal_login_page(configuration_id: str) -> ResponseReturnValue:
    """Stripe's portal sign-in page: the customer asks for a link by e-mail."""
    account, configuration = _owned(configuration_id, "billing_portal.configuration")
    if not configuration["login_page"]["enabled"]:
        abort(404)
    return _page("Sign in", PORTAL_LOGIN, sent=False)


@bp.post("/p/login/<configuration_id>")
def portal_login_submit(configuration_id: str) -> ResponseReturnValue:
    """Stripe e-mails the customer a portal link; the sandbox shows it on the page instead."""
    sandbox = current_app.extensions["sandbox"]
    account, configuration = _owned(configuration_id, "billing_portal.configuration")
    if not configuration["login_page"]["enabled"]:
        abort(404)
    email = (request.form.get("email") or "").strip()
    link = None
    with sandbox.store.change():
        customers = [
            c for c in account.all("customer") if email and (c.get("email") or "") == email
        ]
        if customers:
            session = objects.build_portal_session(
                {
                    "configuration": configuration_id,
                    "customer": customers[-1]["id"],
                    "return_url": configuration.get("default_return_url"),
                }
            )
            session["url"] = f"{sandbox.public_url}/portal/{session['id']}"
            account.put(session)
            link = session["url"]
    return _page("Sign in", PORTAL_LOGIN, sent=True, email=email, link=link)
