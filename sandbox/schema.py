"""Refuse parameters Stripe does not know, read from stripe-python's typed params classes.

stripe-python's `stripe.params` TypedDicts are generated from Stripe's OpenAPI spec for the
pinned API version, so walking them gives the parameter names, nested hashes and enum values
Stripe accepts, and they follow the library when it is upgraded. A class is compiled on first
use and kept.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
import typing
from decimal import Decimal, InvalidOperation
from typing import Any, ForwardRef, Literal, Union, get_args, get_origin

import typing_extensions

from sandbox.errors import StripeError, invalid, missing

# Flask endpoint (blueprint view) -> stripe-python params class under `stripe.params`.
ENDPOINT_PARAMS = {
    "create_checkout_session": "checkout.SessionCreateParams",
    "list_checkout_sessions": "checkout.SessionListParams",
    "retrieve_checkout_session": "checkout.SessionRetrieveParams",
    "update_checkout_session": "checkout.SessionUpdateParams",
    "expire_checkout_session": "checkout.SessionExpireParams",
    "list_checkout_line_items": "checkout.SessionLineItemListParams",
    "list_payment_intents": "PaymentIntentListParams",
    "retrieve_payment_intent": "PaymentIntentRetrieveParams",
    "update_payment_intent": "PaymentIntentUpdateParams",
    "list_charges": "ChargeListParams",
    "retrieve_charge": "ChargeRetrieveParams",
    "update_charge": "ChargeUpdateParams",
    "create_refund": "RefundCreateParams",
    "list_refunds": "RefundListParams",
    "retrieve_refund": "RefundRetrieveParams",
    "update_refund": "RefundUpdateParams",
    "list_disputes": "DisputeListParams",
    "retrieve_dispute": "DisputeRetrieveParams",
    "update_dispute": "DisputeUpdateParams",
    "close_dispute": "DisputeCloseParams",
    "list_subscriptions": "SubscriptionListParams",
    "retrieve_subscription": "SubscriptionRetrieveParams",
    "update_subscription": "SubscriptionUpdateParams",
    "cancel_subscription": "SubscriptionCancelParams",
    "list_invoices": "InvoiceListParams",
    "retrieve_invoice": "InvoiceRetrieveParams",
    "list_invoice_lines": "InvoiceListLinesParams",
    "list_invoice_payments": "InvoicePaymentListParams",
    "retrieve_invoice_payment": "InvoicePaymentRetrieveParams",
    "create_customer": "CustomerCreateParams",
    "list_customers": "CustomerListParams",
    "retrieve_customer": "CustomerRetrieveParams",
    "update_customer": "CustomerUpdateParams",
    "create_portal_configuration": "billing_portal.ConfigurationCreateParams",
    "list_portal_configurations": "billing_portal.ConfigurationListParams",
    "retrieve_portal_configuration": "billing_portal.ConfigurationRetrieveParams",
    "update_portal_configuration": "billing_portal.ConfigurationUpdateParams",
    "create_portal_session": "billing_portal.SessionCreateParams",
    "list_events": "EventListParams",
    "retrieve_event": "EventRetrieveParams",
    "create_webhook_endpoint": "WebhookEndpointCreateParams",
    "list_webhook_endpoints": "WebhookEndpointListParams",
    "retrieve_webhook_endpoint": "WebhookEndpointRetrieveParams",
    "update_webhook_endpoint": "WebhookEndpointUpdateParams",
    "delete_webhook_endpoint": "WebhookEndpointDeleteParams",
    "retrieve_price": "PriceRetrieveParams",
    "retrieve_product": "ProductRetrieveParams",
    "retrieve_balance_transaction": "BalanceTransactionRetrieveParams",
    "retrieve_payment_method": "PaymentMethodRetrieveParams",
}

_OPTIONAL = (typing_extensions.NotRequired, typing.NotRequired)
_REQUIRED = (typing_extensions.Required, typing.Required)
_LITERAL = (Literal, typing_extensions.Literal)
_LISTS = (list, typing.List)  # noqa: UP006 - the params classes use typing.List
_MAPS = (dict, typing.Dict)  # noqa: UP006
_lock = threading.Lock()
_compiled: dict[type, dict] = {}


class Node:
    """One parameter's accepted shapes: hash, list, free-form map, enum or scalar."""

    def __init__(self) -> None:
        self.hashes: list[type] = []
        self.lists: list[Node] = []
        self.free_form = False
        self.enum: set[str] = set()
        self.scalars: set[str] = set()


def _request_option_names() -> set[str]:
    """Return the keys of RequestOptions, which are headers and never form parameters."""
    from stripe._request_options import RequestOptions

    return set(RequestOptions.__annotations__)


def _resolve(annotation: Any, namespace: dict) -> Any:
    """Evaluate the string and forward-reference annotations the generated code uses."""
    while isinstance(annotation, (str, ForwardRef)):
        text = annotation if isinstance(annotation, str) else annotation.__forward_arg__
        annotation = eval(text, namespace)  # noqa: S307 - trusted generated library code
    return annotation


def _describe(annotation: Any, namespace: dict, node: Node | None = None) -> tuple[Node, bool]:
    """Fold an annotation into a Node; also say whether the key is required."""
    node = node or Node()
    annotation = _resolve(annotation, namespace)
    origin = get_origin(annotation)
    required = True
    if origin in _OPTIONAL or origin in _REQUIRED:
        required = origin in _REQUIRED
        _describe(get_args(annotation)[0], namespace, node)
    elif origin is Union or origin is types.UnionType:
        for option in get_args(annotation):
            _describe(option, namespace, node)
    elif origin in _LITERAL:
        node.enum.update(str(value) for value in get_args(annotation))
    elif origin in _LISTS:
        node.lists.append(_describe(get_args(annotation)[0], namespace)[0])
    elif origin in _MAPS:
        node.free_form = True
    elif typing_extensions.is_typeddict(annotation):
        node.hashes.append(annotation)
    elif isinstance(annotation, type) and annotation.__name__ == "UntypedStripeObject":
        node.free_form = True
    else:
        node.scalars.add(getattr(annotation, "__name__", str(annotation)))
    return node, required


def _fields(cls: type) -> dict:
    """Return {name: (Node, required)} for a params TypedDict, compiling it once."""
    with _lock:
        found = _compiled.get(cls)
    if found is not None:
        return found
    namespace = vars(sys.modules[cls.__module__])
    skip = _request_option_names()
    found = {}
    for name, annotation in cls.__annotations__.items():
        if name in skip:
            continue
        found[name] = _describe(annotation, namespace)
    with _lock:
        _compiled[cls] = found
    return found


def params_class(endpoint: str) -> type | None:
    """Return the stripe-python params class of a sandbox API view, if it has one."""
    target = ENDPOINT_PARAMS.get(endpoint)
    if target is None:
        return None
    package, _, class_name = target.rpartition(".")
    module = importlib.import_module("stripe.params" + (f".{package}" if package else ""))
    return getattr(module, class_name)


def check(endpoint: str, params: dict) -> None:
    """Raise Stripe's 400 for the first unknown parameter or invalid enum value."""
    cls = params_class(endpoint)
    if cls is not None:
        _check_hash(params, cls, "")


def _path(parent: str, key: str | int) -> str:
    """Return Stripe's name for a nested parameter: `a[b][0][c]`."""
    return f"{parent}[{key}]" if parent else str(key)


def _check_hash(value: dict, cls: type, where: str) -> None:
    """Check a hash against one params TypedDict."""
    fields = _fields(cls)
    for key, item in value.items():
        if key not in fields:
            name = _path(where, key)
            raise StripeError(
                f"Received unknown parameter: {name}", param=name, code="parameter_unknown"
            )
        _check_value(item, fields[key][0], _path(where, key))
    for key, (_, required) in fields.items():
        if required and key not in value:
            raise missing(_path(where, key))


def _check_value(value: Any, node: Node, where: str) -> None:
    """Check one value against the shapes its parameter allows."""
    if value == "" or node.free_form:
        return  # an empty string unsets a field; free-form maps take any keys
    if isinstance(value, dict):
        if node.hashes:
            _check_hash(value, node.hashes[0], where)
            return
        if node.lists:
            for index, item in value.items():
                _check_value(item, node.lists[0], _path(where, index))
            return
        raise invalid(where, f"Invalid {_kind(node)}: {where} is a hash here.")
    if isinstance(value, list):
        if not node.lists:
            raise invalid(where, f"Invalid {_kind(node)}: {where} is an array here.")
        for index, item in enumerate(value):
            _check_value(item, node.lists[0], _path(where, index))
        return
    _check_scalar(str(value), node, where)


def _kind(node: Node) -> str:
    """Name what a parameter expects, for error messages."""
    if node.hashes:
        return "hash"
    if node.lists:
        return "array"
    if "int" in node.scalars:
        return "integer"
    if "bool" in node.scalars:
        return "boolean"
    return "string"


def _check_scalar(value: str, node: Node, where: str) -> None:
    """Check a string value: enum member, integer, boolean or decimal as declared."""
    enum = node.enum - {""}
    if enum:
        if value in enum:
            return
        # `Literal[...] | str` is the library's forward compatibility, not a free string.
        choices = sorted(enum)
        listed = ", ".join(choices[:-1]) + (", or " if len(choices) > 1 else "") + choices[-1]
        raise invalid(
            where, f"Invalid {where}: must be one of {listed}", code="parameter_invalid_string"
        )
    if "str" in node.scalars or "UntypedStripeObject" in node.scalars:
        return
    if "int" in node.scalars:
        try:
            int(value)
        except ValueError:
            raise invalid(
                where, f"Invalid integer: {value}", code="parameter_invalid_integer"
            ) from None
        return
    if "bool" in node.scalars:
        if value.lower() not in ("true", "false"):
            raise invalid(where, f"Invalid boolean: {value}")
        return
    if "Decimal" in node.scalars or "float" in node.scalars:
        try:
            Decimal(value)
        except InvalidOperation:
            raise invalid(where, f"Invalid decimal: {value}") from None
        return
    if node.hashes or node.lists:
        raise invalid(where, f"Invalid {_kind(node)}: {where} must be a {_kind(node)}.")
