"""Build Stripe objects from copies of Stripe's sample fixtures, so unlisted fields stay real."""

from __future__ import annotations

import contextvars
import copy
import json
import secrets
import string
import time
from calendar import monthrange
from datetime import UTC, datetime
from pathlib import Path

FIXTURES_PATH = Path(__file__).with_name("fixtures.json")
_ALPHABET = string.ascii_letters + string.digits

# Currencies whose API amounts have no minor unit, or three decimals.
# ISK and UGX are absent on purpose: Stripe's API takes them with two decimals.
ZERO_DECIMAL = {
    "bif",
    "clp",
    "djf",
    "gnf",
    "jpy",
    "kmf",
    "krw",
    "mga",
    "pyg",
    "rwf",
    "vnd",
    "vuv",
    "xaf",
    "xof",
    "xpf",
}
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}

# Id prefixes, longest first so `inpay_` wins over `in_`.
KIND_BY_PREFIX = [
    ("cs_", "checkout.session"),
    ("inpay_", "invoice_payment"),
    ("in_", "invoice"),
    ("pi_", "payment_intent"),
    ("ch_", "charge"),
    ("re_", "refund"),
    ("dp_", "dispute"),
    ("sub_", "subscription"),
    ("si_", "subscription_item"),
    ("cus_", "customer"),
    ("evt_", "event"),
    ("we_", "webhook_endpoint"),
    ("bps_", "billing_portal.session"),
    ("bpc_", "billing_portal.configuration"),
    ("price_", "price"),
    ("prod_", "product"),
    ("txn_", "balance_transaction"),
    ("pm_", "payment_method"),
]

_fixtures: dict | None = None


def fixture(name: str) -> dict:
    """Return a fresh deep copy of Stripe's sample object `name`."""
    global _fixtures
    if _fixtures is None:
        _fixtures = json.loads(FIXTURES_PATH.read_text(encoding="utf-8"))["resources"]
    return copy.deepcopy(_fixtures[name])


# Seconds the sandbox's simulated clock runs ahead of the wall clock (set per request/thread).
_clock_offset: contextvars.ContextVar[int] = contextvars.ContextVar("clock_offset", default=0)


def use_clock(offset: int) -> None:
    """Make `now()` in this thread read the sandbox's simulated clock."""
    _clock_offset.set(int(offset))


def now() -> int:
    """Return the simulated unix time, as Stripe's `created` fields carry it."""
    return int(time.time()) + _clock_offset.get()


def new_id(prefix: str, length: int = 24) -> str:
    """Return a random id with Stripe's prefix for the object type."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def kind_of(object_id: object) -> str | None:
    """Return the object type an id's prefix names, or None."""
    if not isinstance(object_id, str):
        return None
    for prefix, kind in KIND_BY_PREFIX:
        if object_id.startswith(prefix):
            return kind
    return None


def list_object(items: list, url: str, has_more: bool = False) -> dict:
    """Wrap items in Stripe's list envelope."""
    return {"object": "list", "data": items, "has_more": has_more, "url": url}


def add_months(timestamp: int, months: int, anchor_day: int | None = None) -> int:
    """Move a unix time by whole calendar months, keeping the anchor day where it exists."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or moment.day, monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def format_amount(amount: int, currency: str) -> str:
    """Format minor units for the sandbox's own pages (Stripe's exponent, not the locale's)."""
    currency = currency.lower()
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency.upper()}"
    exponent = 3 if currency in THREE_DECIMAL else 2
    whole, fraction = divmod(abs(amount), 10**exponent)
    sign = "-" if amount < 0 else ""
    return f"{sign}{whole}.{fraction:0{exponent}d} {currency.upper()}"


# --- catalogue -------------------------------------------------------------


def build_product(product_data: dict) -> dict:
    """Return a product made inline from `price_data[product_data]`."""
    product = fixture("product")
    created = now()
    product.update(
        id=new_id("prod_", 14),
        created=created,
        updated=created,
        name=product_data.get("name"),
        description=product_data.get("description"),
        images=list(product_data.get("images") or []),
        metadata=dict(product_data.get("metadata") or {}),
        default_price=None,
        package_dimensions=None,
        shippable=None,
        statement_descriptor=None,
        tax_code=product_data.get("tax_code"),
        type="service",
        unit_label=None,
        url=None,
        active=False,
    )
    return product


def build_price(currency: str, unit_amount: int, product_id: str, recurring: dict | None) -> dict:
    """Return an inline price for a line item's `price_data`."""
    price = fixture("price")
    price.update(
        id=new_id("price_"),
        created=now(),
        currency=currency,
        unit_amount=unit_amount,
        unit_amount_decimal=str(unit_amount),
        product=product_id,
        active=False,
        transform_quantity=None,
        custom_unit_amount=None,
        type="recurring" if recurring else "one_time",
        recurring=None,
    )
    if recurring:
        price["recurring"] = {
            "interval": recurring["interval"],
            "interval_count": int(recurring.get("interval_count") or 1),
            "meter": None,
            "usage_type": "licensed",
            "trial_period_days": None,
        }
    return price


def build_session_item(price: dict, product: dict, quantity: int) -> dict:
    """Return a Checkout line item (`object: item`)."""
    item = fixture("item")
    amount = price["unit_amount"] * quantity
    item.update(
        id=new_id("li_"),
        amount_discount=0,
        amount_subtotal=amount,
        amount_tax=0,
        amount_total=amount,
        currency=price["currency"],
        description=product["name"],
        price=copy.deepcopy(price),
        quantity=quantity,
        metadata={},
        adjustable_quantity=None,
    )
    return item


# --- checkout --------------------------------------------------------------


def build_checkout_session(fields: dict) -> dict:
    """Return an open Checkout Session; `fields` overwrite the fixture's values."""
    session = fixture("checkout.session")
    created = now()
    session.update(
        after_expiration=None,
        allow_promotion_codes=None,
        automatic_tax={"enabled": False, "liability": None, "status": None, "provider": None},
        billing_address_collection=None,
        client_secret=None,
        consent=None,
        consent_collection=None,
        created=created,
        custom_fields=[],
        custom_text={
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        customer=None,
        customer_details=None,
        expires_at=created + 24 * 3600,
        invoice=None,
        livemode=False,
        payment_intent=None,
        payment_link=None,
        payment_method_collection="always",
        payment_method_configuration_details=None,
        payment_method_options={},
        payment_status="unpaid",
        phone_number_collection={"enabled": False},
        recovered_from=None,
        saved_payment_method_options=None,
        setup_intent=None,
        shipping_address_collection=None,
        shipping_cost=None,
        shipping_options=[],
        status="open",
        subscription=None,
        total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        ui_mode="hosted",
        adaptive_pricing={"enabled": False},
        discounts=[],
        collected_information=None,
        permissions=None,
        wallet_options=None,
        origin_context=None,
        currency_conversion=None,
        customer_account=None,
        integration_identifier=None,
        managed_payments={"enabled": False},
    )
    session.update(fields)
    return session


def customer_details(email: str | None, name: str | None) -> dict:
    """Return the `customer_details` Checkout fills in when the donor pays."""
    return {
        "address": {
            "city": None,
            "country": None,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
        "email": email,
        "name": name,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
        "business_name": None,
        "individual_name": None,
    }


# --- customers and payment methods ------------------------------------------


def build_customer(
    email: str | None,
    name: str | None,
    metadata: dict | None = None,
    description: str | None = None,
) -> dict:
    """Return a customer."""
    customer = fixture("customer")
    customer.update(
        id=new_id("cus_", 14),
        created=now(),
        currency=None,
        discount=None,
        email=email,
        name=name,
        description=description,
        metadata=dict(metadata or {}),
        invoice_prefix="".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(8)
        ),
        next_invoice_sequence=1,
        shipping=None,
    )
    return customer


def build_payment_method(
    kind: str, email: str | None, name: str | None, customer: str | None, last4: str = "4242"
) -> dict:
    """Return a card (or bank debit) payment method like the one the donor typed in."""
    method = fixture("payment_method")
    method.update(
        id=new_id("pm_"),
        created=now(),
        customer=customer,
        metadata={},
        allow_redisplay="limited",
    )
    method["billing_details"].update(
        email=email,
        name=name,
        phone=None,
        address={
            "city": None,
            "country": None,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
    )
    if kind == "card":
        method["card"].update(last4=last4, wallet=None, generated_from=None)
    else:
        method.pop("card", None)
        method["type"] = "us_bank_account"
        method["us_bank_account"] = bank_account_details()
    return method


def bank_account_details() -> dict:
    """Return the test bank account used by the delayed payment method."""
    return {
        "account_holder_type": "individual",
        "account_type": "checking",
        "bank_name": "STRIPE TEST BANK",
        "fingerprint": "FFDMA0xfhBjWSZLu",
        "last4": "6789",
        "routing_number": "110000000",
    }


# --- payments --------------------------------------------------------------


def build_payment_intent(fields: dict) -> dict:
    """Return a PaymentIntent; `fields` overwrite the fixture's values."""
    intent = fixture("payment_intent")
    intent_id = new_id("pi_")
    intent.update(
        id=intent_id,
        created=now(),
        amount_received=0,
        automatic_payment_methods=None,
        canceled_at=None,
        capture_method="automatic_async",
        client_secret=f"{intent_id}_secret_{new_id('', 25)}",
        last_payment_error=None,
        latest_charge=None,
        next_action=None,
        payment_method_configuration_details=None,
        processing=None,
        shipping=None,
        transfer_data=None,
        managed_payments={"enabled": False},
    )
    intent.update(fields)
    return intent


def build_charge(fields: dict, method: dict) -> dict:
    """Return a charge paid with `method`; the `refunds` list is omitted as the API does now."""
    charge = fixture("charge")
    charge.pop("refunds", None)
    charge.update(
        id=new_id("ch_"),
        created=now(),
        amount_refunded=0,
        application_fee=None,
        billing_details=copy.deepcopy(method["billing_details"]),
        calculated_statement_descriptor="SANDBOX* DONATION",
        captured=True,
        disputed=False,
        failure_balance_transaction=None,
        failure_code=None,
        failure_message=None,
        paid=True,
        payment_method=method["id"],
        refunded=False,
        shipping=None,
        source=None,
        status="succeeded",
        transfer_data=None,
        outcome={
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
    )
    details = charge["payment_method_details"]
    if method["type"] == "card":
        details["card"].update(
            last4=method["card"]["last4"],
            wallet=None,
            installments=None,
            amount_authorized=fields.get("amount"),
        )
        details["card"]["overcapture"]["maximum_amount_capturable"] = fields.get("amount")
    else:
        charge["payment_method_details"] = {
            "type": "us_bank_account",
            "us_bank_account": bank_account_details(),
        }
    charge["receipt_url"] = None
    charge.update(fields)
    return charge


def build_balance_transaction(
    source_id: str, amount: int, currency: str, kind: str, description: str | None
) -> dict:
    """Return the balance transaction a charge, refund or dispute moves money with."""
    transaction = fixture("balance_transaction")
    # An approximation of card pricing, so net amounts are not all equal to gross.
    fee = round(abs(amount) * 0.029) + 30 if kind == "charge" else 0
    created = now()
    transaction.update(
        id=new_id("txn_"),
        amount=amount,
        available_on=created + 2 * 86400,
        created=created,
        currency=currency,
        description=description,
        fee=fee,
        fee_details=(
            [
                {
                    "amount": fee,
                    "application": None,
                    "currency": currency,
                    "description": "Stripe processing fees",
                    "type": "stripe_fee",
                }
            ]
            if fee
            else []
        ),
        net=amount - fee,
        reporting_category={"charge": "charge", "refund": "refund", "adjustment": "dispute"}.get(
            kind, kind
        ),
        source=source_id,
        status="pending",
        type=kind,
    )
    return transaction


def build_refund(fields: dict) -> dict:
    """Return a refund; `fields` overwrite the fixture's values."""
    refund = fixture("refund")
    refund.update(id=new_id("re_"), created=now(), payment_method=None)
    refund.update(fields)
    return refund


def build_dispute(fields: dict, inquiry: bool, due_by: int) -> dict:
    """Return a dispute (or an inquiry, Stripe's `warning_*` statuses)."""
    dispute = fixture("dispute")
    dispute.update(
        id=new_id("dp_"),
        created=now(),
        balance_transactions=[],
        is_charge_refundable=inquiry,
        status="warning_needs_response" if inquiry else "needs_response",
        enhanced_eligibility_types=[],
    )
    dispute["evidence_details"].update(
        due_by=due_by, has_evidence=False, past_due=False, submission_count=0
    )
    dispute["payment_method_details"]["card"]["case_type"] = "inquiry" if inquiry else "chargeback"
    dispute.update(fields)
    return dispute


# --- billing ---------------------------------------------------------------


def build_subscription(fields: dict) -> dict:
    """Return an active subscription; `fields` overwrite the fixture's values."""
    subscription = fixture("subscription")
    created = now()
    subscription.update(
        id=new_id("sub_"),
        created=created,
        start_date=created,
        billing_cycle_anchor=created,
        billing_cycle_anchor_config=None,
        cancel_at=None,
        canceled_at=None,
        cancel_at_period_end=False,
        ended_at=None,
        cancellation_details={"comment": None, "feedback": None, "reason": None},
        next_pending_invoice_item_invoice=None,
        pause_collection=None,
        pending_invoice_item_interval=None,
        pending_update=None,
        status="active",
        transfer_data=None,
        trial_end=None,
        trial_start=None,
        trial_settings={"end_behavior": {"missing_payment_method": "create_invoice"}},
        billing_schedules=[],
        managed_payments={"enabled": False},
        description=None,
    )
    subscription["payment_settings"].update(
        payment_method_types=None, save_default_payment_method="off"
    )
    subscription.update(fields)
    return subscription


def build_subscription_item(
    subscription_id: str, price: dict, quantity: int, period_start: int, period_end: int
) -> dict:
    """Return a subscription item; in current API versions it carries the billing period."""
    item = fixture("subscription_item")
    item.update(
        id=new_id("si_", 14),
        created=now(),
        price=copy.deepcopy(price),
        quantity=quantity,
        subscription=subscription_id,
        current_period_start=period_start,
        current_period_end=period_end,
        billing_thresholds=None,
        metadata={},
    )
    recurring = price.get("recurring") or {}
    item["plan"].update(
        id=price["id"],
        active=False,
        amount=price["unit_amount"],
        amount_decimal=str(price["unit_amount"]),
        billing_scheme="per_unit",
        created=price["created"],
        currency=price["currency"],
        interval=recurring.get("interval", "month"),
        interval_count=recurring.get("interval_count", 1),
        livemode=False,
        metadata={},
        product=price["product"],
        transform_usage=None,
    )
    return item


def build_invoice(fields: dict) -> dict:
    """Return a draft invoice in the current API shape (no `subscription`, `charge`,
    `payment_intent` on the invoice; the subscription sits under `parent`)."""
    invoice = fixture("invoice")
    for removed in ("subscription", "charge", "payment_intent", "paid"):
        invoice.pop(removed, None)
    created = now()
    invoice.update(
        id=new_id("in_"),
        created=created,
        amount_overpaid=0,
        amount_paid=0,
        attempt_count=0,
        attempted=False,
        auto_advance=True,
        automatically_finalizes_at=None,
        due_date=None,
        effective_at=None,
        ending_balance=None,
        from_invoice=None,
        hosted_invoice_url=None,
        invoice_pdf=None,
        issuer={"type": "self"},
        last_finalization_error=None,
        next_payment_attempt=None,
        number=None,
        shipping_cost=None,
        shipping_details=None,
        status="draft",
        status_transitions={
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        total_discount_amounts=[],
        total_pretax_credit_amounts=[],
        total_taxes=[],
        webhooks_delivered_at=None,
        customer_account=None,
    )
    invoice.update(fields)
    return invoice


def build_invoice_line(
    invoice_id: str, subscription_id: str, item: dict, period_start: int, period_end: int
) -> dict:
    """Return the invoice line a subscription item bills for one period."""
    line = fixture("line_item")
    price = item["price"]
    amount = price["unit_amount"] * item["quantity"]
    interval = (price.get("recurring") or {}).get("interval", "month")
    unit = format_amount(price["unit_amount"], price["currency"])
    line.update(
        id=new_id("il_"),
        amount=amount,
        currency=price["currency"],
        description=f"{item['quantity']} × (at {unit} / {interval})",
        discount_amounts=[],
        discounts=[],
        invoice=invoice_id,
        metadata={},
        period={"start": period_start, "end": period_end},
        quantity=item["quantity"],
        subscription=subscription_id,
        pretax_credit_amounts=[],
        taxes=[],
        parent={
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": subscription_id,
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        pricing={
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": str(price["unit_amount"]),
        },
        subtotal=amount,
        quantity_decimal=str(item["quantity"]),
    )
    return line


def build_invoice_payment(invoice: dict, intent: dict) -> dict:
    """Return the invoice payment that links an invoice to the PaymentIntent that paid it."""
    payment = fixture("invoice_payment")
    payment.update(
        id=new_id("inpay_"),
        amount_paid=None,
        amount_requested=invoice["amount_due"],
        created=now(),
        currency=invoice["currency"],
        invoice=invoice["id"],
        is_default=True,
        livemode=False,
        payment={"payment_intent": intent["id"], "type": "payment_intent"},
        status="open",
        status_transitions={"canceled_at": None, "paid_at": None},
    )
    return payment


# --- portal and webhooks ----------------------------------------------------


def build_portal_configuration(fields: dict) -> dict:
    """Return a Customer Portal configuration; `fields` overwrite the fixture's values."""
    configuration = fixture("billing_portal.configuration")
    created = now()
    configuration.update(
        id=new_id("bpc_"),
        created=created,
        updated=created,
        livemode=False,
        is_default=False,
        metadata={},
    )
    configuration["business_profile"].update(privacy_policy_url=None, terms_of_service_url=None)
    configuration["features"]["subscription_cancel"].update(enabled=True, mode="at_period_end")
    configuration.update(fields)
    return configuration


def build_portal_session(fields: dict) -> dict:
    """Return a Customer Portal session; its `url` is a sandbox page."""
    session = fixture("billing_portal.session")
    session.update(
        id=new_id("bps_"), created=now(), livemode=False, flow=None, on_behalf_of=None, locale=None
    )
    session.update(fields)
    return session


def build_webhook_endpoint(fields: dict) -> dict:
    """Return a webhook endpoint; the caller adds `secret` to the creation response only."""
    endpoint = fixture("webhook_endpoint")
    endpoint.update(
        id=new_id("we_"),
        created=now(),
        livemode=False,
        description=None,
        metadata={},
        status="enabled",
    )
    endpoint.update(fields)
    return endpoint


def build_event(
    event_type: str,
    data_object: dict,
    api_version: str,
    previous_attributes: dict | None,
    request: dict | None,
    pending_webhooks: int,
) -> dict:
    """Return an event carrying a snapshot of `data_object`."""
    event = fixture("event")
    data: dict = {"object": copy.deepcopy(data_object)}
    if previous_attributes is not None:
        data["previous_attributes"] = copy.deepcopy(previous_attributes)
    event.update(
        id=new_id("evt_"),
        api_version=api_version,
        created=now(),
        data=data,
        livemode=False,
        pending_webhooks=pending_webhooks,
        request=request or {"id": None, "idempotency_key": None},
        type=event_type,
    )
    return event
