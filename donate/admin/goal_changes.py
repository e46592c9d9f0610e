"""Creating, editing, pausing and closing goals from the dashboard, each with an audit row."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from donate.admin import audit
from donate.admin.forms import GoalForm
from donate.goals import GoalSettings, SettingsError, create_goal, update_goal
from donate.models import Goal, GoalStatus, Site

_AUDITED = tuple(
    "slug title currency target_minor presets_minor minimum_minor maximum_minor "
    "monthly_enabled milestones_minor status call_to_action show_donor_count show_percent "
    "hide_figures_below_percent default_preset_minor monthly_presets_minor "
    "monthly_default_minor preset_impacts fee_cover_enabled fee_cover_basis_points "
    "fee_cover_fixed_minor".split()
)


def _snapshot(goal: Goal) -> dict[str, Any]:
    values = {name: getattr(goal, name) for name in _AUDITED}
    values["status"] = goal.status.value
    for name in ("starts_at", "ends_at"):
        moment = getattr(goal, name)
        values[name] = moment.isoformat() if moment else None
    return values


def settings_of(goal: Goal) -> GoalSettings:
    """A goal's current settings, to change one of them through the shared rules."""
    return GoalSettings(
        slug=goal.slug,
        title=goal.title,
        currency=goal.currency,
        target_minor=goal.target_minor,
        presets_minor=list(goal.presets_minor or []),
        minimum_minor=goal.minimum_minor,
        maximum_minor=goal.maximum_minor,
        monthly_enabled=goal.monthly_enabled,
        description=goal.description,
        starts_at=goal.starts_at,
        ends_at=goal.ends_at,
        milestones_minor=list(goal.milestones_minor or []),
        status=goal.status,
        fee_cover_enabled=goal.fee_cover_enabled,
        fee_cover_basis_points=goal.fee_cover_basis_points,
        fee_cover_fixed_minor=goal.fee_cover_fixed_minor,
    )


def create_from(site: Site, form: GoalForm) -> Goal | None:
    """A new goal on the site; None (errors on the form) when a rule refuses."""
    try:
        goal = create_goal(site, form.settings())
    except SettingsError as error:
        form.show_rule_errors(error)
        return None
    form.display_settings().apply_to(goal)
    audit.record("goal.create", f"goal:{goal.id}", **_snapshot(goal))
    return goal


def update_from(goal: Goal, form: GoalForm) -> bool:
    """Apply the form to the goal; False (errors on the form) when a rule refuses."""
    before = _snapshot(goal)
    try:
        update_goal(goal, form.settings())
    except SettingsError as error:
        form.show_rule_errors(error)
        return False
    form.display_settings().apply_to(goal)
    after = _snapshot(goal)
    changes = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
    if changes:
        audit.record("goal.update", f"goal:{goal.id}", changes=changes)
    return True


def change_status(goal: Goal, status: GoalStatus) -> str | None:
    """Pause, close, reopen or publish a goal; returns the rule's message when it refuses."""
    before = goal.status
    if before == status:
        return None
    try:
        update_goal(goal, replace(settings_of(goal), status=status))
    except SettingsError as error:
        return " ".join(error.errors.values())
    audit.record("goal.status", f"goal:{goal.id}", before=before.value, after=status.value)
    return None
