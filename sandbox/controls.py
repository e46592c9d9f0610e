"""Test controls under `/_sandbox`: act as the donor, the bank or time, and switch on chaos.

Every control answers JSON to JSON (or empty) requests, and sends HTML form posts from the
dashboard back to the dashboard.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import Blueprint, current_app, redirect, render_template_string, request
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from werkzeug.wrappers import Response

from sandbox import objects, simulation
from sandbox.api import json_response
from sandbox.errors import StripeError, invalid, no_such
from sandbox.params import get_bool, get_int, get_str
from sandbox.store import CHAOS_DEFAULTS

if TYPE_CHECKING:
    from sandbox.server import Sandbox
    from sandbox.store import Account

bp = Blueprint("controls", __name__, url_prefix="/_sandbox")


def _sandbox() -> Sandbox:
    """Return the running sandbox this app serves."""
    return current_app.extensions["sandbox"]


def _from_form() -> bool:
    """Return whether the request came from a dashboard form."""
    return request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")


def _body() -> dict:
    """Read a control's parameters from JSON or a form."""
    if _from_form():
        return request.form.to_dict()
    data = request.get_json(silent=True) if request.data else None
    if data is not None and not isinstance(data, dict):
        raise StripeError("The request body must be a JSON object.")
    return data or {}


def _reply(payload: dict, status: int = 200) -> Response:
    """Answer JSON, or send a dashboard form back to the dashboard."""
    if _from_form():
        return redirect("/_sandbox", code=303)
    return json_response(payload, status)


def _api_key(body: dict) -> str | None:
    """Read the API key a control is scoped to, from the body or a Bearer header."""
    key = body.get("api_key")
    header = request.headers.get("Authorization", "")
    if not key and header.startswith("Bearer "):
        key = header[len("Bearer ") :].strip()
    return key or None


def _owned(object_id: str, kind: str | None = None) -> tuple[Account, dict]:
    """Return (account, object) for an id, whichever key created it."""
    kind = kind or objects.kind_of(object_id)
    account = _sandbox().store.owner(object_id)
    found = account.get(kind, object_id) if account and kind else None
    if account is None or found is None:
        raise no_such(kind or "object", object_id)
    return account, found


@bp.errorhandler(StripeError)
def _control_error(error: StripeError) -> ResponseReturnValue:
    """Answer a failed control as the API would, or with a page for dashboard forms."""
    if _from_form():
        return render_template_string(ERROR_PAGE, message=error.message), error.status
    return json_response(error.body(), error.status)


# --- checkout --------------------------------------------------------------


@bp.post("/checkout/sessions/<session_id>/pay")
def pay_session(session_id: str) -> Response:
    body = _body()
    sandbox = _sandbox()
    with sandbox.store.change():
        account, session = _owned(session_id, "checkout.session")
        result = simulation.pay_session(
            account, session, body.get("outcome", "succeeded"), body.get("email"), body.get("name")
        )
    if result["outcome"] == "delayed":
        sandbox.settle_later(session_id)
    return _reply({**result, "session": session})


@bp.post("/checkout/sessions/<session_id>/expire")
def expire_session(session_id: str) -> Response:
    with _sandbox().store.change():
        account, session = _owned(session_id, "checkout.session")
        simulation.expire_session(account, session)
    return _reply(session)


@bp.post("/checkout/sessions/<session_id>/settle")
def settle_session(session_id: str) -> Response:
    body = _body()
    outcome = body.get("outcome", "succeeded")
    if outcome not in ("succeeded", "failed"):
        raise invalid("outcome", "outcome must be succeeded or failed")
    with _sandbox().store.change():
        account, session = _owned(session_id, "checkout.session")
        simulation.settle_delayed_payment(account, session, outcome == "succeeded")
    return _reply(session)


# --- refunds and disputes ----------------------------------------------------


@bp.post("/payments/<payment_id>/refund")
def refund_payment(payment_id: str) -> Response:
    body = _body()
    with _sandbox().store.change():
        account, _ = _owned(payment_id)
        field = "payment_intent" if payment_id.startswith("pi_") else "charge"
        params = {
            field: payment_id,
            "amount": body.get("amount"),
            "reason": body.get("reason"),
            "metadata": body.get("metadata"),
        }
        refund = simulation.create_refund(account, params)
    return _reply(refund)


@bp.post("/refunds/<refund_id>/fail")
def fail_refund(refund_id: str) -> Response:
    body = _body()
    with _sandbox().store.change():
        account, refund = _owned(refund_id, "refund")
        simulation.fail_refund(account, refund, get_str(body, "failure_reason"))
    return _reply(refund)


@bp.post("/payments/<payment_id>/dispute")
def dispute_payment(payment_id: str) -> Response:
    body = _body()
    with _sandbox().store.change():
        account, _ = _owned(payment_id)
        charge = simulation.find_charge(account, payment_id)
        dispute = simulation.open_dispute(
            account,
            charge,
            get_int(body, "amount", minimum=1),
            get_str(body, "reason") or "fraudulent",
            bool(get_bool(body, "inquiry", False)),
        )
    return _reply(dispute)


@bp.post("/disputes/<dispute_id>/<outcome>")
def resolve_dispute(dispute_id: str, outcome: str) -> Response:
    if outcome not in ("win", "lose", "reverse", "appeal"):
        raise invalid("outcome", "Use /win, /lose, /appeal or /reverse.")
    with _sandbox().store.change():
        account, dispute = _owned(dispute_id, "dispute")
        if outcome == "reverse":
            simulation.reverse_dispute(account, dispute)
        elif outcome == "appeal":
            simulation.appeal_dispute(account, dispute)
        else:
            simulation.resolve_dispute(account, dispute, "won" if outcome == "win" else "lost")
    return _reply(dispute)


# --- subscriptions -----------------------------------------------------------


@bp.post("/subscriptions/<subscription_id>/advance")
def advance_subscription(subscription_id: str) -> Response:
    with _sandbox().store.change():
        account, subscription = _owned(subscription_id, "subscription")
        result = simulation.advance_subscription(account, subscription)
    return _reply(result)


@bp.post("/subscriptions/<subscription_id>/cancel")
def cancel_subscription(subscription_id: str) -> Response:
    body = _body()
    with _sandbox().store.change():
        account, subscription = _owned(subscription_id, "subscription")
        if get_bool(body, "at_period_end", False):
            simulation.update_subscription(account, subscription, {"cancel_at_period_end": "true"})
        else:
            simulation.cancel_subscription(account, subscription)
    return _reply(subscription)


# --- time and the Dashboard ---------------------------------------------------


@bp.post("/time/advance")
def advance_time() -> Response:
    body = _body()
    try:
        seconds = (
            float(body.get("hours") or 0) * 3600
            + float(body.get("minutes") or 0) * 60
            + float(body.get("seconds") or 0)
        )
    except (TypeError, ValueError):
        raise invalid("hours", "hours, minutes and seconds must be numbers") from None
    if seconds < 0:
        raise invalid("hours", "Simulated time only moves forward.")
    sandbox = _sandbox()
    with sandbox.store.change():
        sandbox.store.advance_clock(int(seconds))
    sandbox.sweep()
    return _reply({"now": objects.now(), "offset": sandbox.store.clock_offset})


@bp.post("/portal/default")
def save_default_portal_configuration() -> Response:
    body = _body()
    key = _api_key(body)
    if not key:
        raise invalid(
            "api_key",
            "Name the api_key whose Dashboard saves the portal settings.",
            code="parameter_missing",
        )
    store = _sandbox().store
    with store.change():
        account = store.account(key)
        for configuration in account.all("billing_portal.configuration"):
            if configuration["is_default"]:
                return _reply(configuration)
        configuration = account.put(objects.build_portal_configuration({"is_default": True}))
        account.emit("billing_portal.configuration.created", configuration)
    return _reply(configuration)


# --- delivery, chaos, state --------------------------------------------------


@bp.post("/flush")
def flush() -> Response:
    body = _body()
    try:
        timeout = float(body.get("timeout") or 10)
    except (TypeError, ValueError):
        raise invalid("timeout", "timeout must be a number of seconds") from None
    key = _api_key(body)
    sandbox = _sandbox()
    empty = sandbox.deliverer.flush(timeout, key)
    return _reply({"empty": empty, "pending": sandbox.deliverer.pending(key)})


@bp.get("/deliveries")
def deliveries() -> Response:
    key = request.args.get("api_key") or _api_key({})
    event_id = request.args.get("event")
    limit = get_int(request.args.to_dict(), "limit") or 100
    found = []
    with _sandbox().store.lock:
        for account in _sandbox().store.accounts():
            if key and account.key != key:
                continue
            for delivery in account.data["deliveries"].values():
                if event_id and delivery["event"] != event_id:
                    continue
                event = account.get("event", delivery["event"]) or {}
                found.append({**delivery, "type": event.get("type")})
    found.sort(key=lambda delivery: delivery["seq"], reverse=True)
    return json_response({"object": "list", "data": found[:limit]})


def _chaos_view(key: str | None) -> dict:
    """Return the chaos switches in force for a key (or the global ones)."""
    store = _sandbox().store
    if key:
        return {"api_key": key, **store.account(key).chaos()}
    return {"api_key": None, **CHAOS_DEFAULTS, **store.state["chaos"]}


@bp.get("/chaos")
def get_chaos() -> Response:
    with _sandbox().store.lock:
        return json_response(_chaos_view(request.args.get("api_key") or _api_key({})))


@bp.post("/chaos")
def set_chaos() -> Response:
    body = _body()
    key = _api_key(body)
    settings: dict[str, bool | float] = {}
    for name in ("duplicate", "shuffle", "drop_first"):
        if name in body or _from_form():
            settings[name] = bool(get_bool(body, name, False))
    if "late" in body:
        try:
            settings["late"] = max(float(body["late"] or 0), 0.0)
        except ValueError:
            raise invalid("late", "late must be a number of seconds") from None
    store = _sandbox().store
    with store.change():
        target = store.account(key).data["chaos"] if key else store.state["chaos"]
        target.update(settings)
        view = _chaos_view(key)
    return _reply(view)


@bp.post("/reset")
def reset() -> Response:
    body = _body()
    key = _api_key(body)
    everything = bool(get_bool(body, "all", False))
    if not key and not everything:
        raise invalid(
            "api_key",
            "Name the api_key to reset, or send all=true to reset every account.",
            code="parameter_missing",
        )
    store = _sandbox().store
    with store.change():
        store.reset(None if everything else key)
    return _reply({"reset": "all" if everything else key})


# --- dashboard -------------------------------------------------------------

ERROR_PAGE = """<!doctype html><meta charset="utf-8"><title>Sandbox control failed</title>
<body style="font:16px system-ui;margin:2rem"><h1>That did not work</h1>
<p>{{ message }}</p><p><a href="/_sandbox">Back to the dashboard</a></p></body>"""

DASHBOARD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stripe sandbox</title>
<meta http-equiv="refresh" content="{{ refresh }}">
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1a1a1a; }
 table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
 th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left;
          vertical-align: top; }
 th { background: #f6f8fa; }
 form { display: inline; }
 button { font: inherit; margin: 1px; }
 code { font-size: 12px; }
 .banner { background: #fff4ce; border: 1px solid #e0c200; padding: .5rem; }
 .bad { color: #cf222e; } .good { color: #1a7f37; }
</style></head><body>
<p class="banner"><strong>Stripe sandbox — payments are simulated.</strong>
Test double for local runs and tests; see sandbox/README.md.</p>
<form method="post" action="/_sandbox/flush"><button>Flush webhook deliveries</button></form>
<form method="post" action="/_sandbox/time/advance"><input type="hidden" name="hours" value="24">
<button>Advance simulated time 24 hours</button></form>
<h2>Chaos (all keys)</h2>
<form method="post" action="/_sandbox/chaos">
 {% for name in ["duplicate", "shuffle", "drop_first"] %}
 <label><input type="checkbox" name="{{ name }}" value="true"
   {% if chaos[name] %}checked{% endif %}> {{ name }}</label>
 {% endfor %}
 <label>late (max seconds) <input name="late" size="4" value="{{ chaos.late }}"></label>
 <button>Save</button>
</form>
{% for account in accounts %}
<h2 id="{{ account.key }}">Key {{ mask(account.key) }}</h2>
<form method="post" action="/_sandbox/reset"><input type="hidden" name="api_key"
 value="{{ account.key }}"><button>Reset this key</button></form>
<h3>Checkout sessions</h3>
<table><tr><th>session</th><th>mode</th><th>status</th><th>payment</th><th>amount</th>
<th>metadata</th><th></th></tr>
{% for s in recent(account, "checkout.session") %}
<tr><td><a href="/pay/{{ s.id }}"><code>{{ s.id[:24] }}…</code></a></td><td>{{ s.mode }}</td>
<td>{{ s.status }}</td><td>{{ s.payment_status }}</td>
<td>{{ money(s.amount_total, s.currency) }}</td><td><code>{{ s.metadata }}</code></td>
<td>{% if s.status == "open" %}
 {% for outcome in ["succeeded", "declined", "delayed"] %}
 <form method="post" action="/_sandbox/checkout/sessions/{{ s.id }}/pay">
 <input type="hidden" name="outcome" value="{{ outcome }}"><button>pay: {{ outcome }}</button>
 </form>{% endfor %}
 <form method="post" action="/_sandbox/checkout/sessions/{{ s.id }}/expire">
 <button>expire</button></form>
{% elif s.payment_status == "unpaid" and s.status == "complete" %}
 {% for outcome in ["succeeded", "failed"] %}
 <form method="post" action="/_sandbox/checkout/sessions/{{ s.id }}/settle">
 <input type="hidden" name="outcome" value="{{ outcome }}"><button>settle: {{ outcome }}</button>
 </form>{% endfor %}
{% endif %}</td></tr>
{% endfor %}</table>
<h3>Charges</h3>
<table><tr><th>charge</th><th>payment intent</th><th>status</th><th>amount</th>
<th>refunded</th><th>disputed</th><th></th></tr>
{% for c in recent(account, "charge") %}
<tr><td><code>{{ c.id }}</code></td><td><code>{{ c.payment_intent }}</code></td>
<td>{{ c.status }}</td><td>{{ money(c.amount, c.currency) }}</td>
<td>{{ money(c.amount_refunded, c.currency) }}</td><td>{{ c.disputed }}</td>
<td>{% if c.status == "succeeded" %}
 <form method="post" action="/_sandbox/payments/{{ c.id }}/refund"><button>refund all</button>
 </form>
 <form method="post" action="/_sandbox/payments/{{ c.id }}/refund">
 <input type="hidden" name="amount" value="{{ c.amount // 2 }}"><button>refund half</button>
 </form>
 <form method="post" action="/_sandbox/payments/{{ c.id }}/dispute"><button>dispute</button>
 </form>
 <form method="post" action="/_sandbox/payments/{{ c.id }}/dispute">
 <input type="hidden" name="inquiry" value="true"><button>inquiry</button></form>
{% endif %}</td></tr>
{% endfor %}</table>
<h3>Refunds</h3>
<table><tr><th>refund</th><th>charge</th><th>status</th><th>amount</th><th></th></tr>
{% for r in recent(account, "refund") %}
<tr><td><code>{{ r.id }}</code></td><td><code>{{ r.charge }}</code></td><td>{{ r.status }}</td>
<td>{{ money(r.amount, r.currency) }}</td>
<td>{% if r.status == "succeeded" %}<form method="post" action="/_sandbox/refunds/{{ r.id }}/fail">
<button>fail</button></form>{% endif %}</td></tr>
{% endfor %}</table>
<h3>Disputes</h3>
<table><tr><th>dispute</th><th>charge</th><th>status</th><th>amount</th><th></th></tr>
{% for d in recent(account, "dispute") %}
<tr><td><code>{{ d.id }}</code></td><td><code>{{ d.charge }}</code></td><td>{{ d.status }}</td>
<td>{{ money(d.amount, d.currency) }}</td><td>
{% if d.status in ["needs_response", "warning_needs_response", "under_review",
                   "warning_under_review", "appeal_needs_response", "appeal_under_review"] %}
 <form method="post" action="/_sandbox/disputes/{{ d.id }}/win"><button>win</button></form>
 <form method="post" action="/_sandbox/disputes/{{ d.id }}/lose"><button>lose</button></form>
{% elif d.status == "lost" %}
 <form method="post" action="/_sandbox/disputes/{{ d.id }}/reverse"><button>reverse to won</button>
 </form>
 <form method="post" action="/_sandbox/disputes/{{ d.id }}/appeal"><button>appeal</button>
 </form>{% endif %}</td></tr>
{% endfor %}</table>
<h3>Subscriptions</h3>
<table><tr><th>subscription</th><th>status</th><th>period end</th><th>cancel at period end</th>
<th>metadata</th><th></th></tr>
{% for s in recent(account, "subscription") %}
<tr><td><code>{{ s.id }}</code></td><td>{{ s.status }}</td>
<td>{{ date(s["items"].data[0].current_period_end) }}</td><td>{{ s.cancel_at_period_end }}</td>
<td><code>{{ s.metadata }}</code></td><td>{% if s.status != "canceled" %}
 <form method="post" action="/_sandbox/subscriptions/{{ s.id }}/advance">
 <button>advance a period</button></form>
 <form method="post" action="/_sandbox/subscriptions/{{ s.id }}/cancel">
 <input type="hidden" name="at_period_end" value="true"><button>cancel at period end</button>
 </form>
 <form method="post" action="/_sandbox/subscriptions/{{ s.id }}/cancel">
 <button>cancel now</button></form>{% endif %}</td></tr>
{% endfor %}</table>
<h3>Events (newest first)</h3>
<table><tr><th>event</th><th>type</th><th>object</th><th>deliveries</th></tr>
{% for e in recent(account, "event", 40) %}
<tr><td><code>{{ e.id }}</code></td><td>{{ e.type }}</td>
<td><code>{{ e.data.object.id }}</code></td><td>{{ deliveries(account, e.id) }}</td></tr>
{% endfor %}</table>
{% else %}
<p>No API key has been used yet. Point the app's Stripe API base at this server and use any
<code>sk_test_...</code> key.</p>
{% endfor %}
</body></html>"""


def _recent(account: Account, kind: str, limit: int = 25) -> list[dict]:
    """Return the newest objects of a type, for the dashboard's tables."""
    return list(reversed(account.all(kind)))[:limit]


def _delivery_text(account: Account, event_id: str) -> Markup:
    """Summarise an event's deliveries, e.g. 'succeeded after 2 attempts'."""
    parts = []
    for delivery in account.data["deliveries"].values():
        if delivery["event"] != event_id:
            continue
        attempts = delivery["attempts"]
        last = attempts[-1] if attempts else {}
        detail = last.get("status") or last.get("error") or ""
        css = {"succeeded": "good", "failed": "bad"}.get(delivery["state"], "")
        parts.append(
            Markup('<span class="{}">{}</span> ({} attempt(s){})').format(
                css, delivery["state"], len(attempts), f", last: {detail}" if detail else ""
            )
        )
    return Markup("; ").join(parts) if parts else Markup("no endpoint")


def _date(timestamp: int | None) -> str:
    """Format a unix time as a UTC date."""
    return time.strftime("%Y-%m-%d", time.gmtime(timestamp)) if timestamp else "—"


def _mask(key: str) -> str:
    """Shorten a key for display; the dashboard is local, but keys are long."""
    return key[:8] + "…" + key[-4:] if len(key) > 14 else key


@bp.get("")
@bp.get("/")
def dashboard() -> str:
    store = _sandbox().store
    with store.lock:
        return render_template_string(
            DASHBOARD,
            accounts=store.accounts(),
            recent=_recent,
            money=objects.format_amount,
            deliveries=_delivery_text,
            date=_date,
            mask=_mask,
            chaos={**CHAOS_DEFAULTS, **store.state["chaos"]},
            refresh=request.args.get("refresh", "30"),
        )
