"""Read Stripe's JSON defensively: other integrations' and API versions' payloads lack fields."""

from __future__ import annotations

from typing import Any


def dig(obj: Any, *path: str) -> Any:
    """Follow keys through nested dicts; None as soon as one is missing or not a dict."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def text(obj: Any, *path: str) -> str | None:
    """A non-empty string at path, else None."""
    value = dig(obj, *path)
    return value if isinstance(value, str) and value else None


def whole(obj: Any, *path: str) -> int | None:
    """An integer at path (never a bool), else None."""
    value = dig(obj, *path)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def object_id(value: Any) -> str | None:
    """The id of a field that is either an id string or an expanded object."""
    if isinstance(value, str) and value:
        return value
    return text(value, "id")


def mapping(obj: Any, *path: str) -> dict[str, Any]:
    """A dict at path, else an empty one (metadata is often null or absent)."""
    value = dig(obj, *path)
    return value if isinstance(value, dict) else {}


def listed(obj: Any, *path: str) -> list[Any]:
    """The `data` list of a Stripe list at path, or a plain list; else empty."""
    value = dig(obj, *path)
    if isinstance(value, dict):
        value = value.get("data")
    return value if isinstance(value, list) else []
