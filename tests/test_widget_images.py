"""The progress bar as SVG and PNG for newsletters and places without scripts or frames."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree

from PIL import Image

from donate.widget.images import HEIGHT, PNG_SCALE, WIDTH
from tests.factories import make_goal, make_offline_gift
from tests.widget_support import fresh_widget_cache, page_text  # noqa: F401

SVG = "{http://www.w3.org/2000/svg}"


def test_svg_says_title_amounts_and_donors(client, db_session):
    goal = make_goal(slug="svg", title="Keep <local> news & more")
    make_offline_gift(goal, 82_200)
    response = client.get("/w/svg/progress.svg?locale=en")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    root = ElementTree.fromstring(response.data)
    assert root.get("role") == "img"
    texts = [node.text for node in root.iter(f"{SVG}text")]
    assert texts == ["Keep <local> news & more", "$822 raised of $5,000 · 16%", "1 donor"]
    title = root.find(f"{SVG}title").text
    assert title == "Keep <local> news & more: $822 raised of $5,000, 16%"


def test_svg_bar_is_as_long_as_the_share_raised(client, db_session):
    goal = make_goal(slug="svg-bar")
    make_offline_gift(goal, 250_000)
    root = ElementTree.fromstring(client.get("/w/svg-bar/progress.svg").data)
    track, fill = [r for r in root.iter(f"{SVG}rect")][1:]
    assert float(fill.get("width")) == float(track.get("width")) / 2
    assert fill.get("fill") == "#1d4ed8"


def test_svg_takes_the_colour_asked_for(client, db_session):
    goal = make_goal(slug="svg-red")
    make_offline_gift(goal, 250_000)
    root = ElementTree.fromstring(client.get("/w/svg-red/progress.svg?color=red").data)
    assert [r for r in root.iter(f"{SVG}rect")][-1].get("fill") == "#b91c1c"


def _near(pixel: tuple[int, ...], wanted: tuple[int, int, int]) -> bool:
    """Palette PNGs may shift a colour by a step or two."""
    return all(abs(a - b) <= 6 for a, b in zip(pixel, wanted, strict=True))


def test_png_is_a_real_image_of_the_bar(client, db_session):
    goal = make_goal(slug="png")
    make_offline_gift(goal, 250_000)
    response = client.get("/w/png/progress.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data)).convert("RGB")
    assert image.size == (WIDTH * PNG_SCALE, HEIGHT * PNG_SCALE)
    bar_y = 47 * PNG_SCALE
    assert _near(image.getpixel((100 * PNG_SCALE, bar_y)), (0x1D, 0x4E, 0xD8))  # filled half
    assert _near(image.getpixel((400 * PNG_SCALE, bar_y)), (0xE5, 0xE7, 0xEB))  # empty half
    assert len(response.data) < 8_000  # light enough for a newsletter


def test_png_changes_when_the_total_does(client, db_session):
    goal = make_goal(slug="png-moves")
    before = client.get("/w/png-moves/progress.png").data
    make_offline_gift(goal, 100_000)
    after = client.get("/w/png-moves/progress.png").data
    assert before != after


def test_svg_shows_a_paused_goal(client, db_session):
    from donate.extensions import db
    from donate.models import GoalStatus

    goal = make_goal(slug="svg-paused")
    goal.status = GoalStatus.PAUSED
    db.session.flush()
    assert "paused" in page_text(client.get("/w/svg-paused/progress.svg?locale=en").data)
