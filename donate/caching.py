"""HTTP caching for public reads: validators and headers a CDN can act on, no cookies."""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin

# Short enough that a donor sees the bar move soon, long enough for a CDN to absorb a spike.
PUBLIC_CACHE_CONTROL = "public, max-age=15, stale-while-revalidate=60"


def public_response(response: Response, etag: str, *, vary: tuple[str, ...] = ()) -> Response:
    """Mark a response as the same for everyone, with an ETag; answer 304 when it matches."""
    response.set_etag(etag)
    response.headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
    for header in vary:
        response.vary.add(header)
    response.make_conditional(request)  # turns it into a 304 in place when the ETag matches
    return response


class PublicAwareSessionInterface(SecureCookieSessionInterface):
    """Keep session cookies and `Vary: Cookie` off responses that are public and cacheable.

    Extensions peek at the session on every request (Flask-Login looks for its remember flag),
    which would otherwise add `Vary: Cookie` and make every reader's copy private to a CDN.
    """

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if response.cache_control.public and not session.modified:
            return
        super().save_session(app, session, response)
