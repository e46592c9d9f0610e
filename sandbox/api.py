"""Serve the part of Stripe's `/v1` HTTP API the app uses: auth, idempotency, lists and errors."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from sandbox import objects, schema, simulation
from sandbox.errors import StripeError, invalid, missing, no_such
from sandbox.expand import expand
from sandbox.params import (
    created_filter,
    decode,
    get_bool,
    get_dict,
    get_int,
    get_list,
    get_str,
    merge_metadata,
)

if TYPE_CHECKING:
    from sandbox.server import Sandbox
    from sandbox.store import Account

bp = Blueprint("api", __name__, url_prefix="/v1")

KEY_PATTERN = re.compile(r"^(sk|rk)_test_[A-Za-z0-9_]+$")
NO_KEY_MESSAGE = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


def runtime() -> Sandbox:
    """Return the running sandbox (store, deliverer, settings) this app serves."""
    return current_app.extensions["sandbox"]


def json_response(body: dict, status: int = 200) -> Response:
    """Return JSON the way Stripe prints it."""
    return Response(json.dumps(body, indent=2) + "\n", status=status, mimetype="application/json")


# --- request lifecycle -------------------------------------------------------


def _api_key() -> str:
    """Read the secret key from Bearer or Basic auth and check its format."""
    header = request.headers.get("Authorization", "")
    key = ""
    if header.startswith("Bearer "):
        key = header[len("Bearer ") :].strip()
    elif header.startswith("Basic "):
        try:
            key = base64.b64decode(header[len("Basic ") :]).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
    if not key:
        raise StripeError(NO_KEY_MESSAGE, status=401)
    if not KEY_PATTERN.match(key):
        masked = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key
        hint = (
            " The sandbox accepts test-mode secret keys only (sk_test_...)."
            if (key.startswith(("sk_live_", "rk_live_", "pk_")))
            else ""
        )
        raise StripeError(f"Invalid API Key provided: {masked}.{hint}", status=401)
    return key


@bp.before_request
def _begin() -> Response | None:
    """Authenticate, decode parameters and apply idempotency before any route runs."""
    g.request_id = "req_" + objects.new_id("", 14)
    g.replayed = False
    g.idempotency_key = None
    key = _api_key()
    pairs = (
        request.form.items(multi=True)
        if request.method == "POST"
        else (request.args.items(multi=True))
    )
    g.params = decode(pairs)
    # Stripe refuses parameters it does not know before anything else happens.
    schema.check((request.endpoint or "").rpartition(".")[2], g.params)
    store = runtime().store
    with store.lock:
        g.account = store.account(key)
        g.account.pin_api_version(request.headers.get("Stripe-Version"))
    if request.method == "POST" and request.headers.get("Idempotency-Key"):
        return _idempotency_begin(request.headers["Idempotency-Key"])
    return None


def _idempotency_begin(key: str) -> Response | None:
    """Replay a finished request with the same key, or refuse one with other parameters."""
    fingerprint = hashlib.sha256(
        json.dumps([request.method, request.path, sorted(request.form.items(multi=True))]).encode()
    ).hexdigest()
    store = runtime().store
    with store.lock:
        record = g.account.data["idempotency"].get(key)
        if record is not None:
            if record["fingerprint"] != fingerprint:
                raise StripeError(
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request.",
                    type="idempotency_error",
                )
            if record["state"] == "running":
                raise StripeError(
                    "There is currently another in-progress request using this Idempotent Key "
                    "(that probably means you submitted twice, and the other request is still "
                    f"going through): {key}. Please try again later.",
                    status=409,
                    type="idempotency_error",
                )
            g.replayed = True
            response = Response(
                record["body"], status=record["status"], mimetype="application/json"
            )
            response.headers["Idempotent-Replayed"] = "true"
            response.headers["Original-Request"] = record["request_id"]
            response.headers["Idempotency-Key"] = key
            return response
        store.remember(
            g.account,
            key,
            {
                "fingerprint": fingerprint,
                "state": "running",
                "created": time.time(),
                "request_id": g.request_id,
            },
        )
    g.idempotency_key = key
    return None


@bp.after_request
def _finish(response: Response) -> Response:
    """Add Stripe's response headers and keep the outcome of an idempotent request."""
    response.headers["Request-Id"] = getattr(g, "request_id", "")
    account = getattr(g, "account", None)
    if account is not None:
        response.headers["Stripe-Version"] = account.api_version
    key = getattr(g, "idempotency_key", None)
    if key and account is not None and not g.replayed:
        store = runtime().store
        with store.lock:
            record = account.data["idempotency"].get(key)
            # Stripe keeps results once the request ran; failed validation is not kept.
            if record is not None and (response.status_code < 400 or response.status_code == 402):
                record.update(
                    state="done", status=response.status_code, body=response.get_data(as_text=True)
                )
            else:
                account.data["idempotency"].pop(key, None)
            store.save()
        response.headers["Idempotency-Key"] = key
    return response


@bp.errorhandler(StripeError)
def _stripe_error(error: StripeError) -> Response:
    """Answer with Stripe's error body and status."""
    return json_response(error.body(getattr(g, "request_id", None)), error.status)


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    """Answer a sandbox bug as Stripe's `api_error` (a 500 the library raises as APIError)."""
    if isinstance(error, HTTPException):
        body = {"error": {"type": "invalid_request_error", "message": error.description}}
        return json_response(body, error.code or 400)
    current_app.logger.error("sandbox bug:\n%s", traceback.format_exc())
    body = {
        "error": {"type": "api_error", "message": f"The sandbox failed on this request: {error!r}"}
    }
    return json_response(body, 500)


def event_request() -> dict:
    """Return the `request` field of events this API call causes."""
    return {"id": g.request_id, "idempotency_key": request.headers.get("Idempotency-Key")}


# --- rendering and listing ---------------------------------------------------


def _delivery_summary(account: Account) -> dict:
    """Return, per event id, the endpoints still pending and whether any delivery failed."""
    summary: dict = {}
    for delivery in account.data["deliveries"].values():
        entry = summary.setdefault(delivery["event"], {"pending": set(), "failed": False})
        if delivery["state"] in ("pending", "sending"):
            entry["pending"].add(delivery["endpoint"])
        elif delivery["state"] == "failed":
            entry["failed"] = True
    return summary


def render(obj: dict, status: int = 200) -> Response:
    """Answer with an object (or list), expanded as asked, with live `pending_webhooks`."""
    with runtime().store.lock:
        body = expand(g.account, obj, get_list(g.params, "expand"))
        events = body["data"] if body.get("object") == "list" else [body]
        if any(item.get("object") == "event" for item in events):
            summary = _delivery_summary(g.account)
            for item in events:
                if item.get("object") == "event":
                    item["pending_webhooks"] = len(summary.get(item["id"], {}).get("pending", ()))
    return json_response(body, status)


def page(items: list[dict], url: str) -> dict:
    """Apply `created`, `limit`, `starting_after` and `ending_before`; items are newest first."""
    params = g.params
    created = created_filter(params)
    items = [item for item in items if created(item.get("created", 0))]
    limit = get_int(params, "limit")
    limit = 10 if limit is None else limit
    if not 1 <= limit <= 100:
        raise invalid(
            "limit",
            "This value must be between 1 and 100 (inclusive).",
            code="parameter_invalid_integer",
        )
    ids = [item["id"] for item in items]
    after, before = get_str(params, "starting_after"), get_str(params, "ending_before")
    if after:
        if after not in ids:
            raise no_such(objects.kind_of(after) or "object", after, "starting_after")
        start = ids.index(after) + 1
        chosen, has_more = items[start : start + limit], len(items) > start + limit
    elif before:
        if before not in ids:
            raise no_such(objects.kind_of(before) or "object", before, "ending_before")
        end = ids.index(before)
        chosen, has_more = items[max(end - limit, 0) : end], end - limit > 0
    else:
        chosen, has_more = items[:limit], len(items) > limit
    return objects.list_object(copy.deepcopy(chosen), url, has_more)


def newest(kind: str, **equal: object) -> list[dict]:
    """Return a type's objects newest first, keeping those whose fields equal the filters given."""
    wanted = {field: value for field, value in equal.items() if value not in (None, "")}
    return [
        item
        for item in reversed(g.account.all(kind))
        if all(item.get(field) == value for field, value in wanted.items())
    ]


def retrieve(kind: str, object_id: str) -> Response:
    """Answer a plain retrieve."""
    with runtime().store.lock:
        found = g.account.require(kind, object_id)
    return render(found)


# --- checkout sessions ------------------------------------------------------


@bp.post("/checkout/sessions")
def create_checkout_session() -> Response:
    with runtime().store.change():
        session = simulation.create_checkout_session(g.account, g.params, runtime().public_url)
    return render(session)


@bp.get("/checkout/sessions")
def list_checkout_sessions() -> Response:
    params = g.params
    details = get_dict(params, "customer_details")
    with runtime().store.lock:
        items = newest(
            "checkout.session",
            payment_intent=params.get("payment_intent"),
            subscription=params.get("subscription"),
            customer=params.get("customer"),
            status=params.get("status"),
            payment_link=params.get("payment_link"),
        )
        if details.get("email"):
            items = [
                s
                for s in items
                if (s.get("customer_details") or {}).get("email") == details["email"]
            ]
        return render(page(items, "/v1/checkout/sessions"))


def _session(object_id: str) -> dict:
    """Return a session, expiring it first if its time ran out."""
    store = runtime().store
    with store.lock:
        session = g.account.require("checkout.session", object_id, "session")
        if session["status"] == "open" and session["expires_at"] <= objects.now():
            with store.change():
                simulation.expire_overdue(g.account, session)
        return session


@bp.get("/checkout/sessions/<object_id>")
def retrieve_checkout_session(object_id: str) -> Response:
    return render(_session(object_id))


@bp.post("/checkout/sessions/<object_id>")
def update_checkout_session(object_id: str) -> Response:
    with runtime().store.change():
        session = _session(object_id)
        if "metadata" in g.params:
            session["metadata"] = merge_metadata(session["metadata"], g.params["metadata"])
    return render(session)


@bp.post("/checkout/sessions/<object_id>/expire")
def expire_checkout_session(object_id: str) -> Response:
    with runtime().store.change():
        session = simulation.expire_session(g.account, _session(object_id), event_request())
    return render(session)


@bp.get("/checkout/sessions/<object_id>/line_items")
def list_checkout_line_items(object_id: str) -> Response:
    with runtime().store.lock:
        session = _session(object_id)
        items = list(g.account.private(session["id"]).get("line_items", []))
        return render(page(items, f"/v1/checkout/sessions/{object_id}/line_items"))


# --- payments --------------------------------------------------------------


@bp.get("/payment_intents")
def list_payment_intents() -> Response:
    with runtime().store.lock:
        items = newest("payment_intent", customer=g.params.get("customer"))
        return render(page(items, "/v1/payment_intents"))


@bp.get("/payment_intents/<object_id>")
def retrieve_payment_intent(object_id: str) -> Response:
    return retrieve("payment_intent", object_id)


@bp.get("/charges")
def list_charges() -> Response:
    with runtime().store.lock:
        items = newest(
            "charge",
            customer=g.params.get("customer"),
            payment_intent=g.params.get("payment_intent"),
        )
        return render(page(items, "/v1/charges"))


@bp.get("/charges/<object_id>")
def retrieve_charge(object_id: str) -> Response:
    return retrieve("charge", object_id)


def _update_metadata(kind: str, object_id: str) -> Response:
    """Update an object's metadata (and description, where it has one)."""
    with runtime().store.change():
        found = g.account.require(kind, object_id)
        if "metadata" in g.params:
            found["metadata"] = merge_metadata(found.get("metadata"), g.params["metadata"])
        if "description" in g.params and "description" in found:
            found["description"] = g.params["description"] or None
    return render(found)


@bp.post("/payment_intents/<object_id>")
def update_payment_intent(object_id: str) -> Response:
    return _update_metadata("payment_intent", object_id)


@bp.post("/charges/<object_id>")
def update_charge(object_id: str) -> Response:
    return _update_metadata("charge", object_id)


@bp.post("/refunds")
def create_refund() -> Response:
    with runtime().store.change():
        refund = simulation.create_refund(g.account, g.params, event_request())
    return render(refund)


@bp.get("/refunds")
def list_refunds() -> Response:
    with runtime().store.lock:
        items = newest(
            "refund", charge=g.params.get("charge"), payment_intent=g.params.get("payment_intent")
        )
        return render(page(items, "/v1/refunds"))


@bp.get("/refunds/<object_id>")
def retrieve_refund(object_id: str) -> Response:
    return retrieve("refund", object_id)


@bp.post("/refunds/<object_id>")
def update_refund(object_id: str) -> Response:
    return _update_metadata("refund", object_id)


@bp.get("/disputes")
def list_disputes() -> Response:
    with runtime().store.lock:
        items = newest(
            "dispute", charge=g.params.get("charge"), payment_intent=g.params.get("payment_intent")
        )
        return render(page(items, "/v1/disputes"))


@bp.get("/disputes/<object_id>")
def retrieve_dispute(object_id: str) -> Response:
    return retrieve("dispute", object_id)


@bp.post("/disputes/<object_id>")
def update_dispute(object_id: str) -> Response:
    with runtime().store.change():
        dispute = g.account.require("dispute", object_id, "dispute")
        simulation.update_dispute(g.account, dispute, g.params, event_request())
    return render(dispute)


@bp.post("/disputes/<object_id>/close")
def close_dispute(object_id: str) -> Response:
    with runtime().store.change():
        dispute = g.account.require("dispute", object_id, "dispute")
        simulation.accept_dispute(g.account, dispute, event_request())
    return render(dispute)


# --- billing ---------------------------------------------------------------


@bp.get("/subscriptions")
def list_subscriptions() -> Response:
    params = g.params
    status = get_str(params, "status")
    with runtime().store.lock:
        items = newest("subscription", customer=params.get("customer"))
        if status is None:
            items = [s for s in items if s["status"] not in ("canceled", "incomplete_expired")]
        elif status != "all":
            items = [s for s in items if s["status"] == status]
        if params.get("price"):
            items = [
                s
                for s in items
                if any(i["price"]["id"] == params["price"] for i in s["items"]["data"])
            ]
        return render(page(items, "/v1/subscriptions"))


@bp.get("/subscriptions/<object_id>")
def retrieve_subscription(object_id: str) -> Response:
    return retrieve("subscription", object_id)


@bp.post("/subscriptions/<object_id>")
def update_subscription(object_id: str) -> Response:
    with runtime().store.change():
        subscription = g.account.require("subscription", object_id, "subscription_exposed_id")
        simulation.update_subscription(g.account, subscription, g.params, event_request())
    return render(subscription)


@bp.delete("/subscriptions/<object_id>")
def cancel_subscription(object_id: str) -> Response:
    with runtime().store.change():
        subscription = g.account.require("subscription", object_id, "subscription_exposed_id")
        simulation.cancel_subscription(g.account, subscription, event_request(), g.params)
    return render(subscription)


@bp.get("/invoices")
def list_invoices() -> Response:
    params = g.params
    with runtime().store.lock:
        items = newest("invoice", customer=params.get("customer"), status=params.get("status"))
        if params.get("subscription"):
            items = [
                i
                for i in items
                if ((i.get("parent") or {}).get("subscription_details") or {}).get("subscription")
                == params["subscription"]
            ]
        return render(page(items, "/v1/invoices"))


@bp.get("/invoices/<object_id>")
def retrieve_invoice(object_id: str) -> Response:
    return retrieve("invoice", object_id)


@bp.get("/invoices/<object_id>/lines")
def list_invoice_lines(object_id: str) -> Response:
    with runtime().store.lock:
        invoice = g.account.require("invoice", object_id, "invoice")
        return render(page(list(invoice["lines"]["data"]), f"/v1/invoices/{object_id}/lines"))


@bp.get("/invoice_payments")
def list_invoice_payments() -> Response:
    params = g.params
    payment = get_dict(params, "payment")
    with runtime().store.lock:
        items = newest(
            "invoice_payment", invoice=params.get("invoice"), status=params.get("status")
        )
        for field in ("type", "payment_intent"):
            if payment.get(field):
                items = [p for p in items if p["payment"].get(field) == payment[field]]
        return render(page(items, "/v1/invoice_payments"))


@bp.get("/invoice_payments/<object_id>")
def retrieve_invoice_payment(object_id: str) -> Response:
    return retrieve("invoice_payment", object_id)


@bp.post("/customers")
def create_customer() -> Response:
    params = g.params
    with runtime().store.change():
        customer = objects.build_customer(
            get_str(params, "email"),
            get_str(params, "name"),
            merge_metadata(None, params.get("metadata")),
            get_str(params, "description"),
        )
        g.account.put(customer)
        g.account.emit("customer.created", customer, request=event_request())
    return render(customer)


@bp.get("/customers")
def list_customers() -> Response:
    with runtime().store.lock:
        return render(page(newest("customer", email=g.params.get("email")), "/v1/customers"))


@bp.get("/customers/<object_id>")
def retrieve_customer(object_id: str) -> Response:
    return retrieve("customer", object_id)


@bp.post("/customers/<object_id>")
def update_customer(object_id: str) -> Response:
    params = g.params
    with runtime().store.change():
        customer = g.account.require("customer", object_id, "customer")
        before = copy.deepcopy(customer)
        for field in ("email", "name", "description", "phone"):
            if field in params:
                customer[field] = params[field] or None
        if "metadata" in params:
            customer["metadata"] = merge_metadata(customer["metadata"], params["metadata"])
        previous = simulation.changes(before, customer)
        if previous:
            g.account.emit("customer.updated", customer, previous=previous, request=event_request())
    return render(customer)


# --- customer portal -------------------------------------------------------


def _coerce_flags(value: Any) -> Any:
    """Turn form strings `true`/`false` into booleans throughout a nested hash."""
    if isinstance(value, dict):
        return {key: _coerce_flags(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_coerce_flags(item) for item in value]
    return {"true": True, "false": False}.get(value, value)


def _deep_merge(target: dict, update: dict) -> None:
    """Merge a nested update into a configuration, as Stripe's partial updates do."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value if value != "" else None


def _apply_configuration(configuration: dict, params: dict) -> None:
    """Apply create/update parameters to a portal configuration."""
    for field in ("business_profile", "features", "login_page"):
        if field in params:
            _deep_merge(configuration[field], _coerce_flags(get_dict(params, field)))
    for field in ("default_return_url", "name"):
        if field in params:
            configuration[field] = params[field] or None
    login_page = configuration["login_page"]
    # Stripe gives an enabled login page a shareable URL, and takes it away when disabled.
    login_page["url"] = (
        f"{runtime().public_url}/p/login/{configuration['id']}" if login_page["enabled"] else None
    )
    if "active" in params:
        configuration["active"] = get_bool(params, "active")
    if "metadata" in params:
        configuration["metadata"] = merge_metadata(
            configuration.get("metadata"), params["metadata"]
        )
    configuration["updated"] = objects.now()


@bp.post("/billing_portal/configurations")
def create_portal_configuration() -> Response:
    if not g.params.get("features"):
        raise missing("features")
    with runtime().store.change():
        # Only the Dashboard's configuration is the default; API-made ones never are.
        configuration = objects.build_portal_configuration({"is_default": False})
        _apply_configuration(configuration, g.params)
        g.account.put(configuration)
        g.account.emit(
            "billing_portal.configuration.created", configuration, request=event_request()
        )
    return render(configuration)


@bp.get("/billing_portal/configurations")
def list_portal_configurations() -> Response:
    params = g.params
    with runtime().store.lock:
        items = newest("billing_portal.configuration")
        for field in ("active", "is_default"):
            wanted = get_bool(params, field)
            if wanted is not None:
                items = [c for c in items if c[field] == wanted]
        return render(page(items, "/v1/billing_portal/configurations"))


@bp.get("/billing_portal/configurations/<object_id>")
def retrieve_portal_configuration(object_id: str) -> Response:
    return retrieve("billing_portal.configuration", object_id)


@bp.post("/billing_portal/configurations/<object_id>")
def update_portal_configuration(object_id: str) -> Response:
    with runtime().store.change():
        configuration = g.account.require(
            "billing_portal.configuration", object_id, "configuration"
        )
        before = copy.deepcopy(configuration)
        _apply_configuration(configuration, g.params)
        g.account.emit(
            "billing_portal.configuration.updated",
            configuration,
            previous=simulation.changes(before, configuration),
            request=event_request(),
        )
    return render(configuration)


NO_PORTAL_CONFIGURATION = (
    "You can’t create a portal session in test mode until you save your customer portal "
    "settings in test mode at https://dashboard.stripe.com/test/settings/billing/portal."
)


def default_portal_configuration(account: Account) -> dict:
    """Return the account's default portal configuration, the one saved in the Dashboard.

    Configurations made through the API are never the default, so without one saved (in the
    sandbox: the `/_sandbox/portal/default` control) a session must name its `configuration`.
    """
    for configuration in account.all("billing_portal.configuration"):
        if configuration["is_default"] and configuration["active"]:
            return configuration
    raise StripeError(NO_PORTAL_CONFIGURATION)


@bp.post("/billing_portal/sessions")
def create_portal_session() -> Response:
    params = g.params
    customer_id = get_str(params, "customer")
    if not customer_id:
        raise missing("customer")
    return_url = get_str(params, "return_url")
    if return_url and not return_url.startswith(("http://", "https://")):
        raise invalid("return_url", "Not a valid URL", code="url_invalid")
    with runtime().store.change():
        g.account.require("customer", customer_id, "customer")
        configuration_id = get_str(params, "configuration")
        if configuration_id:
            configuration = g.account.require(
                "billing_portal.configuration", configuration_id, "configuration"
            )
        else:
            configuration = default_portal_configuration(g.account)
        session_id = objects.new_id("bps_")
        session = objects.build_portal_session(
            {
                "id": session_id,
                "configuration": configuration["id"],
                "customer": customer_id,
                "locale": get_str(params, "locale"),
                "return_url": return_url or configuration.get("default_return_url"),
                "url": f"{runtime().public_url}/portal/{session_id}",
            }
        )
        flow = get_dict(params, "flow_data")
        if flow:
            session["flow"] = _coerce_flags(flow)
        g.account.put(session)
    return render(session)


# --- events and webhook endpoints ------------------------------------------


def _type_matcher(pattern: str) -> Callable[[str], bool]:
    """Return a predicate for Stripe's event `type` filter, which allows `*` wildcards."""
    regex = re.compile("^" + re.escape(pattern).replace(r"\*", ".*") + "$")
    return lambda value: bool(regex.match(value))


@bp.get("/events")
def list_events() -> Response:
    params = g.params
    delivery_success = get_bool(params, "delivery_success")
    with runtime().store.lock:
        items = newest("event")
        event_type = get_str(params, "type")
        types = get_list(params, "types")
        if event_type and types:
            raise invalid("types", "You may only specify one of these parameters: type, types.")
        if event_type:
            matches = _type_matcher(event_type)
            items = [e for e in items if matches(e["type"])]
        if types:
            items = [e for e in items if e["type"] in types]
        if delivery_success is not None:
            summary = _delivery_summary(g.account)

            def delivered(event: dict) -> bool:
                entry = summary.get(event["id"])
                return entry is None or (not entry["pending"] and not entry["failed"])

            items = [e for e in items if delivered(e) == delivery_success]
        return render(page(items, "/v1/events"))


@bp.get("/events/<object_id>")
def retrieve_event(object_id: str) -> Response:
    return retrieve("event", object_id)


def _endpoint_fields(params: dict, creating: bool) -> dict:
    """Validate webhook endpoint parameters."""
    fields: dict = {}
    url = get_str(params, "url", required=creating)
    if url is not None:
        if not url.startswith(("http://", "https://")):
            raise invalid(
                "url", "Invalid URL: URL must begin with http:// or https://.", code="url_invalid"
            )
        fields["url"] = url
    if creating or "enabled_events" in params:
        events = get_list(params, "enabled_events")
        if not events:
            raise missing("enabled_events")
        for name in events:
            if name != "*" and not re.match(r"^[a-z_]+(\.[a-z_*]+)+$", str(name)):
                raise invalid("enabled_events", f"Invalid event type: {name}")
        fields["enabled_events"] = events
    if "description" in params:
        fields["description"] = params["description"] or None
    if creating:
        fields["api_version"] = get_str(params, "api_version")
    disabled = get_bool(params, "disabled")
    if disabled is not None:
        fields["status"] = "disabled" if disabled else "enabled"
    return fields


@bp.post("/webhook_endpoints")
def create_webhook_endpoint() -> Response:
    fields = _endpoint_fields(g.params, creating=True)
    fields["metadata"] = merge_metadata(None, g.params.get("metadata"))
    with runtime().store.change():
        endpoint = g.account.put(objects.build_webhook_endpoint(fields))
        secret = "whsec_" + objects.new_id("", 32)
        g.account.private(endpoint["id"])["secret"] = secret
    # The signing secret is shown on creation only, as on Stripe.
    return render({**endpoint, "secret": secret})


@bp.get("/webhook_endpoints")
def list_webhook_endpoints() -> Response:
    with runtime().store.lock:
        return render(page(newest("webhook_endpoint"), "/v1/webhook_endpoints"))


@bp.get("/webhook_endpoints/<object_id>")
def retrieve_webhook_endpoint(object_id: str) -> Response:
    return retrieve("webhook_endpoint", object_id)


@bp.post("/webhook_endpoints/<object_id>")
def update_webhook_endpoint(object_id: str) -> Response:
    fields = _endpoint_fields(g.params, creating=False)
    with runtime().store.change():
        endpoint = g.account.require("webhook_endpoint", object_id, "webhook_endpoint")
        endpoint.update(fields)
        if "metadata" in g.params:
            endpoint["metadata"] = merge_metadata(endpoint["metadata"], g.params["metadata"])
    return render(endpoint)


@bp.delete("/webhook_endpoints/<object_id>")
def delete_webhook_endpoint(object_id: str) -> Response:
    with runtime().store.change():
        g.account.require("webhook_endpoint", object_id, "webhook_endpoint")
        del g.account.data["objects"]["webhook_endpoint"][object_id]
    deleted = objects.fixture("deleted_webhook_endpoint")
    deleted["id"] = object_id
    return json_response(deleted)


# --- plain retrieves ---------------------------------------------------------


@bp.get("/prices/<object_id>")
def retrieve_price(object_id: str) -> Response:
    return retrieve("price", object_id)


@bp.get("/products/<object_id>")
def retrieve_product(object_id: str) -> Response:
    return retrieve("product", object_id)


@bp.get("/balance_transactions/<object_id>")
def retrieve_balance_transaction(object_id: str) -> Response:
    return retrieve("balance_transaction", object_id)


@bp.get("/payment_methods/<object_id>")
def retrieve_payment_method(object_id: str) -> Response:
    return retrieve("payment_method", object_id)


@bp.route("/<path:rest>", methods=["GET", "POST", "DELETE", "PUT", "PATCH"])
def unrecognized(rest: str) -> NoReturn:
    """Answer URLs the sandbox does not serve as Stripe does."""
    raise StripeError(
        f"Unrecognized request URL ({request.method}: /v1/{rest}). The Stripe sandbox serves "
        "only the endpoints listed in sandbox/README.md.",
        status=404,
    )
