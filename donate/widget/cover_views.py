"""The goal page's cover image, served from the database by any app instance.

Its URL names the digest of its bytes, so a URL's answer never changes: browsers and CDNs may
keep it for a year. A replaced or removed cover's old URL answers 404.
"""

from __future__ import annotations

import re

from flask import Response, abort

from donate.caching import public_response
from donate.cover_images import COVER_MEDIA_TYPE
from donate.goal_covers import public_cover_bytes
from donate.widget.views import widget

IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@widget.get("/g/<slug>/cover/<digest>.jpg")
def goal_cover(slug: str, digest: str) -> Response:
    """One cover, by the digest of its bytes; the ETag is that digest."""
    data = public_cover_bytes(slug[:80], digest) if _DIGEST.match(digest) else None
    if data is None:
        abort(404, description="No such cover image.")
    response = Response(data, mimetype=COVER_MEDIA_TYPE)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response = public_response(response, digest)
    response.headers["Cache-Control"] = IMMUTABLE_CACHE_CONTROL
    return response
