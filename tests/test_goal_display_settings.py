"""The goal form's widget display settings: read as owners type them, checked, saved, audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from donate.extensions import db
from donate.models import AuditLog, Goal, Role
from donate.widget.settings import WidgetSettings, check_settings
from tests.admin_support import make_user, post_form, sign_in_as
from tests.factories import make_goal, make_site, reload
from tests.test_admin_goals import goal_form

pytest_plugins = ["tests.admin_fixtures"]


@pytest.fixture
def german_site(db_session):
    site = make_site(name="Stadtanzeiger", default_currency="EUR", default_locale="de")
    return site, make_user("chefin@stadtanzeiger.example", site=site, role=Role.EDITOR)


def error_of(text: str, field: str) -> str:
    return text.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]


def test_a_new_goal_shows_every_figure_and_has_no_default(db_session):
    goal = make_goal()
    settings = WidgetSettings.from_goal(reload(goal))
    assert settings == WidgetSettings()
    assert settings.call_to_action_for("de") is None
    assert settings.figures_shown(0)


def test_the_settings_are_typed_saved_and_shown_again(client, german_site):
    site, editor = german_site
    sign_in_as(client, editor)
    form = goal_form(
        call_to_action="Unterstützen Sie unsere Recherche\nen: Support our city hall investigation",
        default_preset="25,50",
        monthly_presets="5\n10",
        monthly_default="10",
        preset_impacts="25,50: bezahlt eine Aktenanfrage\nmonthly 10: hält das Archiv offen",
        show_percent="",
        hide_figures_below_percent="10",
    )
    response = post_form(client, f"/admin/sites/{site.id}/goals/new", form)
    assert response.status_code == 302
    goal = db.session.execute(sa.select(Goal).where(Goal.slug == "winter-appeal")).scalar_one()
    assert goal.call_to_action == {
        "": "Unterstützen Sie unsere Recherche",
        "en": "Support our city hall investigation",
    }
    assert (goal.show_donor_count, goal.show_percent) == (True, False)
    assert goal.hide_figures_below_percent == 10
    assert goal.default_preset_minor == 2_550
    assert goal.monthly_presets_minor == [500, 1_000]
    assert goal.monthly_default_minor == 1_000
    assert goal.preset_impacts == {
        "once:2550": "bezahlt eine Aktenanfrage",
        "monthly:1000": "hält das Archiv offen",
    }
    settings = WidgetSettings.from_goal(goal)
    assert settings.call_to_action_for("en") == "Support our city hall investigation"
    assert settings.call_to_action_for("fr") == "Unterstützen Sie unsere Recherche"
    assert settings.impact("monthly", 1_000) == "hält das Archiv offen"
    assert not settings.figures_shown(9) and settings.figures_shown(10)

    page = client.get(f"/admin/sites/{site.id}/goals/{goal.id}/edit").text
    assert "en: Support our city hall investigation" in page
    assert "25,5: bezahlt eine Aktenanfrage" in page
    assert "monthly 10: hält das Archiv offen" in page
    create = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "goal.create")
    ).scalar_one()
    assert create.detail["default_preset_minor"] == 2_550


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"default_preset": "20"}, "default_preset", "must be one of the preset amounts"),
        (
            {"monthly_presets": "5\n10", "monthly_default": "25,50"},
            "monthly_default",
            "must be one of the monthly preset amounts",
        ),
        ({"monthly_default": "7"}, "monthly_default", "must be one of the preset amounts"),
        ({"monthly_presets": "2"}, "monthly_presets", "Monthly preset 2,00"),
        ({"monthly_presets": "5\n5"}, "monthly_presets", "should appear once"),
        ({"preset_impacts": "20: zu viel"}, "preset_impacts", "is not one of the preset"),
        ({"preset_impacts": "zwanzig Euro"}, "preset_impacts", "write the amount, a colon"),
        ({"hide_figures_below_percent": "120"}, "hide_figures_below_percent", "0 to 100"),
        (
            {"call_to_action": "Eins\nZwei"},
            "call_to_action",
            "one call to action per language",
        ),
        ({"call_to_action": "x" * 121}, "call_to_action", "under 120 characters"),
    ],
)
def test_each_display_problem_is_named_beside_its_field(
    client, german_site, overrides, field, message
):
    site, editor = german_site
    sign_in_as(client, editor)
    response = post_form(client, f"/admin/sites/{site.id}/goals/new", goal_form(**overrides))
    assert response.status_code == 422
    assert message in error_of(response.text, field)
    assert db.session.execute(sa.select(sa.func.count(Goal.id))).scalar_one() == 0


def test_editing_the_settings_changes_the_row_and_its_updated_time(client, german_site):
    site, editor = german_site
    goal = make_goal(site, slug="spring", target_minor=100_000, presets_minor=[1_000, 2_000])
    before = goal.updated_at
    sign_in_as(client, editor)
    form = goal_form(
        slug="spring",
        target="1.000",
        milestones="",
        presets="10\n20",
        default_preset="20",
        show_donor_count="",
    )
    assert (
        post_form(client, f"/admin/sites/{site.id}/goals/{goal.id}/edit", form).status_code == 302
    )
    goal = reload(goal)
    assert goal.default_preset_minor == 2_000 and goal.show_donor_count is False
    assert goal.updated_at > before


def test_check_settings_refuses_a_key_that_names_no_preset():
    settings = WidgetSettings(preset_impacts={"yearly:1000": "x", "once:abc": "y"})
    errors = check_settings(
        settings,
        presets_minor=[1_000],
        currency="EUR",
        minimum_minor=None,
        maximum_minor=None,
        locale="en",
    )
    assert "does not name a preset" in errors["preset_impacts"]


def test_settings_copy_what_they_are_given_and_hash_by_value():
    texts = {"": "Help us"}
    settings = WidgetSettings(call_to_action=texts, monthly_presets_minor=[500])  # type: ignore[arg-type]
    texts[""] = "Changed"
    assert settings.call_to_action_for("en") == "Help us"
    assert hash(settings) == hash(
        WidgetSettings(call_to_action={"": "Help us"}, monthly_presets_minor=(500,))
    )
