"""Apply Stripe's `expand[]`: swap ids for objects and add fields that only exist when expanded."""

from __future__ import annotations

import copy
from typing import Any

from sandbox import objects
from sandbox.errors import StripeError
from sandbox.store import Account

MAX_DEPTH = 4


def _virtual(account: Account, obj: dict, field: str) -> dict:
    """Return the value of a field the API only includes when expanded, or raise KeyError."""
    kind, object_id = obj.get("object"), obj.get("id")
    if kind == "checkout.session" and field == "line_items":
        items = account.private(str(object_id)).get("line_items", [])
        return objects.list_object(
            copy.deepcopy(items), f"/v1/checkout/sessions/{object_id}/line_items"
        )
    if kind == "charge" and field == "refunds":
        refunds = [r for r in reversed(account.all("refund")) if r["charge"] == object_id]
        return objects.list_object(copy.deepcopy(refunds), f"/v1/charges/{object_id}/refunds")
    if kind == "invoice" and field == "payments":
        payments = [p for p in account.all("invoice_payment") if p["invoice"] == object_id]
        return objects.list_object(
            copy.deepcopy(payments), f"/v1/invoice_payments?invoice={object_id}"
        )
    if kind == "customer" and field == "subscriptions":
        found = [s for s in reversed(account.all("subscription")) if s["customer"] == object_id]
        return objects.list_object(copy.deepcopy(found), f"/v1/customers/{object_id}/subscriptions")
    raise KeyError(field)


def _expand_path(account: Account, node: Any, parts: list[str], full: str) -> None:
    """Expand one dotted path inside `node` (a copy that may be changed in place)."""
    if not parts or node is None:
        return
    head, rest = parts[0], parts[1:]
    if isinstance(node, dict) and node.get("object") == "list" and head == "data":
        for item in node["data"]:
            _expand_path(account, item, rest, full)
        return
    if not isinstance(node, dict):
        raise _cannot(full, head)
    if head in node:
        value = node[head]
        if isinstance(value, str):
            kind = objects.kind_of(value)
            target = account.get(kind, value) if kind else None
            if target is None:
                raise _cannot(full, head)
            node[head] = copy.deepcopy(target)
        elif value is not None and not isinstance(value, dict):
            raise _cannot(full, head)
    else:
        try:
            node[head] = _virtual(account, node, head)
        except KeyError:
            raise _cannot(full, head) from None
    _expand_path(account, node[head], rest, full)


def _cannot(full: str, head: str) -> StripeError:
    """Return Stripe's error for a path that cannot be expanded."""
    where = head if head == full else f"{head} in {full}"
    return StripeError(f"This property cannot be expanded ({where}).", param="expand")


def expand(account: Account, obj: dict, paths: list[str]) -> dict:
    """Return a copy of `obj` with every requested path expanded."""
    result = copy.deepcopy(obj)
    for path in paths:
        parts = [part for part in str(path).split(".") if part]
        depth = (
            len([part for part in parts if part != "data"])
            if result.get("object") == "list"
            else len(parts)
        )
        if depth > MAX_DEPTH:
            raise StripeError(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )
        _expand_path(account, result, parts, str(path))
    return result
