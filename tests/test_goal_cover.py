"""A goal's cover image: uploaded in the dashboard, checked and cleaned, served by any instance."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from donate import create_app
from donate.admin.cover_views import FORM_OVERHEAD_BYTES
from donate.cover_images import COVER_BOX, COVER_MAX_BYTES
from donate.extensions import db
from donate.models import AuditLog, GoalCover, GoalStatus, Role
from tests.admin_support import csrf_token, make_user, sign_in_as
from tests.conftest import app_config
from tests.cover_support import (
    SVG,
    large_bilevel_png,
    noisy_jpeg,
    phone_photo,
    png_claiming,
    png_with_transparency,
)
from tests.factories import make_goal, make_site
from tests.widget_support import fresh_widget_cache  # noqa: F401


def _upload(client, site, goal, raw: bytes, *, name: str = "cover.jpg", alt: str = ""):
    data = {
        "csrf_token": csrf_token(client),
        "alt": alt,
        "image": (io.BytesIO(raw), name),
    }
    return client.post(
        f"/admin/sites/{site.id}/goals/{goal.id}/cover",
        data=data,
        content_type="multipart/form-data",
    )


def _cover(goal) -> GoalCover | None:
    db.session.expire_all()
    return db.session.get(GoalCover, goal.id)


@pytest.fixture
def editing(client, db_session):
    site = make_site(name="Riverside Gazette")
    goal = make_goal(site, slug="river-cover", title="Clean the river")
    sign_in_as(client, make_user(site=site, role=Role.EDITOR))
    return site, goal


def test_a_phone_photo_is_turned_upright_shrunk_and_stripped_of_its_exif(client, editing):
    site, goal = editing
    original = phone_photo()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825), "the test photo has GPS"
    response = _upload(client, site, goal, original, alt="Volunteers pulling nets")
    assert response.status_code == 302
    row = _cover(goal)
    assert row is not None and row.media_type == "image/jpeg"
    stored = Image.open(io.BytesIO(row.data))
    assert stored.format == "JPEG"
    # Shown upright, the 3000 × 2000 photo is 2000 × 3000; it now fits 1600 × 1200.
    assert (stored.width, stored.height) == (row.width, row.height) == (800, 1200)
    assert stored.width <= COVER_BOX[0] and stored.height <= COVER_BOX[1]
    assert not stored.getexif(), "no EXIF at all: no orientation, camera or GPS"
    assert "exif" not in stored.info and "comment" not in stored.info
    assert b"TestCam" not in row.data and b"secret comment" not in row.data
    # Turned as the orientation said: the red third that was on the left is now on top.
    rgb = stored.convert("RGB")
    top, bottom = rgb.getpixel((400, 100)), rgb.getpixel((400, 1100))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom
    assert row.alt == "Volunteers pulling nets"
    entry = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "goal.cover")
    ).scalar_one()
    assert entry.subject == f"goal:{goal.id}"
    assert entry.detail["before"] is None
    assert entry.detail["after"]["digest"] == row.digest
    assert entry.detail["after"]["width"] == 800


def test_a_small_png_is_not_enlarged_and_its_clear_part_turns_white(client, editing):
    site, goal = editing
    assert _upload(client, site, goal, png_with_transparency(), name="logo.png").status_code == 302
    stored = Image.open(io.BytesIO(_cover(goal).data)).convert("RGB")
    assert stored.size == (400, 300)
    assert min(stored.getpixel((50, 150))) > 240  # was transparent
    assert stored.getpixel((350, 150))[1] > 100  # was green


def test_an_image_over_the_apps_1_mb_but_under_5_mb_is_accepted_on_this_route(client, editing):
    site, goal = editing
    raw = noisy_jpeg()
    assert 1024 * 1024 < len(raw) < COVER_MAX_BYTES
    assert _upload(client, site, goal, raw).status_code == 302
    assert _cover(goal).width == 1500


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        (SVG, "cover.svg", "SVG images are not accepted"),
        (SVG, "cover.jpg", "SVG images are not accepted"),
        (b"%PDF-1.4 not an image", "cover.jpg", "is not a JPEG, PNG, WebP or GIF image"),
        # Claims 400 million pixels: Pillow's own limit stops it while reading the header.
        (png_claiming(20_000, 20_000), "bomb.png", "too many pixels: at most 40 million"),
        # Claims 49 million: under Pillow's limit, over ours, refused before any decoding (the
        # file holds a few rows only: decoding would fail as damaged, not as too large).
        (png_claiming(7_000, 7_000), "bomb.png", "too many pixels: at most 40 million"),
        (large_bilevel_png(), "wide.png", "too many pixels: at most 40 million"),
        (b"", "empty.jpg", "Choose an image file to upload."),
    ],
)
def test_a_refused_upload_says_why_and_changes_nothing(client, editing, raw, name, message):
    site, goal = editing
    assert _upload(client, site, goal, phone_photo((600, 400))).status_code == 302
    before = _cover(goal).digest
    response = _upload(client, site, goal, raw, name=name)
    assert response.status_code == 422
    error = response.text.split('id="image-error">', 1)[1].split("</p>", 1)[0]
    assert message in error
    assert _cover(goal).digest == before
    assert (
        db.session.execute(
            sa.select(sa.func.count()).where(AuditLog.action == "goal.cover")
        ).scalar_one()
        == 1
    )


def test_an_upload_over_5_mb_is_refused_with_a_sentence_before_it_is_read(client, editing):
    site, goal = editing
    assert _upload(client, site, goal, phone_photo((600, 400))).status_code == 302
    before = _cover(goal).digest
    # Just over the limit: the form says so beside the field.
    response = _upload(client, site, goal, b"\xff" * (COVER_MAX_BYTES + 1))
    assert response.status_code == 422
    assert "This image is too large: at most 5 MB." in response.text
    # Far over it: refused before the body is read.
    response = _upload(client, site, goal, b"\xff" * (COVER_MAX_BYTES + FORM_OVERHEAD_BYTES + 1))
    assert response.status_code == 413
    assert "This request is too large: at most 6 MB is accepted." in response.text
    assert _cover(goal).digest == before


def test_removing_the_cover_is_audited_and_the_page_loses_it(client, editing):
    site, goal = editing
    _upload(client, site, goal, phone_photo((600, 400)))
    digest = _cover(goal).digest
    assert f"/g/river-cover/cover/{digest}.jpg" in client.get("/g/river-cover").text
    response = client.post(
        f"/admin/sites/{site.id}/goals/{goal.id}/cover/remove",
        data={"csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert _cover(goal) is None
    actions = (
        db.session.execute(
            sa.select(AuditLog.detail).where(AuditLog.action == "goal.cover").order_by(AuditLog.id)
        )
        .scalars()
        .all()
    )
    assert actions[-1]["before"]["digest"] == digest and actions[-1]["after"] is None
    assert "/cover/" not in client.get("/g/river-cover").text
    assert client.get(f"/g/river-cover/cover/{digest}.jpg").status_code == 404


def test_a_viewer_may_not_change_the_cover(client, db_session):
    site = make_site()
    goal = make_goal(site)
    sign_in_as(client, make_user(site=site, role=Role.VIEWER))
    assert _upload(client, site, goal, phone_photo((600, 400))).status_code == 403
    assert _cover(goal) is None
    page = client.get(f"/admin/sites/{site.id}/goals/{goal.id}/cover")
    assert page.status_code == 200 and "Upload the image" not in page.text


def test_the_goals_dashboard_page_links_to_its_cover_page(client, editing):
    site, goal = editing
    page = client.get(f"/admin/sites/{site.id}/goals/{goal.id}")
    assert f'href="/admin/sites/{site.id}/goals/{goal.id}/cover"' in page.text


def test_the_goal_page_shows_the_cover_with_its_alt_text(client, editing):
    site, goal = editing
    _upload(client, site, goal, phone_photo((600, 400)), alt="Volunteers on the bank")
    row = _cover(goal)
    response = client.get("/g/river-cover")
    assert (
        f'<img class="cover" src="/g/river-cover/cover/{row.digest}.jpg" width="{row.width}" '
        f'height="{row.height}" alt="Volunteers on the bank">'
    ) in response.text
    assert "img-src 'self'" in response.headers["Content-Security-Policy"]
    assert f'og:image" content="http://127.0.0.1:5000/g/river-cover/cover/{row.digest}.jpg"' in (
        response.text
    )
    # Without alt text of its own, the image is described by the goal's title.
    _upload(client, site, goal, phone_photo((500, 400)), alt="")
    assert 'alt="Clean the river">' in client.get("/g/river-cover").text
    # The widget frame never shows it.
    assert "/cover/" not in client.get("/w/river-cover").text


def test_the_cover_is_served_by_another_app_instance_with_cache_headers(app, committed_db):
    client = app.test_client()
    site = make_site()
    goal = make_goal(site, slug="shared-cover")
    user = make_user(site=site, role=Role.OWNER)
    db.session.commit()
    sign_in_as(client, user)
    assert _upload(client, site, goal, phone_photo((900, 600))).status_code == 302
    digest = _cover(goal).digest
    stored = _cover(goal).data
    db.session.remove()

    # A second app object on the same database: nothing of the first one's memory or disk.
    other = create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"]))
    try:
        with other.test_client() as reader:
            response = reader.get(f"/g/shared-cover/cover/{digest}.jpg")
            assert response.status_code == 200
            assert response.data == stored
            assert response.mimetype == "image/jpeg"
            assert response.headers["ETag"] == f'"{digest}"'
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "Set-Cookie" not in response.headers
            again = reader.get(
                f"/g/shared-cover/cover/{digest}.jpg", headers={"If-None-Match": f'"{digest}"'}
            )
            assert again.status_code == 304
            assert reader.get(f"/g/shared-cover/cover/{'0' * 64}.jpg").status_code == 404
            assert reader.get("/g/shared-cover/cover/not-a-digest.jpg").status_code == 404
            page = reader.get("/g/shared-cover")
            assert f"/g/shared-cover/cover/{digest}.jpg" in page.text
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_draft_goals_cover_is_not_public(client, editing):
    site, goal = editing
    _upload(client, site, goal, phone_photo((600, 400)))
    digest = _cover(goal).digest
    goal.status = GoalStatus.DRAFT
    db.session.commit()
    assert client.get(f"/g/river-cover/cover/{digest}.jpg").status_code == 404
    page = client.get(f"/admin/sites/{site.id}/goals/{goal.id}/cover")
    assert 'src="data:image/jpeg;base64,' in page.text
