"""Widget routes: read one goal row, pick locale and colour, serve a cached rendering.

Every public response here is the same for every reader of a URL (and language, where it was
negotiated), so it carries an ETag and Cache-Control: public, and never a cookie.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from flask.blueprints import BlueprintSetupState

from donate.caching import public_response
from donate.config import is_live_stripe_key
from donate.goal_view import PublicGoal
from donate.widget.assets import static_bytes
from donate.widget.colours import resolve_colour
from donate.widget.documents import (
    VARIANTS,
    FormState,
    RenderedDocument,
    body_etag,
    render_frame,
    render_goal_page,
)
from donate.widget.frame_policy import content_security_policy
from donate.widget.images import render_png, render_svg
from donate.widget.languages import LocaleChoice, choose_locale
from donate.widget.reading import find_page_goal, find_widget_goal, recent_supporters
from donate.widget.render_cache import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_ENTRIES_PER_GROUP,
    RenderCache,
)
from donate.widget.site_day import current_time, dated_etag, site_date

__all__ = ["render_full_widget", "widget"]

widget = Blueprint("widget", __name__)

CACHE_EXTENSION = "donate.widget_cache"
# The loader changes rarely; a reader's browser may keep it for minutes without asking again.
LOADER_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"
IMAGE_POLICY = "default-src 'none'"


@widget.record_once
def _install_cache(state: BlueprintSetupState) -> None:
    size = int(state.app.config.get("WIDGET_CACHE_ENTRIES", DEFAULT_MAX_ENTRIES))
    per_goal = int(
        state.app.config.get("WIDGET_CACHE_ENTRIES_PER_GOAL", DEFAULT_MAX_ENTRIES_PER_GROUP)
    )
    state.app.extensions.setdefault(CACHE_EXTENSION, RenderCache(size, per_goal))


def render_cache() -> RenderCache[RenderedDocument]:
    """This app's cache of rendered widgets."""
    cache: RenderCache[RenderedDocument] = current_app.extensions[CACHE_EXTENSION]
    return cache


def _goal_or_404(slug: str) -> PublicGoal:
    public_goal = find_widget_goal(slug)
    if public_goal is None:
        abort(404, description=f"No fundraiser is published at {slug[:80]!r}.")
    return public_goal


def _cached(
    kind: str,
    public_goal: PublicGoal,
    parts: tuple[Hashable, ...],
    render: Callable[[], Any],
    *,
    now: datetime | None = None,
) -> RenderedDocument:
    """Look a rendering up by everything that changes it, the totals version first of all.

    The site-local date is part of the key and of the ETag handed back: days left change at
    the site's midnight even when nothing else does.
    """
    goal, site = public_goal.goal, public_goal.goal.site
    now = now or current_time()
    day = site_date(now, site.time_zone)
    key = (
        kind,
        goal.id,
        goal.slug,
        goal.totals_version,
        goal.updated_at,
        public_goal.phase(now),
        site.id,
        tuple(site.allowed_origins or ()),
        site.time_zone,
        day,
        *parts,
    )
    document: RenderedDocument = render_cache().get_or_render(key, render, group=goal.id)
    return replace(document, etag=dated_etag(document.etag, day))


def _html_policy(document: RenderedDocument, public_goal: PublicGoal) -> str:
    return content_security_policy(
        public_goal.goal.site.allowed_origins or [],
        script_hashes=document.script_hashes,
        style_hashes=document.style_hashes,
    )


def _serve(document: RenderedDocument, choice: LocaleChoice | None, *, policy: str) -> Response:
    response = Response(document.body, mimetype=document.mimetype)
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    vary = ("Accept-Language",) if choice is not None and choice.negotiated else ()
    return public_response(response, document.etag, vary=vary)


def _choices(public_goal: PublicGoal) -> tuple[LocaleChoice, str]:
    choice = choose_locale(request.args.get("locale"), public_goal.site_locale)
    colour = resolve_colour(request.args.get("color"), public_goal.goal.site.brand_colour)
    return choice, colour


@widget.get("/embed.js")
def embed_loader() -> Response:
    """The loader pages include: no dependencies, well under 2 KB gzipped."""
    body = static_bytes("embed.js")
    response = Response(body, mimetype="text/javascript")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response = public_response(response, body_etag(body))
    response.headers["Cache-Control"] = LOADER_CACHE_CONTROL
    return response


@widget.get("/w/<slug>")
def frame(slug: str) -> Response:
    """The document inside the iframe: ?variant=full|bar|button, &locale=, &color=, &thanks=1."""
    public_goal = _goal_or_404(slug)
    choice, colour = _choices(public_goal)
    variant = request.args.get("variant") or "full"
    variant = variant if variant in VARIANTS else "full"
    thanks = request.args.get("thanks") == "1"
    document = _cached(
        "frame",
        public_goal,
        (variant, choice.locale, colour, thanks),
        lambda: render_frame(
            public_goal, variant=variant, locale=choice.locale, colour=colour, thanks=thanks
        ),
    )
    return _serve(document, choice, policy=_html_policy(document, public_goal))


@widget.get("/w/<slug>/progress.svg")
def progress_svg(slug: str) -> Response:
    """The bar as SVG, for places where no script or frame runs."""
    return _progress_image(slug, "svg", render_svg)


@widget.get("/w/<slug>/progress.png")
def progress_png(slug: str) -> Response:
    """The bar as PNG, for e-mail clients that show no SVG."""
    return _progress_image(slug, "png", render_png)


def _progress_image(slug: str, kind: str, render: Callable[..., RenderedDocument]) -> Response:
    """Serve one image variant of the bar from the render cache."""
    public_goal = _goal_or_404(slug)
    choice, colour = _choices(public_goal)
    document = _cached(
        kind,
        public_goal,
        (choice.locale, colour),
        lambda: render(public_goal, locale=choice.locale, colour=colour),
    )
    return _serve(document, choice, policy=IMAGE_POLICY)


@widget.get("/g/<slug>")
def goal_page(slug: str) -> Response:
    """The shareable goal page: the widget, the description and recent supporters."""
    found = find_page_goal(slug)
    if found is None:
        abort(404, description=f"No fundraiser is published at {slug[:80]!r}.")
    public_goal, cover = found
    choice, colour = _choices(public_goal)
    thanks = request.args.get("thanks") == "1"
    supporters = tuple(recent_supporters(public_goal.goal.id))
    site = public_goal.goal.site
    now = current_time()
    document = _cached(
        "page",
        public_goal,
        (choice.locale, colour, thanks, supporters, cover, site.name, site.home_url),
        lambda: render_goal_page(
            public_goal,
            locale=choice.locale,
            colour=colour,
            supporters=supporters,
            thanks=thanks,
            public_url=current_app.config["PUBLIC_URL"].rstrip("/"),
            simulated=not is_live_stripe_key(current_app.config["STRIPE_SECRET_KEY"]),
            cover=cover,
            now=now,
        ),
        now=now,
    )
    return _serve(document, choice, policy=_html_policy(document, public_goal))


def render_full_widget(
    public_goal: PublicGoal,
    *,
    locale: str,
    status: int = 200,
    error: str | None = None,
    values: Mapping[str, Any] | None = None,
    source_url: str | None = None,
) -> Response:
    """The full widget with `error` beside the amount and the donor's own input kept.

    For the give endpoint's refusals (422) of a form post: `values` is what was posted
    (request.form), `source_url` the article to return to. Never cached: it holds what one
    donor typed.
    """
    form = FormState.kept(values, source_url=source_url, error=error)
    colour = resolve_colour(None, public_goal.goal.site.brand_colour)
    document = render_frame(public_goal, variant="full", locale=locale, colour=colour, form=form)
    response = Response(document.body, status=status, mimetype=document.mimetype)
    response.headers["Content-Security-Policy"] = _html_policy(document, public_goal)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
