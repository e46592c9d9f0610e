"""The embed designer: members-only no-store previews of unsaved choices, saved display settings
reaching the public widget (and only saved ones), and the snippet codes for each choice."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from donate.admin.embed import Look, snippets
from donate.extensions import db
from donate.models import AuditLog
from donate.widget.colours import PALETTE
from tests.admin_support import post_form, sign_in_as
from tests.factories import reload
from tests.widget_support import fresh_widget_cache, page_text  # noqa: F401

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures

CTA = "Support our city hall investigation"


def preview_path(d, query: str = "", *, site=None, goal=None) -> str:  # noqa: ANN001
    site, goal = site or d.site_a, goal or d.goal_a
    return f"/admin/sites/{site.id}/goals/{goal.id}/preview{query}"


def test_the_preview_sends_the_signed_out_to_sign_in(client, dashboard):
    response = client.get(preview_path(dashboard, f"?cta={CTA}"))
    assert response.status_code == 302
    assert "/admin/sign-in" in response.headers["Location"]


def test_the_preview_of_another_sites_goal_does_not_exist(client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner_b)
    assert client.get(preview_path(d)).status_code == 404
    # Through the member's own site, the other site's goal is not found either.
    assert client.get(preview_path(d, site=d.site_b, goal=d.goal_a)).status_code == 404
    assert client.get(preview_path(d, site=d.site_b, goal=d.goal_b)).status_code == 200


def test_the_preview_is_never_stored_and_only_the_dashboard_may_frame_it(client, dashboard, app):
    d = dashboard
    sign_in_as(client, d.viewer)  # reading is enough to try choices
    response = client.get(preview_path(d))
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' http://127.0.0.1:5000" in policy
    for origin in d.site_a.allowed_origins:
        assert origin not in policy  # an article may frame /w, never the preview
    assert "script-src 'sha256-" in policy  # the widget's own inline script, by hash

    # The public frame keeps its own rules: the site's origins, public caching, no X-Frame-Options.
    public = client.get(f"/w/{d.goal_a.slug}")
    public_policy = public.headers["Content-Security-Policy"]
    assert all(origin in public_policy for origin in d.site_a.allowed_origins)
    assert "X-Frame-Options" not in public.headers
    assert "public" in public.headers["Cache-Control"]
    # And the dashboard's other pages still refuse every frame.
    page = client.get(f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}/embed")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_the_preview_shows_the_chosen_variant_colour_and_language(client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    full = client.get(preview_path(d))
    assert b"<form" in full.data
    bar = client.get(preview_path(d, "?variant=bar&color=green&locale=de"))
    assert bar.status_code == 200
    assert b"<form" not in bar.data
    assert f"--accent:{PALETTE['green']}".encode() in bar.data
    assert b'lang="de"' in bar.data
    button = client.get(preview_path(d, "?variant=button&color=purple"))
    assert b'class="button"' in button.data
    assert f"--accent:{PALETTE['purple']}".encode() in button.data


def test_unsaved_choices_show_in_the_preview_and_nowhere_else(client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    before = page_text(client.get(preview_path(d)).data)
    assert "1 donor" in before and CTA not in before

    chosen = page_text(client.get(preview_path(d, f"?cta={CTA}&show_donor_count=0")).data)
    assert CTA in chosen
    assert "1 donor" not in chosen
    # A translated call to action shows in its own language only.
    german = f"?locale=de&cta={CTA}&cta_de=Unterstützen Sie unsere Recherche"
    assert "Unterstützen Sie unsere Recherche" in page_text(
        client.get(preview_path(d, german)).data
    )

    # The text is the owner's words, shown as text, never as markup.
    marked = client.get(preview_path(d, "?cta=<b>Bold</b> move"))
    assert b"&lt;b&gt;Bold&lt;/b&gt; move" in marked.data and b"<b>Bold" not in marked.data

    # Nothing was saved, and the public widget never takes texts from its URL.
    assert reload(d.goal_a).call_to_action == {}
    public = page_text(client.get(f"/w/{d.goal_a.slug}?cta={CTA}&show_donor_count=0").data)
    assert CTA not in public
    assert "1 donor" in public


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?variant=banner", "variant must be one of: full, bar, button."),
        ("?color=%23ff00ff", "color must be one of"),
        ("?locale=it", "locale must be one of: en, de, fr, es."),
        ("?show_percent=yes", "show_percent must be 0 or 1."),
        ("?hide_below=101", "hide_below must be a whole number from 0 to 100."),
        ("?default_amount=777", "must be one of the preset amounts"),
        ("?default_amount=ten", "default_amount must be a preset amount"),
        ("?cta=" + "x" * 121, "under 120 characters"),
        ("?cta_fr=Line%0Abreak", "on one line"),
    ],
)
def test_a_preview_value_outside_its_list_or_range_is_refused(client, dashboard, query, message):
    d = dashboard
    sign_in_as(client, d.owner)
    response = client.get(preview_path(d, query))
    assert response.status_code == 400
    assert message in response.text


def embed_path(d, query: str = "") -> str:  # noqa: ANN001
    return f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}/embed{query}"


def save_path(d, query: str = "") -> str:  # noqa: ANN001
    return f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}/display{query}"


def display_form(**overrides: str) -> dict[str, str]:
    values = {
        "cta": CTA,
        "cta_de": "Unterstützen Sie unsere Recherche",
        "cta_fr": "",
        "cta_es": "",
        "show_percent": "y",
        "hide_below": "0",
        "default_amount": "2500",
    }
    values.update(overrides)
    return values


def test_saving_the_designer_changes_the_public_widget_with_an_audit_row(client, dashboard):
    d = dashboard
    sign_in_as(client, d.editor)
    response = post_form(client, save_path(d, "?variant=bar&color=teal"), display_form())
    assert response.status_code == 302
    # Back to the designer with the same look chosen.
    assert response.headers["Location"].endswith(embed_path(d, "?variant=bar&color=teal"))
    goal = reload(d.goal_a)
    assert goal.call_to_action == {"": CTA, "de": "Unterstützen Sie unsere Recherche"}
    assert goal.show_donor_count is False and goal.show_percent is True
    assert goal.default_preset_minor == 2_500
    (entry,) = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "goal.update", AuditLog.user_id == d.editor.id)
    ).scalars()
    assert entry.subject == f"goal:{goal.id}"
    assert entry.detail["changes"]["show_donor_count"] == {"before": True, "after": False}
    assert entry.detail["changes"]["call_to_action"]["after"][""] == CTA

    public = page_text(client.get(f"/w/{goal.slug}").data)
    assert CTA in public and "1 donor" not in public
    assert "Unterstützen Sie unsere Recherche" in page_text(
        client.get(f"/w/{goal.slug}?locale=de").data
    )
    page = client.get(embed_path(d, "?variant=bar&color=teal"))
    assert f'value="{CTA}"' in page.text
    assert 'value="bar" checked' in page.text and 'value="teal" selected' in page.text


def test_a_viewer_may_preview_but_not_save(client, dashboard):
    d = dashboard
    sign_in_as(client, d.viewer)
    assert client.get(embed_path(d)).status_code == 200
    assert "an editor or owner can save them" in client.get(embed_path(d)).text
    assert post_form(client, save_path(d), display_form()).status_code == 403
    assert reload(d.goal_a).call_to_action == {}


def test_saving_needs_the_forms_csrf_token(client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    assert client.post(save_path(d), data=display_form()).status_code == 400
    assert reload(d.goal_a).call_to_action == {}


def test_bad_settings_are_refused_beside_their_field_and_nothing_changes(client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    response = post_form(client, save_path(d), display_form(cta="x" * 130, hide_below="150"))
    assert response.status_code == 422
    assert "Choose a percentage from 0 to 100." in response.text
    response = post_form(client, save_path(d), display_form(cta="x" * 130))
    assert response.status_code == 422
    assert "Keep the call to action under 120 characters." in response.text
    response = post_form(client, save_path(d), display_form(default_amount="777"))
    assert response.status_code == 422
    assert reload(d.goal_a).call_to_action == {}
    assert reload(d.goal_a).default_preset_minor is None


def test_the_snippets_carry_the_chosen_look(app):
    from types import SimpleNamespace

    demo = SimpleNamespace(slug="local-news", title="Keep local news free to read")
    base = "https://give.example.org"
    codes = {s.key: s.code for s in snippets(demo, base, Look("bar", "green", "de"))}  # type: ignore[arg-type]
    assert codes["script"] == (
        '<div class="donate-widget" data-goal="local-news"><a href="https://give.example.org/g/'
        'local-news">Give to Keep local news free to read</a></div>\n'
        '<script async src="https://give.example.org/embed.js" data-goal="local-news" '
        'data-variant="bar" data-color="green" data-locale="de"></script>'
    )
    assert codes["iframe"] == (
        '<iframe src="https://give.example.org/w/local-news?variant=bar&color=green&locale=de" '
        'title="Keep local news free to read" height="270" width="100%" style="border:0" '
        'loading="lazy"></iframe>'
    )
    assert "/w/local-news?variant=bar&color=green&locale=de" in codes["bar"]
    assert "/w/local-news/progress.png?color=green&locale=de" in codes["image"]
    assert codes["link"] == (
        '<a href="https://give.example.org/g/local-news">Give to Keep local news free to read</a>'
    )
    button = {s.key: s.code for s in snippets(demo, base, Look("button"))}  # type: ignore[arg-type]
    assert 'data-goal="local-news" data-variant="button"></script>' in button["script"]
    assert (
        '/w/local-news?variant=button" title="Keep local news free to read" height="320"'
        in (button["iframe"])
    )
    # The default look is exactly the README's (tests/test_admin_goals.py compares those).
    assert snippets(demo, base, Look()) == snippets(demo, base)  # type: ignore[arg-type]


def test_the_codes_endpoint_answers_with_the_same_snippets(client, dashboard, app):
    d = dashboard
    sign_in_as(client, d.viewer)
    path = f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}/embed/codes"
    answer = client.get(f"{path}?variant=button&color=teal&locale=fr")
    assert answer.status_code == 200
    assert "no-store" in answer.headers["Cache-Control"]
    expected = snippets(d.goal_a, app.config["PUBLIC_URL"], Look("button", "teal", "fr"))
    assert answer.json == {"snippets": [{"key": s.key, "code": s.code} for s in expected]}
    assert client.get(f"{path}?color=chartreuse").status_code == 400
    sign_in_as(client, d.owner_b)
    assert client.get(f"{path}?variant=bar").status_code == 404


def test_the_embed_page_shows_the_codes_of_the_look_in_its_address(client, dashboard, app):
    d = dashboard
    sign_in_as(client, d.owner)
    page = client.get(embed_path(d, "?variant=button&locale=es"))
    assert "data-variant=&#34;button&#34; data-locale=&#34;es&#34;" in page.text
    # An unknown look in the address is ignored: the page shows the default codes.
    page = client.get(embed_path(d, "?variant=banner"))
    assert page.status_code == 200
    assert "data-variant" not in page.text
