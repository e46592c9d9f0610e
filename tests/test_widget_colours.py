"""Accent colours: a bounded palette or the site's brand colour, always readable on buttons."""

from __future__ import annotations

import pytest

from donate.widget.colours import PALETTE, contrast_with_white, readable, resolve_colour


@pytest.mark.parametrize("name", sorted(PALETTE))
def test_every_palette_colour_carries_white_text(name):
    assert contrast_with_white(PALETTE[name]) >= 4.5


def test_names_and_palette_hex_values_are_accepted():
    assert resolve_colour("Green", "#1d4ed8") == "#15803d"
    assert resolve_colour("#b91c1c", "#1d4ed8") == "#b91c1c"
    assert resolve_colour("b91c1c", "#1d4ed8") == "#b91c1c"


def test_anything_else_means_the_sites_brand_colour():
    for asked in (None, "", "#ff00ff", "chartreuse", "red;}", "#1D4ED8X"):
        assert resolve_colour(asked, "#0f766e") == "#0f766e"


def test_a_pale_brand_colour_is_darkened_until_readable():
    pale = "#fde047"
    assert contrast_with_white(pale) < 4.5
    darker = resolve_colour(None, pale)
    assert darker != pale
    assert contrast_with_white(darker) >= 4.5
    assert readable(darker) == darker


def test_a_broken_brand_colour_falls_back_to_blue():
    assert resolve_colour(None, "blue-ish") == PALETTE["blue"]
