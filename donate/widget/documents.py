"""Render the widget's HTML documents (frame variants and goal page) with their inline assets.

A rendering is bytes plus the CSP hashes of its inline CSS and JS, so it can be cached whole;
the header that names who may frame it is added per response, from the site row just read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.dates import format_date
from flask import render_template
from flask_babel import force_locale
from markupsafe import Markup

from donate import money
from donate.goal_covers import CoverInfo
from donate.goal_view import PublicGoal
from donate.widget.assets import csp_hash, inline_asset
from donate.widget.card import Card, describe_card
from donate.widget.display import GoalDisplay, describe_goal
from donate.widget.match import describe_match
from donate.widget.reading import Supporter
from donate.widget.settings import WidgetSettings
from donate.widget.site_day import current_time

VARIANTS = ("full", "bar", "button")
FREQUENCIES = ("once", "monthly")
# Match the give endpoint's limits, so the browser stops a donor before the server must.
NAME_MAX_LENGTH = 120
MESSAGE_MAX_LENGTH = 1000
ARTICLE_MAX_LENGTH = 200


@dataclass(frozen=True)
class RenderedDocument:
    """A response body ready to serve again: bytes, type, validator and its CSP hashes."""

    body: bytes
    mimetype: str
    etag: str
    script_hashes: tuple[str, ...] = ()
    style_hashes: tuple[str, ...] = ()


def body_etag(body: bytes) -> str:
    """A strong validator that changes exactly when the bytes do."""
    return hashlib.sha256(body).hexdigest()[:32]


@dataclass(frozen=True)
class FormState:
    """What the give form shows: empty for everyone, or a donor's own input kept after a refusal."""

    amount: str = ""
    amount_minor: int | None = None
    frequency: str = "once"
    name: str = ""
    message: str = ""
    anonymous: bool = False
    article: str = ""
    source_url: str = ""
    error: str | None = None
    cover_fees: bool = False

    @classmethod
    def kept(
        cls, values: Mapping[str, Any] | None, *, source_url: str | None, error: str | None
    ) -> FormState:
        """Rebuild the form from what was posted, trimmed to the lengths the form allows."""
        values = values or {}

        def text(name: str, limit: int) -> str:
            return str(values.get(name) or "").strip()[:limit]

        preset = text("amount_minor", 20)
        frequency = text("frequency", 10)
        return cls(
            amount=text("amount", 64),
            amount_minor=money.whole_number(preset),
            frequency=frequency if frequency in FREQUENCIES else "once",
            name=text("name", NAME_MAX_LENGTH),
            message=text("message", MESSAGE_MAX_LENGTH),
            anonymous=text("anonymous", 8).lower() in ("1", "on", "true", "yes"),
            article=text("article", ARTICLE_MAX_LENGTH),
            source_url=(source_url or text("source_url", 2000)).strip()[:2000],
            error=error,
            cover_fees=text("cover_fees", 8).lower() in ("1", "on", "true", "yes"),
        )


def _dynamic_style(colour: str, display: GoalDisplay, card: Card) -> str:
    """The per-goal part of the CSS: accent colour, bar width, gift preview, milestone positions."""
    rules = [
        f":root{{--accent:{colour}}}",
        f".fill{{width:{display.bar_percent}%}}",
        f".gift{{left:{display.bar_percent}%;width:{card.gift_percent:g}%}}",
    ]
    rules += [
        f".m{index}{{left:{milestone.position:g}%}}"
        for index, milestone in enumerate(display.milestones, start=1)
    ]
    return "".join(rules)


def _render(
    template: str,
    public_goal: PublicGoal,
    *,
    locale: str,
    colour: str,
    form: FormState,
    settings: WidgetSettings | None = None,
    extra_styles: Sequence[str] = (),
    extra_scripts: Sequence[str] = (),
    now: datetime | None = None,
    **context: Any,
) -> RenderedDocument:
    settings = settings or WidgetSettings.from_goal(public_goal.goal)
    now = now or current_time()
    with force_locale(locale):
        display = describe_goal(public_goal, locale, now)
        card = describe_card(
            public_goal,
            display,
            settings,
            frequency=form.frequency,
            chosen_minor=None if form.amount else form.amount_minor,
            typed=bool(form.amount),
            now=now,
        )
        styles = [
            inline_asset("widget.css").text,
            *extra_styles,
            _dynamic_style(colour, display, card),
        ]
        script = "\n".join([inline_asset("widget.js").text, *extra_scripts])
        html = render_template(
            template,
            d=display,
            c=card,
            form=form,
            match=describe_match(public_goal, locale),
            styles=[Markup(style) for style in styles],
            script=Markup(script),
            origins=" ".join(public_goal.goal.site.allowed_origins or []),
            goal_url=f"/g/{display.slug}",
            give_url=f"/give/{display.slug}",
            limits={
                "name": NAME_MAX_LENGTH,
                "message": MESSAGE_MAX_LENGTH,
                "article": ARTICLE_MAX_LENGTH,
            },
            **context,
        )
    body = html.encode("utf-8")
    return RenderedDocument(
        body=body,
        mimetype="text/html",
        etag=body_etag(body),
        script_hashes=(csp_hash(script),),
        style_hashes=tuple(csp_hash(style) for style in styles),
    )


def render_frame(
    public_goal: PublicGoal,
    *,
    variant: str,
    locale: str,
    colour: str,
    thanks: bool = False,
    form: FormState | None = None,
    settings: WidgetSettings | None = None,
) -> RenderedDocument:
    """The document inside the iframe: full widget with its form, bar only, or a button.

    `settings` replaces the goal's saved display settings (the designer's unsaved preview).
    """
    if variant not in VARIANTS:
        raise ValueError(f"Unknown widget variant {variant!r}.")
    return _render(
        f"widget/{variant}.html",
        public_goal,
        locale=locale,
        colour=colour,
        thanks=thanks,
        form=form or FormState(),
        settings=settings,
    )


@dataclass(frozen=True)
class WallEntry:
    """A supporter as the goal page shows them, in the reader's locale."""

    name: str | None
    message: str | None
    amount: str
    monthly: bool
    date: str


@dataclass(frozen=True)
class PageCover:
    """The cover as the goal page shows it: where it is, its size, what it says in words."""

    path: str
    url: str
    width: int
    height: int
    alt: str

    @classmethod
    def of(
        cls, cover: CoverInfo | None, *, public_url: str, slug: str, title: str
    ) -> PageCover | None:
        """The page's view of a stored cover; its alt text is the owner's, else the goal's title."""
        if cover is None:
            return None
        path = f"/g/{slug}/cover/{cover.digest}.jpg"
        return cls(path, public_url + path, cover.width, cover.height, cover.alt or title)


def render_goal_page(
    public_goal: PublicGoal,
    *,
    locale: str,
    colour: str,
    supporters: Sequence[Supporter],
    thanks: bool,
    public_url: str,
    simulated: bool,
    cover: CoverInfo | None = None,
    now: datetime | None = None,
) -> RenderedDocument:
    """The standalone, shareable goal page: site, cover, widget, description, share, supporters."""
    now = now or current_time()
    wall = [
        WallEntry(
            name=supporter.name,
            message=supporter.message,
            amount=money.format_amount(
                supporter.amount_minor, supporter.currency, locale, compact=True
            ),
            monthly=supporter.monthly,
            date=format_date(supporter.given_at, format="medium", locale=locale),
        )
        for supporter in supporters
    ]
    goal = public_goal.goal
    slug, site = goal.slug, goal.site
    return _render(
        "goal/page.html",
        public_goal,
        locale=locale,
        colour=colour,
        extra_styles=[inline_asset("goal.css").text],
        extra_scripts=[inline_asset("share.js").text],
        now=now,
        site_name=site.name,
        home_url=site.home_url,
        cover=PageCover.of(cover, public_url=public_url, slug=slug, title=goal.title),
        thanks=thanks,
        form=FormState(),
        wall=wall,
        page_url=f"{public_url}/g/{slug}",
        simulated=simulated,
        image_url=f"{public_url}/w/{slug}/progress.png",
    )
