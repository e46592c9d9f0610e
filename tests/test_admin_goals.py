"""Goals in the dashboard: the form and its messages, edits, status changes and the embed page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from donate.extensions import db
from donate.models import AuditLog, Goal, GoalStatus, Role
from tests.admin_support import make_user, post_form, sign_in_as
from tests.factories import make_goal, make_offline_gift, make_site, reload

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures


def goal_form(**overrides: str) -> dict[str, str]:
    values = {
        "title": "Winter appeal",
        "slug": "winter-appeal",
        "description": "Heating for the newsroom.",
        "currency": "EUR",
        "target": "12.500,50",
        "presets": "10\n25,50\n100",
        "minimum": "5",
        "maximum": "1.000",
        "monthly": "y",
        "starts_at": "2026-12-01T09:00",
        "ends_at": "2027-01-31T23:59",
        "milestones": "5.000\n10.000",
        "status": "active",
        # Checked by default on the form, so a browser sends them.
        "show_donor_count": "y",
        "show_percent": "y",
    }
    values.update(overrides)
    return values


@pytest.fixture
def german_site(db_session):
    site = make_site(
        name="Stadtanzeiger", default_currency="EUR", default_locale="de", time_zone="Europe/Berlin"
    )
    return site, make_user("chefin@stadtanzeiger.example", site=site, role=Role.EDITOR)


def test_an_editor_creates_a_goal_typed_the_german_way(client, german_site):
    site, editor = german_site
    sign_in_as(client, editor)
    response = post_form(client, f"/admin/sites/{site.id}/goals/new", goal_form())
    assert response.status_code == 302
    goal = db.session.execute(sa.select(Goal).where(Goal.slug == "winter-appeal")).scalar_one()
    assert response.headers["Location"].endswith(f"/goals/{goal.id}/embed")
    assert goal.site_id == site.id
    assert goal.currency == "EUR"
    assert goal.target_minor == 1_250_050
    assert goal.presets_minor == [1_000, 2_550, 10_000]
    assert (goal.minimum_minor, goal.maximum_minor) == (500, 100_000)
    assert goal.milestones_minor == [500_000, 1_000_000]
    assert goal.monthly_enabled is True
    # Typed in Berlin's wall-clock time, stored in UTC.
    assert goal.starts_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert goal.ends_at == datetime(2027, 1, 31, 22, 59, tzinfo=UTC)
    entry = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "goal.create")
    ).scalar_one()
    assert entry.actor == f"user:{editor.id}"
    assert entry.site_id == site.id
    assert entry.detail["target_minor"] == 1_250_050


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "Give the goal a title."),
        (
            {"title": "Winter\nappeal"},
            "title",
            "Keep the title on one line, without tabs or control characters.",
        ),
        ({"slug": "Winter Appeal!"}, "slug", "Use lower-case letters, digits and dashes"),
        ({"target": "zwölf"}, "target", "Please enter the amount in digits"),
        ({"target": "0"}, "target", "greater than zero"),
        ({"minimum": "0,10"}, "minimum", "below Stripe&#39;s minimum charge"),
        ({"maximum": "2"}, "maximum", "The maximum gift must be at least the minimum."),
        ({"presets": "10\nzehn"}, "presets", "zehn: Please enter the amount in digits"),
        ({"presets": "10\n20\n30\n40\n50\n60\n70"}, "presets", "Offer at most 6 preset amounts."),
        ({"presets": "2"}, "presets", "The minimum gift is 5,00"),
        (
            {"milestones": "20.000"},
            "milestones",
            "Milestones must lie between zero and the target.",
        ),
        ({"ends_at": "2026-11-30T12:00"}, "ends_at", "The deadline must come after the start."),
        ({"starts_at": "next week"}, "starts_at", "Not a valid datetime value."),
        ({"currency": "XYZ"}, "currency", "Not a valid choice"),
        (
            {"maximum": "1.000.000"},
            "maximum",
            "cannot be above the largest amount Stripe takes in one payment, 999.999,99",
        ),
        (
            {"currency": "KRW", "minimum": "", "presets": "", "target": "1.000.000"},
            "minimum",
            "Stripe publishes no minimum charge for KRW; set the minimum gift",
        ),
    ],
)
def test_each_problem_is_named_beside_its_field(client, german_site, overrides, field, message):
    site, editor = german_site
    sign_in_as(client, editor)
    response = post_form(client, f"/admin/sites/{site.id}/goals/new", goal_form(**overrides))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    error_line = response.text.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]
    assert message in error_line
    assert db.session.execute(sa.select(sa.func.count(Goal.id))).scalar_one() == 0


def test_every_problem_is_reported_in_one_round(client, german_site):
    site, editor = german_site
    make_goal(make_site(), slug="winter-appeal")
    sign_in_as(client, editor)
    response = post_form(
        client,
        f"/admin/sites/{site.id}/goals/new",
        goal_form(title="", minimum="fünf", milestones="50.000", ends_at="2026-11-30T12:00"),
    )
    assert response.status_code == 422

    def error_of(field: str) -> str:
        return response.text.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]

    assert "Give the goal a title." in error_of("title")
    assert "Please enter the amount in digits" in error_of("minimum")
    assert "The slug winter-appeal is taken; choose another." in error_of("slug")
    assert "Milestones must lie between zero and the target." in error_of("milestones")
    assert "The deadline must come after the start." in error_of("ends_at")
    # The maximum and the presets are checked against the minimum, which could not be read.
    assert 'id="maximum-error"' not in response.text
    assert 'id="presets-error"' not in response.text
    mine = sa.select(sa.func.count(Goal.id)).where(Goal.site_id == site.id)
    assert db.session.execute(mine).scalar_one() == 0


def test_a_target_beyond_one_charge_is_fine_while_the_maximum_gift_stays_within_it(
    client, german_site
):
    # Stripe's eight digits bound one charge, never a target or a milestone.
    site, editor = german_site
    sign_in_as(client, editor)
    form = goal_form(target="2.000.000", milestones="1.500.000", maximum="999.999,99")
    response = post_form(client, f"/admin/sites/{site.id}/goals/new", form)
    assert response.status_code == 302
    goal = db.session.execute(sa.select(Goal).where(Goal.slug == "winter-appeal")).scalar_one()
    assert (goal.target_minor, goal.maximum_minor) == (200_000_000, 99_999_999)
    assert goal.milestones_minor == [150_000_000]


def test_a_taken_slug_is_refused(client, german_site):
    site, editor = german_site
    make_goal(make_site(), slug="winter-appeal")
    sign_in_as(client, editor)
    response = post_form(client, f"/admin/sites/{site.id}/goals/new", goal_form())
    assert response.status_code == 422
    assert "The slug winter-appeal is taken; choose another." in response.text


def test_editing_keeps_the_values_and_applies_changes(client, german_site):
    site, editor = german_site
    goal = make_goal(site, slug="spring", target_minor=100_000, presets_minor=[1_000, 2_000])
    sign_in_as(client, editor)
    form_page = client.get(f"/admin/sites/{site.id}/goals/{goal.id}/edit")
    assert form_page.status_code == 200
    assert 'value="1000"' in form_page.text  # the target as a German would type it
    response = post_form(
        client,
        f"/admin/sites/{site.id}/goals/{goal.id}/edit",
        goal_form(slug="spring", target="2.000", milestones="", starts_at="", ends_at=""),
    )
    assert response.status_code == 302
    assert reload(goal).target_minor == 200_000
    change = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "goal.update")
    ).scalar_one()
    assert change.detail["changes"]["target_minor"] == {"before": 100_000, "after": 200_000}


def test_the_currency_is_locked_after_the_first_gift(client, german_site):
    site, editor = german_site
    goal = make_goal(site, slug="locked")
    make_offline_gift(goal, 1_000)
    sign_in_as(client, editor)
    page = client.get(f"/admin/sites/{site.id}/goals/{goal.id}/edit")
    assert "Fixed by the first gift." in page.text
    assert '<option value="USD"' not in page.text
    response = post_form(
        client,
        f"/admin/sites/{site.id}/goals/{goal.id}/edit",
        goal_form(slug="locked", currency="USD", starts_at="", ends_at=""),
    )
    assert response.status_code == 422
    assert reload(goal).currency == "EUR"


@pytest.mark.parametrize("status", ["paused", "closed", "draft", "active"])
def test_a_goal_is_paused_closed_or_reopened(client, dashboard, status):
    d = dashboard
    sign_in_as(client, d.editor)
    response = post_form(
        client, f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}/status", {"status": status}
    )
    assert response.status_code == 302
    assert reload(d.goal_a).status == GoalStatus(status)
    logged = (
        db.session.execute(sa.select(AuditLog).where(AuditLog.action == "goal.status"))
        .scalars()
        .all()
    )
    assert len(logged) == (0 if status == "active" else 1)


def test_the_goal_page_shows_numbers_and_links(client, dashboard):
    d = dashboard
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}")
    assert page.status_code == 200
    assert "$25.00" in page.text and "$5,000.00" in page.text
    assert "Money raised per day" in page.text
    assert "/edit" not in page.text  # a viewer is not offered changes


def test_the_embed_page_offers_every_snippet_with_copy_buttons_and_a_preview(
    client, dashboard, app
):
    d = dashboard
    sign_in_as(client, d.viewer)
    page = client.get(f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}/embed")
    assert page.status_code == 200
    base = app.config["PUBLIC_URL"]
    slug = d.goal_a.slug
    text = page.text
    for expected in (
        f"&lt;script async src=&#34;{base}/embed.js&#34; data-goal=&#34;{slug}&#34;&gt;",
        f"{base}/w/{slug}&#34;",
        f"{base}/w/{slug}?variant=bar",
        f"{base}/w/{slug}/progress.png",
        f"{base}/w/{slug}/progress.svg",
        f"{base}/g/{slug}",
    ):
        assert expected in text, expected
    assert text.count('class="copy"') == 5
    preview = f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}/preview?origin="
    assert text.count(f'src="{preview}') == 3  # the designer's previews at 320, 390 and 720 px
    assert "frame-src 'self' http://127.0.0.1:5000" in page.headers["Content-Security-Policy"]


def test_the_embed_page_warns_about_drafts_and_missing_origins(client, db_session):
    site = make_site(allowed_origins=[])
    goal = make_goal(site, status=GoalStatus.DRAFT)
    sign_in_as(client, make_user(site=site))
    page = client.get(f"/admin/sites/{site.id}/goals/{goal.id}/embed")
    assert "This goal is a draft" in page.text
    assert "No origin may embed the widget yet" in page.text


def test_an_unknown_status_is_refused(client, dashboard):
    d = dashboard
    sign_in_as(client, d.editor)
    response = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/goals/{d.goal_a.id}/status",
        {"status": "deleted"},
        follow_redirects=True,
    )
    assert "Choose one of the statuses." in response.text
    assert reload(d.goal_a).status == GoalStatus.ACTIVE


def test_the_readme_shows_exactly_the_snippets_the_dashboard_gives():
    """One source for embed codes: the README's examples are the dashboard's, for the demo goal."""
    from types import SimpleNamespace

    from donate.admin.embed import snippets

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    demo = SimpleNamespace(slug="local-news", title="Keep local news free to read")
    for snippet in snippets(demo, "https://give.example.org"):  # type: ignore[arg-type]
        assert snippet.code in readme, snippet.key
