"""Who may frame our widget, and what its document may load: the Content-Security-Policy header."""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import current_app

from donate.origins import OriginError, normalise_origin

# Stored origins are normalised already; this keeps anything else out of a response header.
_SOURCE = re.compile(r"^https?://[a-z0-9.-]+(:(\d{1,5}|\*))?$")


def own_origin() -> str | None:
    """Our public origin (PUBLIC_URL), which may differ from the host a proxy forwards."""
    try:
        return normalise_origin(current_app.config.get("PUBLIC_URL") or "")
    except OriginError:
        return None


def frame_ancestors(site_origins: Iterable[str]) -> str:
    """The site's allowed origins plus our own (the dashboard previews the widget)."""
    sources = ["'self'"]
    ours = own_origin()
    if ours:
        sources.append(ours)
    for origin in site_origins:
        if _SOURCE.match(origin) and origin not in sources:
            sources.append(origin)
    return " ".join(sources)


def content_security_policy(
    site_origins: Iterable[str], *, script_hashes: Iterable[str], style_hashes: Iterable[str]
) -> str:
    """Nothing loads but our own inline CSS and JS (by hash) and our images; framing as above.

    form-action is left out on purpose: browsers apply it to the redirect that follows the give
    form, and that redirect goes to Stripe Checkout, whose origin depends on configuration.
    connect-src lets the frame post the gift to us itself, so any refusal shows in the frame.
    """
    scripts = " ".join(f"'{digest}'" for digest in script_hashes) or "'none'"
    styles = " ".join(f"'{digest}'" for digest in style_hashes) or "'none'"
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {scripts}",
            f"style-src {styles}",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            f"frame-ancestors {frame_ancestors(site_origins)}",
        ]
    )
