"""The widget's accent colour: a small named palette or the site's brand, always readable."""

from __future__ import annotations

import re
from functools import lru_cache

# A bounded set, so `data-color` cannot multiply cache entries; each passes 4.5:1 with white.
PALETTE = {
    "blue": "#1d4ed8",
    "green": "#15803d",
    "teal": "#0f766e",
    "purple": "#7e22ce",
    "red": "#b91c1c",
    "orange": "#c2410c",
    "pink": "#be185d",
    "grey": "#374151",
    "gray": "#374151",
    "black": "#111827",
}
# WCAG 2 AA for normal text: the Give button and chosen amounts carry white text on the accent.
MINIMUM_CONTRAST = 4.5
_HEX = re.compile(r"^#?([0-9a-f]{6})$")
_FALLBACK = PALETTE["blue"]


def _channel(value: int) -> float:
    srgb = value / 255
    return srgb / 12.92 if srgb <= 0.03928 else ((srgb + 0.055) / 1.055) ** 2.4


def _luminance(hex_colour: str) -> float:
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_with_white(hex_colour: str) -> float:
    """WCAG contrast ratio of white text on this colour."""
    return 1.05 / (_luminance(hex_colour) + 0.05)


@lru_cache(maxsize=64)
def readable(hex_colour: str) -> str:
    """Darken a colour just enough for white text on it to reach 4.5:1."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    colour = hex_colour
    step = 0
    while contrast_with_white(colour) < MINIMUM_CONTRAST and step < 20:
        step += 1
        keep = 1 - step * 0.05
        colour = "#{:02x}{:02x}{:02x}".format(*(round(c * keep) for c in (red, green, blue)))
    return colour


def resolve_colour(asked: str | None, brand_colour: str | None) -> str:
    """A palette name or hex, else the site's brand colour, made readable; never free input."""
    brand = (brand_colour or "").strip().lower()
    brand = brand if _HEX.match(brand) and brand.startswith("#") else _FALLBACK
    wanted = (asked or "").strip().lower()
    if wanted in PALETTE:
        return readable(PALETTE[wanted])
    match = _HEX.match(wanted)
    if match:
        as_hex = "#" + match.group(1)
        if as_hex in PALETTE.values() or as_hex == brand:
            return readable(as_hex)
    return readable(brand)
