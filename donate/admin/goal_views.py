"""Dashboard pages for goals: create, edit, pause or close, and the chart."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from donate.admin import goal_changes, reports, scoping
from donate.admin.blueprint import admin
from donate.admin.charts import daily_chart
from donate.admin.forms import GoalForm, GoalStatusForm
from donate.admin.links import public_link
from donate.admin.scoping import current_site, requires
from donate.admin.views import Page
from donate.extensions import db
from donate.goals import has_gifts
from donate.models import GoalStatus, Role


def _form_page(form: GoalForm, *, status: int = 200) -> Page:
    return render_template("admin/goal_form.html", form=form, goal=form.goal), status


@admin.route("/sites/<int:site_id>/goals/new", methods=["GET", "POST"])
@requires(Role.EDITOR)
def new_goal() -> Page:
    """Create a goal with its presets, limits, dates and milestones."""
    form = GoalForm(site=current_site())
    if form.validate_on_submit():
        goal = goal_changes.create_from(current_site(), form)
        if goal is not None:
            db.session.commit()
            flash(f"The goal {goal.title} is created. Copy its embed code below.", "info")
            return redirect(url_for("admin.embed", goal_id=goal.id))
        db.session.rollback()
    return _form_page(form, status=422 if form.is_submitted() else 200)


@admin.get("/sites/<int:site_id>/goals/<int:goal_id>")
def show_goal(goal_id: int) -> Page:
    """A goal's numbers, money raised per day against the target, and per article."""
    site = current_site()
    goal = scoping.goal_or_404(goal_id)
    days = reports.raised_per_day(goal, site.time_zone)
    chart = daily_chart(
        days, target_minor=goal.target_minor, currency=goal.currency, locale=site.default_locale
    )
    return render_template(
        "admin/goal.html",
        goal=goal,
        days=days,
        chart=chart,
        articles=reports.raised_per_article([goal.id]),
        public_url=public_link("widget.goal_page", slug=goal.slug),
        status_form=GoalStatusForm(formdata=None, data={"status": goal.status.value}),
    )


@admin.route("/sites/<int:site_id>/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@requires(Role.EDITOR)
def edit_goal(goal_id: int) -> Page:
    """Change a goal; its currency is fixed once it has a gift."""
    goal = scoping.goal_or_404(goal_id)
    form = GoalForm(site=current_site(), goal=goal, currency_locked=has_gifts(goal))
    if form.validate_on_submit():
        if goal_changes.update_from(goal, form):
            db.session.commit()
            flash("The goal is saved.", "info")
            return redirect(url_for("admin.show_goal", goal_id=goal.id))
        db.session.rollback()
    return _form_page(form, status=422 if form.is_submitted() else 200)


@admin.post("/sites/<int:site_id>/goals/<int:goal_id>/status")
@requires(Role.EDITOR)
def goal_status(goal_id: int) -> Page:
    """Publish, pause, close or reopen a goal."""
    goal = scoping.goal_or_404(goal_id)
    form = GoalStatusForm()
    if not form.validate_on_submit():
        flash("Choose one of the statuses.", "error")
        return redirect(url_for("admin.show_goal", goal_id=goal.id))
    problem = goal_changes.change_status(goal, GoalStatus(form.status.data))
    if problem:
        db.session.rollback()
        flash(problem, "error")
    else:
        db.session.commit()
        flash(f"The goal is now {goal.status.value}.", "info")
    return redirect(url_for("admin.show_goal", goal_id=goal.id))
