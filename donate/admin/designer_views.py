"""The embed page as a designer: look and saved display settings, previews, and the snippets.

The preview renders unsaved choices for members only and is never cached; texts reach the
public widget only once saved here, with an audit row, never from a public URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Response,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from donate.admin import audit, scoping
from donate.admin.blueprint import admin
from donate.admin.designer import (
    COLOURS,
    LANGUAGE_NAMES,
    PREVIEW_WIDTHS,
    ChoiceError,
    look_or_default,
    overrides,
    read_look,
)
from donate.admin.display_form import DisplayForm
from donate.admin.embed import Look, snippets
from donate.admin.scoping import requires
from donate.admin.views import Page
from donate.extensions import db
from donate.goal_view import PublicGoal
from donate.models import Goal, Role
from donate.widget.colours import resolve_colour
from donate.widget.documents import render_frame
from donate.widget.frame_policy import content_security_policy
from donate.widget.languages import choose_locale

VARIANT_LABELS = (
    ("full", "Full: the goal and the give form"),
    ("bar", "Bar: progress only"),
    ("button", "Button: progress and a Give button"),
)
# Before the frame reports its own height (the loader starts at the same heights).
START_HEIGHTS = {"full": 470, "bar": 100, "button": 130}
_AUDITED = (
    "call_to_action",
    "show_donor_count",
    "show_percent",
    "hide_figures_below_percent",
    "default_preset_minor",
)


def _public_url() -> str:
    return str(current_app.config["PUBLIC_URL"]).rstrip("/")


def _look_args(look: Look) -> dict[str, str]:
    chosen = {"variant": look.variant, "color": look.colour, "locale": look.locale}
    return {name: value for name, value in chosen.items() if value and value != "full"}


def _designer_page(goal: Goal, look: Look, form: DisplayForm, *, status: int = 200) -> Page:
    preview_query = urlencode({**_look_args(look), "origin": request.host_url.rstrip("/")})
    return render_template(
        "admin/embed.html",
        goal=goal,
        snippets=snippets(goal, _public_url(), look),
        public_url=_public_url(),
        look=look,
        look_args=_look_args(look),
        variants=VARIANT_LABELS,
        colours=COLOURS,
        languages=tuple(LANGUAGE_NAMES.items()),
        display_form=form,
        preview_widths=PREVIEW_WIDTHS,
        preview_height=START_HEIGHTS[look.variant],
        preview_src=url_for("admin.designer_preview", goal_id=goal.id) + "?" + preview_query,
    ), status


@admin.get("/sites/<int:site_id>/goals/<int:goal_id>/embed")
def embed(goal_id: int) -> Page:
    """The designer: choose the look and what the widget says, see it, copy its code."""
    goal = scoping.goal_or_404(goal_id)
    form = DisplayForm(goal, formdata=None)
    return _designer_page(goal, look_or_default(request.args), form)


def _snapshot(goal: Goal) -> dict[str, Any]:
    return {name: getattr(goal, name) for name in _AUDITED}


@admin.post("/sites/<int:site_id>/goals/<int:goal_id>/display")
@requires(Role.EDITOR)
def save_display(goal_id: int) -> Page:
    """Save the call to action, what to show and the preselected amount, with an audit row."""
    goal = scoping.goal_or_404(goal_id)
    look = look_or_default(request.args)
    form = DisplayForm(goal)
    if not form.validate_on_submit():
        return _designer_page(goal, look, form, status=422)
    before = _snapshot(goal)
    form.settings().apply_to(goal)
    after = _snapshot(goal)
    changes = {k: {"before": before[k], "after": after[k]} for k in after if before[k] != after[k]}
    if changes:
        audit.record("goal.update", f"goal:{goal.id}", changes=changes)
    db.session.commit()
    flash("The widget's settings are saved: every embed of this goal shows them.", "info")
    back: dict[str, Any] = {"goal_id": goal.id, **_look_args(look)}
    return redirect(url_for("admin.embed", **back))


def _refused(message: str) -> Response:
    return Response(message, status=400, mimetype="text/plain")


@admin.get("/sites/<int:site_id>/goals/<int:goal_id>/preview")
def designer_preview(goal_id: int) -> Response:
    """The widget as the designer's unsaved choices would show it; for members, never cached.

    Any parameter outside its list or range is refused (400) with a message; parameters left
    out keep the saved settings; others (the frame's own `origin`) are not read here.
    """
    goal = scoping.goal_or_404(goal_id)
    try:
        look = read_look(request.args)
        settings = overrides(request.args, goal)
    except ChoiceError as error:
        return _refused(str(error))
    document = render_frame(
        PublicGoal(goal=goal, site_locale=goal.site.default_locale),
        variant=look.variant,
        # The chosen language, or the site's own: the owner's browser does not decide a preview.
        locale=choose_locale(look.locale or goal.site.default_locale, "en").locale,
        colour=resolve_colour(look.colour or None, goal.site.brand_colour),
        settings=settings,
    )
    # Framed by the dashboard only: no site origin is added, so no article may frame it.
    g.preview_policy = content_security_policy(
        [], script_hashes=document.script_hashes, style_hashes=document.style_hashes
    )
    response = Response(document.body, mimetype=document.mimetype)
    response.headers["Cache-Control"] = "no-store"
    return response


@admin.get("/sites/<int:site_id>/goals/<int:goal_id>/embed/codes")
def designer_codes(goal_id: int) -> Response:
    """The snippets for a look, from the one place that writes them (donate.admin.embed)."""
    goal = scoping.goal_or_404(goal_id)
    try:
        look = read_look(request.args)
    except ChoiceError as error:
        return _refused(str(error))
    codes = [{"key": s.key, "code": s.code} for s in snippets(goal, _public_url(), look)]
    return jsonify({"snippets": codes})
