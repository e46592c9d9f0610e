"""Absolute links for e-mails: built on PUBLIC_URL, the address people reach us at."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for


def public_link(endpoint: str, **values: Any) -> str:
    """An absolute URL for an endpoint, as a person outside this request would open it."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + url_for(endpoint, **values)
