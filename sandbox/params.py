"""Decode Stripe's form encoding (`a[b][0][c]=v`, `expand[]=x`) and read typed values from it."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from typing import Any

from sandbox.errors import StripeError, invalid, missing

_TOKEN = re.compile(r"\[([^\[\]]*)\]")
# Keys under these names are free-form strings even when they look like list indices.
_FREE_FORM = {"metadata"}


def decode(pairs: Iterable[tuple[str, str]]) -> dict:
    """Turn ordered form pairs with bracket keys into nested dicts and lists."""
    root: dict = {}
    for raw_key, value in pairs:
        head, _, rest = raw_key.partition("[")
        tokens = [head] + (_TOKEN.findall("[" + rest) if rest else [])
        node = root
        for position, token in enumerate(tokens):
            last = position == len(tokens) - 1
            if token == "":
                # `key[]` appends: the next free index of this array.
                token = str(sum(1 for key in node if key.isdigit()))
            if last:
                node[token] = value
            else:
                child = node.get(token)
                if not isinstance(child, dict):
                    child = {}
                    node[token] = child
                node = child
    return _finish(root, None)


def _finish(node: Any, parent_key: str | None) -> Any:
    """Convert dicts keyed 0..n into lists, except inside free-form maps."""
    if not isinstance(node, dict):
        return node
    converted = {key: _finish(value, key) for key, value in node.items()}
    keys = list(converted)
    if parent_key not in _FREE_FORM and keys and all(key.isdigit() for key in keys):
        return [converted[key] for key in sorted(keys, key=int)]
    return dict(converted)


def get_int(
    params: dict, name: str, *, required: bool = False, minimum: int | None = None
) -> int | None:
    """Read an integer parameter the way Stripe validates it."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(name)
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(name, f"Invalid integer: {value}", code="parameter_invalid_integer") from None
    if minimum is not None and number < minimum:
        raise invalid(
            name,
            f"This value must be greater than or equal to {minimum}.",
            code="parameter_invalid_integer",
        )
    return number


def get_bool(params: dict, name: str, default: bool | None = None) -> bool | None:
    """Read a boolean parameter (`true`/`false`) the way Stripe validates it."""
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "1"):
        return True
    if str(value).lower() in ("false", "0"):
        return False
    raise invalid(name, f"Invalid boolean: {value}", code="parameter_invalid_string")


def get_str(
    params: dict, name: str, *, required: bool = False, choices: Collection[str] | None = None
) -> str | None:
    """Read a string parameter, optionally one of a fixed set."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise missing(name)
        return None
    if not isinstance(value, str):
        raise invalid(name, f"Invalid string: {value!r}")
    if choices is not None and value not in choices:
        raise invalid(
            name,
            f"Invalid {name}: must be one of {', '.join(choices)}",
            code="parameter_invalid_string",
        )
    return value


def get_dict(params: dict, name: str) -> dict:
    """Read a hash parameter; an empty string (Stripe's "unset") reads as empty."""
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid(name, f"Invalid hash: {name}", code="parameter_invalid_string")
    return value


def get_list(params: dict, name: str) -> list:
    """Read an array parameter sent as `name[0]=..` or `name[]=..`."""
    value = params.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        raise invalid(name, f"Invalid array: {name}")
    return list(value)


def merge_metadata(current: dict | None, update: Any) -> dict:
    """Apply a metadata update: empty string unsets everything, empty values drop keys."""
    if update == "":
        return {}
    merged = dict(current or {})
    if update is None:
        return merged
    if not isinstance(update, dict):
        raise invalid("metadata", "Invalid hash: metadata")
    for key, value in update.items():
        if value in ("", None):
            merged.pop(key, None)
        else:
            if len(str(key)) > 40:
                raise invalid("metadata", "Metadata keys can have up to 40 characters.")
            if len(str(value)) > 500:
                raise invalid("metadata", "Metadata values can have up to 500 characters.")
            merged[str(key)] = str(value)
    if len(merged) > 50:
        raise invalid("metadata", "Metadata can have up to 50 keys.")
    return merged


def created_filter(params: dict, name: str = "created") -> Callable[[int], bool]:
    """Return a predicate for Stripe's `created` range filter (int or gt/gte/lt/lte)."""
    value = params.get(name)
    if value is None or value == "":
        return lambda created: True
    if isinstance(value, str):
        exact = get_int(params, name)
        return lambda created: created == exact
    if not isinstance(value, dict):
        raise invalid(name, f"Invalid {name}")
    # An empty bound (`created[gt]=`) is unset, like every other empty parameter.
    bounds = {
        op: bound
        for op in ("gt", "gte", "lt", "lte")
        if op in value and (bound := get_int(value, op)) is not None
    }
    unknown = set(value) - {"gt", "gte", "lt", "lte"}
    if unknown:
        raise StripeError(
            f"Received unknown parameter: {name}[{sorted(unknown)[0]}]",
            param=f"{name}[{sorted(unknown)[0]}]",
            code="parameter_unknown",
        )

    def matches(created: int) -> bool:
        return (
            ("gt" not in bounds or created > bounds["gt"])
            and ("gte" not in bounds or created >= bounds["gte"])
            and ("lt" not in bounds or created < bounds["lt"])
            and ("lte" not in bounds or created <= bounds["lte"])
        )

    return matches
