"""Move simulated money (checkout, subscriptions, refunds, disputes) and fire Stripe's events.

Every function here runs inside `Store.change()` (the caller holds the lock), validates before
it changes anything, and names its events in the order they are fired.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox import objects
from sandbox.errors import StripeError, invalid, missing, no_such
from sandbox.params import get_bool, get_dict, get_int, get_str, merge_metadata
from sandbox.store import Account

SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
DEFAULT_EMAIL = "donor@example.com"
DECLINE_MESSAGE = "Your card was declined."
AUTHENTICATION_MESSAGE = (
    "We are unable to authenticate your payment method. Please choose a "
    "different payment method and try again."
)

# Stripe's minimum charge per currency, in the API's minor units ("Minimum and maximum charge
# amounts" in Stripe's currency docs); other currencies: the equivalent of 0.50 USD, taken as 50.
MINIMUM_CHARGE = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}
# Stripe takes amounts of up to eight digits; a few currencies allow more.
MAXIMUM_AMOUNT = 99_999_999
MAXIMUM_AMOUNT_BY_CURRENCY = {"idr": 999_999_999_999}
# Currencies whose API amounts must be a multiple of a step.
AMOUNT_STEP = {
    "bhd": 10,
    "jod": 10,
    "kwd": 10,
    "omr": 10,
    "tnd": 10,
    "huf": 100,
    "twd": 100,
    "isk": 100,
    "ugx": 100,
}
# What the donor can do on the hosted page: pay, fail, pay by bank debit, or leave 3-D Secure
# unfinished (subscription mode).
OUTCOMES = ("succeeded", "declined", "delayed", "requires_action")
# Stripe lets an incomplete subscription's first invoice be paid for 23 hours.
INCOMPLETE_WINDOW = 23 * 3600
SUBMIT_TYPES = ("auto", "book", "donate", "pay", "subscribe")
INTERVALS = ("day", "week", "month", "year")


def changes(before: dict, after: dict) -> dict:
    """Return the previous values of the top-level fields that changed (`previous_attributes`)."""
    return {key: before.get(key) for key in after if before.get(key) != after.get(key)}


def success_redirect(session: dict) -> str | None:
    """Return the success URL with the session id put in, as Checkout does on return."""
    url = session.get("success_url")
    return url.replace(SESSION_PLACEHOLDER, session["id"]) if url else None


# --- checkout sessions ------------------------------------------------------


def create_checkout_session(account: Account, params: dict, public_url: str) -> dict:
    """Validate a Checkout Session request and store the open session and its prices."""
    mode = get_str(params, "mode", required=True)
    if mode not in ("payment", "subscription"):
        raise invalid(
            "mode", f"The sandbox supports `payment` and `subscription` mode, not `{mode}`."
        )
    if get_str(params, "ui_mode") not in (None, "hosted_page"):
        raise invalid(
            "ui_mode", "The sandbox only offers the hosted Checkout page (`ui_mode=hosted_page`)."
        )
    success_url = get_str(params, "success_url")
    cancel_url = get_str(params, "cancel_url")
    for name, url in (("success_url", success_url), ("cancel_url", cancel_url)):
        if url and not url.startswith(("http://", "https://")):
            raise invalid(name, "Not a valid URL", code="url_invalid")
    submit_type = get_str(params, "submit_type", choices=SUBMIT_TYPES)
    if mode == "subscription" and params.get("payment_intent_data"):
        raise invalid(
            "payment_intent_data", "You can not pass `payment_intent_data` in `subscription` mode."
        )
    if mode == "payment" and params.get("subscription_data"):
        raise invalid(
            "subscription_data", "You can only pass `subscription_data` in `subscription` mode."
        )
    customer_creation = get_str(params, "customer_creation")
    if customer_creation and mode != "payment":
        raise invalid(
            "customer_creation", "`customer_creation` can only be used in `payment` mode."
        )
    customer_id = get_str(params, "customer")
    customer_email = get_str(params, "customer_email")
    if customer_id and customer_email:
        raise invalid(
            "customer_email",
            "You may only specify one of these parameters: customer, customer_email.",
        )
    if customer_id:
        account.require("customer", customer_id, "customer")
    client_reference_id = get_str(params, "client_reference_id")
    if client_reference_id and len(client_reference_id) > 200:
        raise invalid(
            "client_reference_id", "client_reference_id must be at most 200 characters long."
        )
    expires_at = get_int(params, "expires_at")
    created = objects.now()
    if expires_at is not None and not (created + 1800 <= expires_at <= created + 86400):
        raise invalid(
            "expires_at",
            "The `expires_at` timestamp must be between 30 minutes and 24 hours "
            "from Checkout Session creation.",
            code="parameter_invalid_integer",
        )
    metadata = merge_metadata(None, params.get("metadata"))
    payment_intent_data = get_dict(params, "payment_intent_data")
    subscription_data = get_dict(params, "subscription_data")
    merge_metadata(None, payment_intent_data.get("metadata"))
    merge_metadata(None, subscription_data.get("metadata"))

    items, prices, products = _line_items(account, params, mode)
    currency = items[0]["currency"]
    total = sum(item["amount_total"] for item in items)
    _check_amount(currency, total)

    for product in products:
        account.put(product)
    for price in prices:
        account.put(price)
    session_id = "cs_test_" + objects.new_id("a1", 56)
    session = objects.build_checkout_session(
        {
            "id": session_id,
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": cancel_url,
            "client_reference_id": client_reference_id,
            "currency": currency,
            "customer": customer_id,
            "customer_creation": (customer_creation or "if_required")
            if mode == "payment" and not customer_id
            else None,
            "customer_email": customer_email,
            "expires_at": expires_at or created + 86400,
            "invoice_creation": (
                {
                    "enabled": False,
                    "invoice_data": {
                        "account_tax_ids": None,
                        "custom_fields": None,
                        "description": None,
                        "footer": None,
                        "issuer": None,
                        "metadata": {},
                        "rendering_options": None,
                    },
                }
                if mode == "payment"
                else None
            ),
            "locale": get_str(params, "locale"),
            "metadata": metadata,
            "mode": mode,
            "payment_method_types": ["card"],
            "submit_type": submit_type,
            "success_url": success_url,
            "url": f"{public_url}/pay/{session_id}",
        }
    )
    account.put(session)
    account.private(session_id).update(
        line_items=items,
        payment_intent_data=payment_intent_data,
        subscription_data=subscription_data,
    )
    return session


def _line_items(
    account: Account, params: dict, mode: str
) -> tuple[list[dict], list[dict], list[dict]]:
    """Validate `line_items` and return Checkout items plus the inline prices and products."""
    raw_items = params.get("line_items")
    if not raw_items:
        raise missing("line_items")
    if not isinstance(raw_items, list):
        raise invalid("line_items", "Invalid array")
    items, prices, products = [], [], []
    for index, raw in enumerate(raw_items):
        where = f"line_items[{index}]"
        if not isinstance(raw, dict):
            raise invalid(where, "Invalid hash")
        quantity = get_int(raw, "quantity", minimum=1)
        if quantity is None:
            raise missing(f"{where}[quantity]")
        if raw.get("price"):
            price = account.require("price", raw["price"], f"{where}[price]")
            product = account.require("product", price["product"], f"{where}[price]")
        elif raw.get("price_data"):
            price, product = _inline_price(account, raw["price_data"], f"{where}[price_data]")
            prices.append(price)
            if product not in products and account.get("product", product["id"]) is None:
                products.append(product)
        else:
            raise invalid(
                where,
                f"You must specify either `price` or `price_data` in {where}.",
                code="parameter_missing",
            )
        if mode == "payment" and price["recurring"]:
            raise invalid(
                where,
                "You specified `payment` mode but passed a recurring price. "
                "Either switch to `subscription` mode or use only one-time prices.",
            )
        if mode == "subscription" and not price["recurring"]:
            raise invalid(
                where,
                "The sandbox needs every line item in `subscription` mode to "
                "have a recurring price.",
            )
        item = objects.build_session_item(price, product, quantity)
        _check_maximum(item["currency"], item["amount_total"], where)
        items.append(item)
    if len({item["currency"] for item in items}) > 1:
        raise invalid("line_items", "All line items must use the same currency.")
    intervals = {
        (
            item["price"]["recurring"]["interval"],
            item["price"]["recurring"].get("interval_count") or 1,
        )
        for item in items
        if item["price"]["recurring"]
    }
    if len(intervals) > 1:
        raise invalid(
            "line_items",
            "All prices on a subscription must have the same `recurring.interval` and "
            "`recurring.interval_count`.",
        )
    return items, prices, products


def _inline_price(account: Account, data: Any, where: str) -> tuple[dict, dict]:
    """Build the price (and product) that `price_data` describes."""
    if not isinstance(data, dict):
        raise invalid(where, "Invalid hash")
    currency = get_str(data, "currency")
    if not currency:
        raise missing(f"{where}[currency]")
    currency = currency.lower()
    if len(currency) != 3 or not currency.isalpha():
        raise invalid(f"{where}[currency]", f"Invalid currency: {currency}.")
    unit_amount = get_int(data, "unit_amount", minimum=0)
    if unit_amount is None:
        decimal = data.get("unit_amount_decimal")
        if decimal in (None, ""):
            raise missing(f"{where}[unit_amount]")
        try:
            unit_amount = int(float(decimal))
        except ValueError:
            raise invalid(f"{where}[unit_amount_decimal]", f"Invalid decimal: {decimal}") from None
    if data.get("product"):
        product = account.require("product", data["product"], f"{where}[product]")
    else:
        product_data = data.get("product_data")
        if not isinstance(product_data, dict) or not product_data.get("name"):
            raise missing(f"{where}[product_data][name]")
        product = objects.build_product(product_data)
    recurring = data.get("recurring")
    if recurring:
        if not isinstance(recurring, dict) or recurring.get("interval") not in INTERVALS:
            raise invalid(
                f"{where}[recurring][interval]",
                "Invalid recurring[interval]: must be one of day, week, month, or year",
            )
        get_int(recurring, "interval_count", minimum=1)
    price = objects.build_price(currency, unit_amount, product["id"], recurring or None)
    return price, product


def maximum_amount(currency: str) -> int:
    """Return the largest amount Stripe takes in a currency (in the API's minor units)."""
    return MAXIMUM_AMOUNT_BY_CURRENCY.get(currency, MAXIMUM_AMOUNT)


def _check_maximum(currency: str, amount: int, where: str) -> None:
    """Refuse an amount over Stripe's eight digits (more for a few currencies)."""
    limit = maximum_amount(currency)
    if amount > limit:
        raise invalid(
            where,
            f"Amount must be no more than {objects.format_amount(limit, currency)} "
            f"({limit} in the API's minor units).",
            code="amount_too_large",
        )


def _check_amount(currency: str, total: int) -> None:
    """Apply Stripe's minimum and maximum charge and per-currency amount steps."""
    _check_maximum(currency, total, "line_items")
    step = AMOUNT_STEP.get(currency)
    if step and total % step:
        raise invalid(
            "line_items",
            f"Amounts in {currency.upper()} must be a multiple of {step} in the API's minor units.",
            code="amount_invalid",
        )
    minimum = MINIMUM_CHARGE.get(currency, 50)
    if total < minimum:
        raise invalid(
            "line_items",
            f"The Checkout Session's total amount due must add up to at least "
            f"{objects.format_amount(minimum, currency)}.",
            code="amount_too_small",
        )


def expire_overdue(account: Account, session: dict) -> None:
    """Expire an open session whose `expires_at` has passed, as Stripe does in the background."""
    if session["status"] == "open" and session["expires_at"] <= objects.now():
        expire_session(account, session)


def expire_session(account: Account, session: dict, request: dict | None = None) -> dict:
    """Expire an open session. Fires checkout.session.expired."""
    if session["status"] != "open":
        raise invalid(
            "session",
            'Only Checkout Sessions with a status in ["open"] can be '
            f"expired; this one is {session['status']}.",
            code="checkout_session_not_open",
        )
    session.update(status="expired", url=None)
    account.emit("checkout.session.expired", session, request=request)
    return session


# --- paying ---------------------------------------------------------------


def pay_session(
    account: Account,
    session: dict,
    outcome: str = "succeeded",
    email: str | None = None,
    name: str | None = None,
) -> dict:
    """Simulate the donor paying on the hosted page.

    outcome `succeeded` completes the session; `declined` leaves it open; `delayed` (payment mode)
    completes it unpaid until `settle_delayed_payment`. Returns `{"outcome", "redirect_url",
    "message"}`.
    """
    expire_overdue(account, session)
    if session["status"] != "open":
        raise invalid(
            "session",
            f"This Checkout Session is {session['status']}; only open sessions can be paid.",
            code="checkout_session_not_open",
        )
    if outcome not in OUTCOMES:
        raise invalid("outcome", "outcome must be one of " + ", ".join(OUTCOMES))
    if outcome == "requires_action" and session["mode"] != "subscription":
        raise invalid("outcome", "Unfinished 3-D Secure is simulated in subscription mode only.")
    customer = account.get("customer", session.get("customer"))
    email = session.get("customer_email") or email or (customer or {}).get("email") or DEFAULT_EMAIL
    name = name or (customer or {}).get("name")
    if outcome == "declined":
        _decline(account, session, email, name)
        return {"outcome": "declined", "redirect_url": None, "message": DECLINE_MESSAGE}
    # Payment mode with customer_creation=if_required (the default) makes no Customer for a
    # guest: the session keeps only customer_details. Subscriptions always need one.
    if customer is None and (
        session["mode"] == "subscription" or session.get("customer_creation") == "always"
    ):
        customer = account.put(objects.build_customer(email, name))
    customer_id = customer["id"] if customer else None
    method = account.put(
        objects.build_payment_method(
            "card" if outcome == "succeeded" else "us_bank_account", email, name, customer_id
        )
    )
    session.update(customer=customer_id, customer_details=objects.customer_details(email, name))
    if session["mode"] == "subscription":
        assert customer is not None  # made above: subscriptions always have a customer
        return _start_subscription(account, session, customer, method, outcome)
    intent = _session_intent(account, session, customer_id, method)
    # A PaymentIntent first used by a declined attempt had no customer yet.
    intent["customer"] = intent["customer"] or customer_id
    charge = _new_charge(account, intent, method, pending=outcome == "delayed")
    session.update(status="complete", payment_intent=intent["id"], url=None)
    if outcome == "delayed":
        intent.update(
            status="processing",
            payment_method=method["id"],
            payment_method_types=["us_bank_account"],
            latest_charge=charge["id"],
            last_payment_error=None,
        )
        account.emit("payment_intent.processing", intent)
        account.emit("charge.pending", charge)
        account.emit("checkout.session.completed", session)
        return {"outcome": "delayed", "redirect_url": success_redirect(session), "message": None}
    _succeed_intent(intent, charge, method)
    session["payment_status"] = "paid"
    account.emit("payment_intent.succeeded", intent)
    account.emit("charge.succeeded", charge)
    account.emit("checkout.session.completed", session)
    return {"outcome": "succeeded", "redirect_url": success_redirect(session), "message": None}


def _session_intent(
    account: Account, session: dict, customer_id: str | None, method: dict | None
) -> dict:
    """Return the session's PaymentIntent, creating it on the first attempt to pay."""
    intent = account.get("payment_intent", session.get("payment_intent"))
    if intent is not None:
        return intent
    data = account.private(session["id"]).get("payment_intent_data") or {}
    intent = account.put(
        objects.build_payment_intent(
            {
                "amount": session["amount_total"],
                "currency": session["currency"],
                "customer": customer_id,
                "description": data.get("description"),
                "metadata": merge_metadata(None, data.get("metadata")),
                "payment_method": method["id"] if method else None,
                "payment_method_types": ["card"],
                "receipt_email": data.get("receipt_email"),
                "setup_future_usage": data.get("setup_future_usage"),
                "statement_descriptor": data.get("statement_descriptor"),
                "statement_descriptor_suffix": data.get("statement_descriptor_suffix"),
                "status": "requires_payment_method",
                "transfer_group": data.get("transfer_group"),
            }
        )
    )
    session["payment_intent"] = intent["id"]
    return intent


def _new_charge(
    account: Account, intent: dict, method: dict, pending: bool = False, declined: bool = False
) -> dict:
    """Create the charge for one attempt on a PaymentIntent."""
    fields = {
        "amount": intent["amount"],
        "amount_captured": 0 if (pending or declined) else intent["amount"],
        "balance_transaction": None,
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent["description"],
        "metadata": dict(intent["metadata"]),
        "payment_intent": intent["id"],
        "receipt_email": intent["receipt_email"],
        "statement_descriptor": intent["statement_descriptor"],
    }
    charge = objects.build_charge(fields, method)
    if pending:
        charge.update(status="pending", paid=False)
    elif declined:
        charge.update(
            status="failed",
            paid=False,
            captured=False,
            failure_code="card_declined",
            failure_message=DECLINE_MESSAGE,
            outcome={
                "advice_code": "try_again_later",
                "network_advice_code": None,
                "network_decline_code": None,
                "network_status": "declined_by_network",
                "reason": "generic_decline",
                "risk_level": "normal",
                "risk_score": 40,
                "seller_message": "The bank did not return any further details with this decline.",
                "type": "issuer_declined",
            },
        )
    else:
        _attach_charge_transaction(account, charge)
    charge["receipt_url"] = None
    return account.put(charge)


def _attach_charge_transaction(account: Account, charge: dict) -> None:
    """Give a succeeded charge its balance transaction."""
    transaction = account.put(
        objects.build_balance_transaction(
            charge["id"], charge["amount"], charge["currency"], "charge", charge["description"]
        )
    )
    charge["balance_transaction"] = transaction["id"]


def _succeed_intent(intent: dict, charge: dict, method: dict) -> None:
    """Mark a PaymentIntent and its charge as paid."""
    charge.update(status="succeeded", paid=True, amount_captured=charge["amount"])
    intent.update(
        status="succeeded",
        amount_received=intent["amount"],
        latest_charge=charge["id"],
        payment_method=method["id"],
        last_payment_error=None,
    )


def _decline(account: Account, session: dict, email: str, name: str | None) -> None:
    """Record a declined card: a failed charge, the session stays open, nothing is paid."""
    if session["mode"] != "payment":
        return
    method = account.put(objects.build_payment_method("card", email, name, None, last4="0002"))
    intent = _session_intent(account, session, session.get("customer"), method)
    charge = _new_charge(account, intent, method, declined=True)
    intent.update(
        status="requires_payment_method",
        latest_charge=charge["id"],
        payment_method=None,
        last_payment_error={
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": DECLINE_MESSAGE,
            "charge": charge["id"],
            "payment_method": copy.deepcopy(method),
        },
    )
    account.emit("payment_intent.payment_failed", intent)
    account.emit("charge.failed", charge)


def settle_delayed_payment(account: Account, session: dict, succeeded: bool = True) -> dict:
    """Finish a delayed (bank debit) payment. Fires PI, charge and async_payment events."""
    if session["mode"] == "subscription" and session.get("subscription"):
        return _settle_first_invoice(account, session, succeeded)
    intent = account.get("payment_intent", session.get("payment_intent"))
    if (
        session["status"] != "complete"
        or session["payment_status"] != "unpaid"
        or intent is None
        or intent["status"] != "processing"
    ):
        raise invalid(
            "session",
            "This session has no delayed payment waiting to settle.",
            code="payment_intent_unexpected_state",
        )
    charge = account.require("charge", intent["latest_charge"])
    method = account.require("payment_method", charge["payment_method"])
    if succeeded:
        _attach_charge_transaction(account, charge)
        _succeed_intent(intent, charge, method)
        session["payment_status"] = "paid"
        account.emit("payment_intent.succeeded", intent)
        account.emit("charge.succeeded", charge)
        account.emit("checkout.session.async_payment_succeeded", session)
    else:
        _fail_charge(account, intent, charge, method)
        account.emit("checkout.session.async_payment_failed", session)
    return session


def _fail_charge(account: Account, intent: dict, charge: dict, method: dict) -> None:
    """Fail a processing bank debit. Fires payment_intent.payment_failed and charge.failed."""
    charge.update(
        status="failed",
        failure_code="insufficient_funds",
        failure_message="The customer's account has insufficient funds.",
    )
    intent.update(
        status="requires_payment_method",
        last_payment_error={
            "type": "card_error",
            "code": "payment_intent_payment_attempt_failed",
            "message": "The payment failed.",
            "charge": charge["id"],
            "payment_method": copy.deepcopy(method),
        },
    )
    account.emit("payment_intent.payment_failed", intent)
    account.emit("charge.failed", charge)


# --- subscriptions -----------------------------------------------------------


def _start_subscription(
    account: Account, session: dict, customer: dict, method: dict, outcome: str = "succeeded"
) -> dict:
    """Create the subscription and its first invoice, and try to pay it as the donor chose.

    succeeded: active, invoice paid, session complete. delayed (bank debit): `incomplete`, the
    invoice open with a processing payment, the session complete but unpaid. requires_action
    (3-D Secure left unfinished): `incomplete`, the invoice open, the session still open.
    """
    pending = account.get("subscription", account.private(session["id"]).get("subscription"))
    if pending is not None and pending["status"] == "incomplete":
        return _retry_first_invoice(account, session, pending, customer, method, outcome)
    data = account.private(session["id"]).get("subscription_data") or {}
    subscription = objects.build_subscription(
        {
            "currency": session["currency"],
            "customer": customer["id"],
            "default_payment_method": method["id"],
            "description": data.get("description"),
            "metadata": merge_metadata(None, data.get("metadata")),
        }
    )
    start = subscription["start_date"]
    items = []
    for line in account.private(session["id"])["line_items"]:
        price = line["price"]
        interval = price["recurring"]
        end = _period_end(start, interval, 1)
        items.append(
            objects.build_subscription_item(subscription["id"], price, line["quantity"], start, end)
        )
    subscription["items"] = objects.list_object(
        items, f"/v1/subscription_items?subscription={subscription['id']}"
    )
    account.private(subscription["id"])["periods"] = 1
    account.private(session["id"])["subscription"] = subscription["id"]
    invoice = _draft_invoice(account, subscription, customer, "subscription_create", start, start)
    subscription["latest_invoice"] = invoice["id"]
    if outcome != "succeeded":
        subscription["status"] = "incomplete"
    account.put(subscription)
    account.emit("customer.subscription.created", subscription)
    account.emit("invoice.created", invoice)
    return _pay_first_invoice(account, session, subscription, invoice, customer, method, outcome)


def _pay_first_invoice(
    account: Account,
    session: dict,
    subscription: dict,
    invoice: dict,
    customer: dict,
    method: dict,
    outcome: str,
) -> dict:
    """Collect the first invoice and complete (or keep open) the Checkout Session."""
    if outcome == "succeeded":
        before = copy.deepcopy(subscription)
        _collect_invoice(account, invoice, customer, method)
        if before["status"] == "incomplete":
            subscription["status"] = "active"
            account.emit(
                "customer.subscription.updated",
                subscription,
                previous=changes(before, subscription),
            )
        session.update(
            status="complete",
            payment_status="paid",
            subscription=subscription["id"],
            invoice=invoice["id"],
            url=None,
        )
        account.emit("checkout.session.completed", session)
        return {"outcome": "succeeded", "redirect_url": success_redirect(session), "message": None}
    _collect_invoice(account, invoice, customer, method, outcome)
    if outcome == "delayed":
        session.update(
            status="complete",
            payment_status="unpaid",
            subscription=subscription["id"],
            invoice=invoice["id"],
            url=None,
        )
        account.emit("checkout.session.completed", session)
        return {"outcome": "delayed", "redirect_url": success_redirect(session), "message": None}
    return {"outcome": "requires_action", "redirect_url": None, "message": AUTHENTICATION_MESSAGE}


def _retry_first_invoice(
    account: Account, session: dict, subscription: dict, customer: dict, method: dict, outcome: str
) -> dict:
    """Pay an incomplete subscription's open first invoice again, as Checkout does on retry."""
    invoice = account.require("invoice", subscription["latest_invoice"])
    intent = _invoice_intent(account, invoice)
    if intent is not None and intent["status"] == "requires_action":
        intent.update(status="canceled", canceled_at=objects.now(), cancellation_reason="automatic")
        account.emit("payment_intent.canceled", intent)
    subscription["default_payment_method"] = method["id"]
    return _pay_first_invoice(account, session, subscription, invoice, customer, method, outcome)


def _invoice_intent(account: Account, invoice: dict) -> dict | None:
    """Return the PaymentIntent of an invoice's latest invoice payment."""
    for payment in reversed(account.all("invoice_payment")):
        if payment["invoice"] == invoice["id"]:
            return account.get("payment_intent", payment["payment"]["payment_intent"])
    return None


def _period_end(anchor: int, recurring: dict, periods: int) -> int:
    """Return the end of the `periods`-th billing period counted from the anchor."""
    count = int(recurring.get("interval_count") or 1) * periods
    interval = recurring.get("interval", "month")
    if interval == "month":
        return objects.add_months(anchor, count)
    if interval == "year":
        return objects.add_months(anchor, 12 * count)
    days = 7 if interval == "week" else 1
    return anchor + days * count * 86400


def _draft_invoice(
    account: Account,
    subscription: dict,
    customer: dict,
    reason: str,
    period_start: int,
    period_end: int,
) -> dict:
    """Create a draft invoice billing the subscription's current items."""
    invoice = objects.build_invoice(
        {
            "account_name": "Donate sandbox",
            "billing_reason": reason,
            "currency": subscription["currency"],
            "customer": customer["id"],
            "customer_email": customer.get("email"),
            "customer_name": customer.get("name"),
            "description": None,
            "period_start": period_start,
            "period_end": period_end,
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": copy.deepcopy(subscription["metadata"]),
                    "subscription": subscription["id"],
                },
                "type": "subscription_details",
            },
        }
    )
    lines = [
        objects.build_invoice_line(
            invoice["id"],
            subscription["id"],
            item,
            item["current_period_start"],
            item["current_period_end"],
        )
        for item in subscription["items"]["data"]
    ]
    total = sum(line["amount"] for line in lines)
    invoice.update(
        lines=objects.list_object(lines, f"/v1/invoices/{invoice['id']}/lines"),
        amount_due=total,
        amount_remaining=total,
        subtotal=total,
        subtotal_excluding_tax=total,
        total=total,
        total_excluding_tax=total,
    )
    return account.put(invoice)


def _collect_invoice(
    account: Account, invoice: dict, customer: dict, method: dict, outcome: str = "succeeded"
) -> None:
    """Finalize the invoice (once) and pay it with a new PaymentIntent and charge.

    outcome `delayed` leaves the payment processing and `requires_action` waiting for 3-D Secure;
    the invoice stays open either way.
    """
    if invoice["status"] == "draft" and not invoice.get("number"):
        sequence = customer["next_invoice_sequence"]
        customer["next_invoice_sequence"] = sequence + 1
        finalized = objects.now()
        invoice.update(
            status="open",
            number=f"{customer['invoice_prefix']}-{sequence:04d}",
            effective_at=finalized,
        )
        invoice["status_transitions"]["finalized_at"] = finalized
        finalize = True
    else:
        invoice["status"] = "open"
        finalize = False
    description = (
        "Subscription creation"
        if invoice["billing_reason"] == "subscription_create"
        else "Subscription update"
    )
    intent = account.put(
        objects.build_payment_intent(
            {
                "amount": invoice["amount_due"],
                "currency": invoice["currency"],
                "customer": customer["id"],
                "description": description,
                "metadata": {},
                "payment_method": method["id"],
                "payment_method_types": ["card"],
                "receipt_email": None,
                "setup_future_usage": "off_session",
                "statement_descriptor": None,
                "statement_descriptor_suffix": None,
                "status": "processing",
                "transfer_group": None,
            }
        )
    )
    payment = account.put(objects.build_invoice_payment(invoice, intent))
    if finalize:
        account.emit("invoice.finalized", invoice)
    invoice.update(attempted=True, attempt_count=invoice.get("attempt_count", 0) + 1)
    if outcome == "requires_action":
        intent.update(
            status="requires_action",
            next_action={
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {"type": "three_d_secure_redirect"},
            },
        )
        # Stripe counts an attempt awaiting authentication as a failed invoice payment too.
        account.emit("payment_intent.requires_action", intent)
        account.emit("invoice.payment_failed", invoice)
        account.emit("invoice.payment_action_required", invoice)
        return
    charge = _new_charge(account, intent, method, pending=outcome == "delayed")
    if outcome == "delayed":
        intent.update(
            status="processing",
            payment_method_types=["us_bank_account"],
            latest_charge=charge["id"],
        )
        account.emit("payment_intent.processing", intent)
        account.emit("charge.pending", charge)
        return
    _mark_invoice_paid(account, invoice, payment, intent, charge, method)


def _mark_invoice_paid(
    account: Account, invoice: dict, payment: dict, intent: dict, charge: dict, method: dict
) -> None:
    """Record a succeeded invoice payment. Fires PI, charge and invoice paid events."""
    _succeed_intent(intent, charge, method)
    paid = objects.now()
    invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
    invoice["status_transitions"]["paid_at"] = paid
    payment.update(status="paid", amount_paid=invoice["amount_due"])
    payment["status_transitions"]["paid_at"] = paid
    account.emit("payment_intent.succeeded", intent)
    account.emit("charge.succeeded", charge)
    account.emit("invoice.paid", invoice)
    account.emit("invoice.payment_succeeded", invoice)


def _settle_first_invoice(account: Account, session: dict, succeeded: bool) -> dict:
    """Finish the bank debit paying a subscription's first invoice."""
    subscription = account.require("subscription", session["subscription"])
    invoice = account.require("invoice", session["invoice"])
    intent = _invoice_intent(account, invoice)
    if intent is None or intent["status"] != "processing" or invoice["status"] != "open":
        raise invalid(
            "session",
            "This session has no delayed payment waiting to settle.",
            code="payment_intent_unexpected_state",
        )
    charge = account.require("charge", intent["latest_charge"])
    method = account.require("payment_method", charge["payment_method"])
    payment = next(
        p for p in account.all("invoice_payment") if p["payment"]["payment_intent"] == intent["id"]
    )
    if succeeded:
        _attach_charge_transaction(account, charge)
        _mark_invoice_paid(account, invoice, payment, intent, charge, method)
        if subscription["status"] == "incomplete":
            before = copy.deepcopy(subscription)
            subscription["status"] = "active"
            account.emit(
                "customer.subscription.updated",
                subscription,
                previous=changes(before, subscription),
            )
        session["payment_status"] = "paid"
        account.emit("checkout.session.async_payment_succeeded", session)
        return session
    _fail_charge(account, intent, charge, method)
    payment.update(status="failed")
    invoice["next_payment_attempt"] = None
    account.emit("invoice.payment_failed", invoice)
    account.emit("checkout.session.async_payment_failed", session)
    return session


def expire_overdue_objects(account: Account) -> None:
    """Expire open sessions past `expires_at` and incomplete subscriptions past 23 hours."""
    moment = objects.now()
    for session in account.all("checkout.session"):
        if session["status"] == "open" and session["expires_at"] <= moment:
            expire_session(account, session)
    for subscription in account.all("subscription"):
        if (
            subscription["status"] == "incomplete"
            and subscription["created"] + INCOMPLETE_WINDOW <= moment
        ):
            expire_incomplete_subscription(account, subscription)


def expire_incomplete_subscription(account: Account, subscription: dict) -> dict:
    """End a subscription whose first invoice was not paid within 23 hours.

    Its open invoice is voided (invoice.voided) and it becomes `incomplete_expired`
    (customer.subscription.updated). A bank debit still processing keeps it incomplete.
    """
    invoice = account.get("invoice", subscription.get("latest_invoice"))
    intent = _invoice_intent(account, invoice) if invoice else None
    if intent is not None and intent["status"] == "processing":
        return subscription
    if intent is not None and intent["status"] == "requires_action":
        intent.update(status="canceled", canceled_at=objects.now(), cancellation_reason="automatic")
        account.emit("payment_intent.canceled", intent)
    if invoice is not None and invoice["status"] == "open":
        before = copy.deepcopy(invoice)
        invoice.update(status="void", amount_remaining=0)
        invoice["status_transitions"]["voided_at"] = objects.now()
        account.emit("invoice.voided", invoice, previous=changes(before, invoice))
    before = copy.deepcopy(subscription)
    subscription.update(status="incomplete_expired", ended_at=objects.now())
    account.emit(
        "customer.subscription.updated", subscription, previous=changes(before, subscription)
    )
    return subscription


def advance_subscription(account: Account, subscription: dict) -> dict:
    """Move a subscription to its next period: bill and pay it, or end it if cancellation is due.

    Returns `{"subscription", "invoice"}`; invoice is None when nothing was billed.
    """
    if subscription["status"] in ("canceled", "incomplete", "incomplete_expired"):
        return {"subscription": subscription, "invoice": None}
    items = subscription["items"]["data"]
    period_end = items[0]["current_period_end"]
    cancel_at = subscription.get("cancel_at")
    if subscription.get("cancel_at_period_end") or (cancel_at and cancel_at <= period_end):
        subscription.update(status="canceled", ended_at=cancel_at or period_end)
        account.emit("customer.subscription.deleted", subscription)
        return {"subscription": subscription, "invoice": None}
    before = copy.deepcopy(subscription)
    periods = account.private(subscription["id"]).get("periods", 1) + 1
    account.private(subscription["id"])["periods"] = periods
    for item in items:
        recurring = item["price"]["recurring"] or {}
        item.update(
            current_period_start=item["current_period_end"],
            current_period_end=_period_end(
                subscription["billing_cycle_anchor"], recurring, periods
            ),
        )
    customer = account.require("customer", subscription["customer"])
    method = account.require("payment_method", subscription["default_payment_method"])
    invoice = _draft_invoice(
        account,
        subscription,
        customer,
        "subscription_cycle",
        before["items"]["data"][0]["current_period_start"],
        period_end,
    )
    subscription["latest_invoice"] = invoice["id"]
    # Stripe announces the new period before it bills it.
    account.emit(
        "customer.subscription.updated", subscription, previous=changes(before, subscription)
    )
    account.emit("invoice.created", invoice)
    _collect_invoice(account, invoice, customer, method)
    return {"subscription": subscription, "invoice": invoice}


# Terminal statuses: no further invoices, and the subscription cannot be cancelled again.
ENDED_SUBSCRIPTION_STATUSES = frozenset({"canceled", "incomplete_expired"})


def update_subscription(
    account: Account, subscription: dict, params: dict, request: dict | None = None
) -> dict:
    """Apply a subscription update. Fires customer.subscription.updated when anything changed."""
    cancel_at_period_end = get_bool(params, "cancel_at_period_end")
    details = get_dict(params, "cancellation_details")
    _check_updatable(subscription, params)
    before = copy.deepcopy(subscription)
    if "metadata" in params:
        subscription["metadata"] = merge_metadata(subscription["metadata"], params["metadata"])
    if "description" in params:
        subscription["description"] = params["description"] or None
    if cancel_at_period_end is not None:
        _set_cancel_at_period_end(subscription, cancel_at_period_end)
    if details:
        cancellation = dict(subscription["cancellation_details"])
        cancellation.update(
            {key: details[key] or None for key in ("comment", "feedback") if key in details}
        )
        subscription["cancellation_details"] = cancellation
    previous = changes(before, subscription)
    if previous:
        account.emit(
            "customer.subscription.updated", subscription, previous=previous, request=request
        )
    return subscription


def _check_updatable(subscription: dict, params: dict) -> None:
    """Refuse what Stripe refuses: an ended subscription keeps only its cancellation details and
    metadata; an incomplete one (first payment not made) only its metadata."""
    status = subscription["status"]
    changing = set(params) - {"metadata", "expand"}
    if status in ENDED_SUBSCRIPTION_STATUSES and changing - {"cancellation_details"}:
        raise invalid(
            "subscription",
            f"A {status} subscription can only update its cancellation_details and metadata.",
        )
    if status == "incomplete" and changing:
        raise invalid(
            "subscription",
            "A subscription in incomplete status can only update its metadata until its "
            "first invoice is paid.",
        )


def _set_cancel_at_period_end(subscription: dict, flag: bool) -> None:
    """Schedule (or withdraw) cancellation at the end of the current period."""
    if flag:
        subscription.update(
            cancel_at_period_end=True,
            cancel_at=subscription["items"]["data"][0]["current_period_end"],
            canceled_at=objects.now(),
            cancellation_details={
                **subscription["cancellation_details"],
                "reason": "cancellation_requested",
            },
        )
    else:
        subscription.update(
            cancel_at_period_end=False,
            cancel_at=None,
            canceled_at=None,
            cancellation_details={**subscription["cancellation_details"], "reason": None},
        )


def cancel_subscription(
    account: Account, subscription: dict, request: dict | None = None, params: dict | None = None
) -> dict:
    """Cancel a subscription now. Fires customer.subscription.deleted."""
    if subscription["status"] in ENDED_SUBSCRIPTION_STATUSES:
        raise invalid(
            "subscription",
            f"The subscription {subscription['id']} has already been canceled.",
            code="resource_already_canceled",
        )
    details = get_dict(params or {}, "cancellation_details")
    if details:
        subscription["cancellation_details"] = {
            **subscription["cancellation_details"],
            **{key: details[key] or None for key in ("comment", "feedback") if key in details},
        }
    moment = objects.now()
    subscription.update(
        status="canceled",
        canceled_at=subscription.get("canceled_at") or moment,
        ended_at=moment,
        cancel_at=None
        if not subscription.get("cancel_at_period_end")
        else subscription["cancel_at"],
        cancellation_details={
            **subscription["cancellation_details"],
            "reason": "cancellation_requested",
        },
    )
    account.emit("customer.subscription.deleted", subscription, request=request)
    return subscription


# --- refunds ---------------------------------------------------------------


def find_charge(account: Account, payment_id: str, param: str = "charge") -> dict:
    """Return the charge behind a charge id or a PaymentIntent id (its latest charge)."""
    if objects.kind_of(payment_id) == "payment_intent":
        intent = account.require("payment_intent", payment_id, param)
        charge = account.get("charge", intent.get("latest_charge"))
        if charge is None or charge["status"] != "succeeded":
            raise invalid(
                param,
                f"This PaymentIntent ({payment_id}) does not have a successful charge.",
                code="charge_not_refundable",
            )
        return charge
    charge = account.get("charge", payment_id)
    if charge is None:
        raise no_such("charge", payment_id, param)
    return charge


def create_refund(account: Account, params: dict, request: dict | None = None) -> dict:
    """Refund all or part of a charge. Fires refund.created, charge.refunded, refund.updated."""
    charge_id = get_str(params, "charge")
    intent_id = get_str(params, "payment_intent")
    payment_id = charge_id or intent_id
    if not payment_id:
        raise StripeError(
            "One of the following params should be provided for this request: "
            "payment_intent or charge.",
            code="parameter_missing",
        )
    if charge_id and intent_id:
        raise invalid(
            "payment_intent",
            "You may only specify one of these parameters: charge, payment_intent.",
        )
    charge = find_charge(account, payment_id, "charge" if charge_id else "payment_intent")
    if charge["status"] != "succeeded":
        raise invalid(
            "charge",
            f"Charge {charge['id']} has not succeeded and cannot be refunded.",
            code="charge_not_refundable",
        )
    if _open_chargeback(account, charge):
        raise invalid(
            "charge",
            f"Charge {charge['id']} has been charged back; cannot issue a refund.",
            code="charge_disputed",
        )
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining <= 0:
        raise invalid(
            "charge",
            f"Charge {charge['id']} has already been refunded.",
            code="charge_already_refunded",
        )
    amount = get_int(params, "amount", minimum=1)
    if amount is None:
        amount = remaining
    if amount > remaining:
        currency = charge["currency"]
        raise invalid(
            "amount",
            f"Refund amount ({objects.format_amount(amount, currency)}) is greater than "
            f"unrefunded amount on charge ({objects.format_amount(remaining, currency)})",
            code="amount_too_large",
        )
    reason = get_str(params, "reason", choices=("duplicate", "fraudulent", "requested_by_customer"))
    metadata = merge_metadata(None, params.get("metadata"))
    refund = objects.build_refund(
        {
            "amount": amount,
            "charge": charge["id"],
            "currency": charge["currency"],
            "metadata": metadata,
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "succeeded",
            "customer": charge["customer"],
            "destination_details": {
                "card": {
                    "reference": None,
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "payment_method": charge["payment_method"],
        }
    )
    transaction = account.put(
        objects.build_balance_transaction(
            refund["id"], -amount, charge["currency"], "refund", "REFUND FOR CHARGE"
        )
    )
    refund["balance_transaction"] = transaction["id"]
    account.put(refund)
    account.emit("refund.created", refund, request=request)
    before = copy.deepcopy(charge)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    account.emit("charge.refunded", charge, previous=changes(before, charge), request=request)
    before = copy.deepcopy(refund)
    refund["destination_details"]["card"].update(
        reference=objects.new_id("", 23), reference_status="available"
    )
    account.emit("refund.updated", refund, previous=changes(before, refund))
    return refund


def fail_refund(account: Account, refund: dict, reason: str | None = None) -> dict:
    """Fail a refund: the money goes back to the charge. Fires refund.failed, refund.updated."""
    if refund["status"] not in ("succeeded", "pending"):
        raise invalid(
            "refund",
            f"Refund {refund['id']} is {refund['status']}; only succeeded or "
            "pending refunds can fail.",
        )
    charge = account.require("charge", refund["charge"])
    before = copy.deepcopy(refund)
    transaction = account.put(
        objects.build_balance_transaction(
            refund["id"], refund["amount"], refund["currency"], "refund_failure", "REFUND FAILURE"
        )
    )
    refund.update(
        status="failed",
        failure_reason=reason or "expired_or_canceled_card",
        failure_balance_transaction=transaction["id"],
    )
    charge["amount_refunded"] = max(charge["amount_refunded"] - refund["amount"], 0)
    charge["refunded"] = False
    account.emit("refund.failed", refund)
    account.emit("refund.updated", refund, previous=changes(before, refund))
    return refund


# --- disputes --------------------------------------------------------------

CLOSED_DISPUTE = ("won", "lost", "warning_closed", "prevented")


def _open_chargeback(account: Account, charge: dict) -> bool:
    """Return whether the charge has a chargeback (not an inquiry) still open or lost."""
    return any(
        dispute["charge"] == charge["id"]
        and not dispute["status"].startswith("warning_")
        and dispute["status"] != "won"
        for dispute in account.all("dispute")
    )


def open_dispute(
    account: Account,
    charge: dict,
    amount: int | None = None,
    reason: str = "fraudulent",
    inquiry: bool = False,
) -> dict:
    """Open a dispute (or an inquiry). Fires charge.dispute.created, and funds_withdrawn for a
    chargeback."""
    if charge["status"] != "succeeded":
        raise invalid("charge", f"Charge {charge['id']} has not succeeded; it cannot be disputed.")
    if any(found["charge"] == charge["id"] for found in account.all("dispute")):
        raise invalid(
            "charge",
            f"Charge {charge['id']} already has a dispute.",
            code="charge_already_disputed",
        )
    amount = charge["amount"] if amount is None else amount
    if not 1 <= amount <= charge["amount"]:
        raise invalid("amount", f"A dispute amount must be between 1 and {charge['amount']}.")
    dispute = objects.build_dispute(
        {
            "amount": amount,
            "charge": charge["id"],
            "currency": charge["currency"],
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "metadata": {},
        },
        inquiry=inquiry,
        due_by=objects.now() + 7 * 86400,
    )
    account.put(dispute)
    charge["disputed"] = True
    account.emit("charge.dispute.created", dispute)
    if not inquiry:
        _move_dispute_funds(account, dispute, -amount, "charge.dispute.funds_withdrawn")
    return dispute


def _move_dispute_funds(account: Account, dispute: dict, amount: int, event_type: str) -> None:
    """Add the balance transaction of a withdrawal or reinstatement and announce it."""
    transaction = objects.build_balance_transaction(
        dispute["id"],
        amount,
        dispute["currency"],
        "adjustment",
        f"Chargeback {'withdrawal' if amount < 0 else 'reversal'} for {dispute['charge']}",
    )
    if amount < 0:
        transaction["fee"] = 1500
        transaction["net"] = amount - 1500
    account.put(transaction)
    dispute["balance_transactions"].append(copy.deepcopy(transaction))
    account.emit(event_type, dispute)


def resolve_dispute(account: Account, dispute: dict, outcome: str) -> dict:
    """Close a dispute as won or lost. Fires charge.dispute.updated, then charge.dispute.closed
    (and charge.dispute.funds_reinstated when a chargeback is won)."""
    if dispute["status"] in CLOSED_DISPUTE:
        raise invalid(
            "dispute",
            f"Dispute {dispute['id']} is already closed ({dispute['status']}).",
            code="dispute_already_closed",
        )
    inquiry = dispute["status"].startswith("warning_")
    appeal = dispute["status"].startswith("appeal_")
    before = copy.deepcopy(dispute)
    if appeal:
        dispute["status"] = "appeal_under_review"
    else:
        dispute["status"] = "warning_under_review" if inquiry else "under_review"
    if dispute["status"] != before["status"]:
        submissions = dispute["evidence_details"].get("submission_count") or 0
        dispute["evidence_details"].update(has_evidence=True, submission_count=submissions + 1)
        account.emit("charge.dispute.updated", dispute, previous=changes(before, dispute))
    if outcome == "won":
        dispute.update(status="warning_closed" if inquiry else "won", is_charge_refundable=inquiry)
    else:
        dispute.update(status="lost", is_charge_refundable=False)
    account.emit("charge.dispute.closed", dispute)
    if outcome == "won" and not inquiry:
        _move_dispute_funds(account, dispute, dispute["amount"], "charge.dispute.funds_reinstated")
    return dispute


def appeal_dispute(account: Account, dispute: dict) -> dict:
    """Open an appeal on a lost chargeback: `lost` -> `appeal_needs_response`.

    Fires charge.dispute.updated; answering (evidence[appeal] with submit=true) moves it to
    `appeal_under_review`, and the win or lose controls close it again.
    """
    chargeback = any(transaction["amount"] < 0 for transaction in dispute["balance_transactions"])
    if dispute["status"] != "lost" or not chargeback:
        raise invalid(
            "dispute",
            f"Only lost chargebacks can be appealed; {dispute['id']} is {dispute['status']}.",
        )
    before = copy.deepcopy(dispute)
    dispute["status"] = "appeal_needs_response"
    dispute["evidence_details"] = {
        **dispute["evidence_details"],
        "due_by": objects.now() + 7 * 86400,
        "past_due": False,
    }
    account.emit("charge.dispute.updated", dispute, previous=changes(before, dispute))
    return dispute


def accept_dispute(account: Account, dispute: dict, request: dict | None = None) -> dict:
    """Accept (close) a dispute through the API: it is lost. Fires charge.dispute.closed."""
    if dispute["status"] in CLOSED_DISPUTE:
        raise invalid(
            "dispute", f"Dispute {dispute['id']} is already closed.", code="dispute_already_closed"
        )
    dispute.update(status="lost", is_charge_refundable=False)
    account.emit("charge.dispute.closed", dispute, request=request)
    return dispute


def reverse_dispute(account: Account, dispute: dict) -> dict:
    """Turn a lost dispute into a won one (a late reversal). Fires charge.dispute.updated,
    charge.dispute.closed and, for a chargeback, charge.dispute.funds_reinstated."""
    if dispute["status"] != "lost":
        raise invalid(
            "dispute",
            f"Only lost disputes can be reversed; {dispute['id']} is {dispute['status']}.",
        )
    before = copy.deepcopy(dispute)
    dispute["status"] = "won"
    account.emit("charge.dispute.updated", dispute, previous=changes(before, dispute))
    account.emit("charge.dispute.closed", dispute)
    if any(transaction["amount"] < 0 for transaction in dispute["balance_transactions"]):
        _move_dispute_funds(account, dispute, dispute["amount"], "charge.dispute.funds_reinstated")
    return dispute


def update_dispute(
    account: Account, dispute: dict, params: dict, request: dict | None = None
) -> dict:
    """Update metadata or evidence. Fires charge.dispute.updated when anything changed."""
    if dispute["status"] in CLOSED_DISPUTE and params.get("evidence"):
        raise invalid("evidence", "This dispute is already closed.", code="dispute_already_closed")
    before = copy.deepcopy(dispute)
    if "metadata" in params:
        dispute["metadata"] = merge_metadata(dispute["metadata"], params["metadata"])
    evidence = get_dict(params, "evidence")
    if evidence:
        merged = dict(dispute["evidence"])
        merged.update(
            {
                key: value or None
                for key, value in evidence.items()
                if isinstance(value, (str, dict))
            }
        )
        dispute["evidence"] = merged
        dispute["evidence_details"] = {**dispute["evidence_details"], "has_evidence": True}
    if get_bool(params, "submit") and dispute["status"] in (
        "needs_response",
        "warning_needs_response",
        "appeal_needs_response",
    ):
        dispute["status"] = dispute["status"].replace("needs_response", "under_review")
        dispute["evidence_details"] = {**dispute["evidence_details"], "submission_count": 1}
    previous = changes(before, dispute)
    if previous:
        account.emit("charge.dispute.updated", dispute, previous=previous, request=request)
    return dispute
