"""Per-route request body limits: a view that takes uploads may accept more than the app's 1 MB.

The app checks every body's size before anything reads it (donate.__init__); it asks here first
whether the route being called has a limit of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, request

View = TypeVar("View", bound=Callable[..., Any])
_ATTRIBUTE = "max_body_bytes"


def body_limit(max_bytes: int) -> Callable[[View], View]:
    """Let this view's requests carry up to `max_bytes` (put it right under the route decorator)."""

    def mark(view: View) -> View:
        setattr(view, _ATTRIBUTE, max_bytes)
        return view

    return mark


def apply_route_limit() -> None:
    """Set this request's body limit from its view's own, when it has one."""
    view = current_app.view_functions.get(request.endpoint or "")
    limit = getattr(view, _ATTRIBUTE, None)
    if isinstance(limit, int):
        request.max_content_length = limit
