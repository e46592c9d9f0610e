"""The progress bar as an image, for newsletters and pages where no script or frame runs.

SVG for the web; PNG for e-mail clients that show no SVG. Both say the same three lines: the
title, the bar, and the amounts, with the goal's state (paused, ended, reached) when it has one.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from flask import render_template
from flask_babel import force_locale
from PIL import Image, ImageDraw, ImageFont

from donate.goal_view import PublicGoal
from donate.widget.display import GoalDisplay, describe_goal
from donate.widget.documents import RenderedDocument, body_etag

WIDTH, HEIGHT = 480, 120
PNG_SCALE = 2  # sharp on high-density screens; <img width="480"> shows it at its CSS size
_TEXT_LINE = 62
_TITLE_LINE = 46

# Fonts with the Latin, Greek and Cyrillic letters and currency signs our locales write.
_FONT_CANDIDATES = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
    ("/Library/Fonts/Arial Unicode.ttf", "/Library/Fonts/Arial Unicode.ttf"),
)
# Pillow's built-in face draws ASCII only; these read well in its place.
_ASCII_STAND_INS = {"€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "·": "-", "–": "-", "’": "'"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageLines:
    """The three lines every image shows."""

    title: str
    summary: str
    status: str


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def image_lines(display: GoalDisplay) -> ImageLines:
    """Title, amounts and state, cut to fit the image's width."""
    status = display.phase_message or display.donors_text
    if display.deadline_text and not display.phase_message:
        status = f"{status} · {display.deadline_text}"
    return ImageLines(
        title=_shorten(display.title, _TITLE_LINE),
        summary=_shorten(f"{display.summary} · {display.percent_text}", _TEXT_LINE),
        status=_shorten(status, _TEXT_LINE),
    )


def render_svg(public_goal: PublicGoal, *, locale: str, colour: str) -> RenderedDocument:
    """A self-contained SVG of the bar; its <title> is what screen readers say."""
    with force_locale(locale):
        display = describe_goal(public_goal, locale)
        body = render_template(
            "widget/progress.svg",
            d=display,
            lines=image_lines(display),
            colour=colour,
            width=WIDTH,
            height=HEIGHT,
            fill_width=round((WIDTH - 32) * display.bar_percent / 100, 1),
        ).encode("utf-8")
    return RenderedDocument(body=body, mimetype="image/svg+xml", etag=body_etag(body))


@lru_cache(maxsize=8)
def _fonts(size: int) -> tuple[ImageFont.FreeTypeFont, ImageFont.FreeTypeFont, bool]:
    """(regular, bold, full coverage) at a pixel size: a system font, else Pillow's own."""
    for regular, bold in _FONT_CANDIDATES:
        if Path(regular).is_file() and Path(bold).is_file():
            return ImageFont.truetype(regular, size), ImageFont.truetype(bold, size), True
    log.warning("No TrueType font found for PNG progress images; accents will be simplified.")
    font = ImageFont.load_default(size=size)
    return font, font, False  # type: ignore[return-value]


def _drawable(text: str, full_coverage: bool) -> str:
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    if full_coverage:
        return text
    text = "".join(_ASCII_STAND_INS.get(char, char) for char in text)
    folded = unicodedata.normalize("NFKD", text)
    return "".join(char for char in folded if ord(char) < 128)


def render_png(public_goal: PublicGoal, *, locale: str, colour: str) -> RenderedDocument:
    """The same picture as the SVG, drawn with Pillow at twice its CSS size."""
    with force_locale(locale):
        display = describe_goal(public_goal, locale)
        lines = image_lines(display)
    scale = PNG_SCALE
    image = Image.new("RGB", (WIDTH * scale, HEIGHT * scale), "#ffffff")
    draw = ImageDraw.Draw(image)
    regular, _, full_coverage = _fonts(14 * scale)
    _, bold, _ = _fonts(16 * scale)
    left, bar_top, bar_height = 16 * scale, 40 * scale, 14 * scale
    bar_width = (WIDTH - 32) * scale
    draw.text(
        (left, 28 * scale),
        _drawable(lines.title, full_coverage),
        font=bold,
        fill="#111827",
        anchor="ls",
    )
    box = (left, bar_top, left + bar_width, bar_top + bar_height)
    draw.rounded_rectangle(box, radius=bar_height // 2, fill="#e5e7eb")
    filled = round(bar_width * display.bar_percent / 100)
    if filled > 0:
        draw.rounded_rectangle(
            (left, bar_top, left + max(filled, bar_height), bar_top + bar_height),
            radius=bar_height // 2,
            fill=colour,
        )
    draw.text(
        (left, 78 * scale),
        _drawable(lines.summary, full_coverage),
        font=regular,
        fill="#111827",
        anchor="ls",
    )
    draw.text(
        (left, 102 * scale),
        _drawable(lines.status, full_coverage),
        font=regular,
        fill="#374151",
        anchor="ls",
    )
    out = io.BytesIO()
    # A small palette keeps anti-aliased text and makes the file a quarter of the size.
    palette = image.quantize(colors=32, method=Image.Quantize.MEDIANCUT)
    palette.save(out, format="PNG", optimize=True)
    body = out.getvalue()
    return RenderedDocument(body=body, mimetype="image/png", etag=body_etag(body))
