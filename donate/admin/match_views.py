"""Dashboard page of a goal's matching funds: open a sponsor's match, see what is left, close it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for

from donate import matches
from donate.admin import audit, scoping
from donate.admin.blueprint import admin
from donate.admin.match_form import CloseMatchForm, MatchForm
from donate.admin.scoping import current_site, requires
from donate.admin.views import Page
from donate.extensions import db
from donate.models import Goal, GoalMatch, Role


def _match_form(goal: Goal) -> MatchForm:
    return MatchForm(currency=goal.currency, locale=current_site().default_locale)


def _page(goal: Goal, form: MatchForm, *, status: int = 200) -> Page:
    return (
        render_template(
            "admin/match.html",
            goal=goal,
            form=form,
            close_form=CloseMatchForm(),
            current=matches.open_match_of(goal),
            history=matches.matches_of(goal),
        ),
        status,
    )


def _details(match: GoalMatch) -> dict[str, Any]:
    return {
        "match": match.id,
        "sponsor": match.sponsor,
        "pool_minor": match.pool_minor,
        "used_minor": match.used_minor,
        "currency": match.currency,
    }


@admin.get("/sites/<int:site_id>/goals/<int:goal_id>/match")
def goal_match(goal_id: int) -> Page:
    """The goal's match: the open one with what is left, the past ones, the form to open one."""
    goal = scoping.goal_or_404(goal_id)
    return _page(goal, _match_form(goal))


@admin.post("/sites/<int:site_id>/goals/<int:goal_id>/match")
@requires(Role.EDITOR)
def open_goal_match(goal_id: int) -> Page:
    """Open a sponsor's 1:1 match of the goal's gifts, up to its pool."""
    goal = scoping.goal_or_404(goal_id)
    form = _match_form(goal)
    if form.validate_on_submit():
        try:
            match = matches.start_match(goal, sponsor=form.sponsor.data, pool_minor=form.pool_minor)
        except matches.MatchError as error:
            db.session.rollback()
            form.show_match_errors(error)
        else:
            audit.record("goal.match_open", f"goal:{goal.id}", **_details(match))
            db.session.commit()
            flash(f"The match by {match.sponsor} is open: gifts are doubled from now on.", "info")
            return redirect(url_for("admin.goal_match", goal_id=goal.id))
    return _page(goal, form, status=422)


@admin.post("/sites/<int:site_id>/goals/<int:goal_id>/match/close")
@requires(Role.EDITOR)
def close_goal_match(goal_id: int) -> Page:
    """End the goal's match; gifts already matched keep their match."""
    goal = scoping.goal_or_404(goal_id)
    if not CloseMatchForm().validate_on_submit():
        flash("The form expired; please send it again.", "error")
        return redirect(url_for("admin.goal_match", goal_id=goal.id))
    match = matches.close_match(goal)
    if match is None:
        db.session.rollback()
        flash("This goal has no open match.", "error")
    else:
        audit.record("goal.match_close", f"goal:{goal.id}", **_details(match))
        db.session.commit()
        flash(f"The match by {match.sponsor} is closed.", "info")
    return redirect(url_for("admin.goal_match", goal_id=goal.id))
