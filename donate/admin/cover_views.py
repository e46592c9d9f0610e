"""A goal's cover image in the dashboard: upload (its own size limit), replace, remove, audited."""

from __future__ import annotations

import base64

from flask import flash, redirect, render_template, request, url_for
from flask_wtf.file import FileStorage

from donate.admin import audit, scoping
from donate.admin.blueprint import admin
from donate.admin.cover_forms import CoverRemoveForm, CoverUploadForm
from donate.admin.scoping import requires
from donate.admin.views import Page
from donate.body_limits import body_limit
from donate.cover_images import COVER_MAX_BYTES, CoverError, process_cover
from donate.extensions import db
from donate.goal_covers import CoverInfo, cover_of, remove_cover, save_cover
from donate.models import Goal, GoalCover, Role

# Room for the multipart wrapping, the CSRF token and the alt text around the file itself, so a
# file a little over the limit still gets the form's own message rather than the error page
# (which names the whole request's limit, so a round megabyte).
FORM_OVERHEAD_BYTES = 1024 * 1024


def _preview(goal: Goal) -> str | None:
    """The stored cover as a data: URL, so a draft goal's cover shows here too."""
    row = db.session.get(GoalCover, goal.id)
    if row is None:
        return None
    return f"data:{row.media_type};base64,{base64.b64encode(row.data).decode('ascii')}"


def _page(goal: Goal, form: CoverUploadForm, *, status: int = 200) -> Page:
    return render_template(
        "admin/goal_cover.html",
        goal=goal,
        form=form,
        remove_form=CoverRemoveForm(),
        cover=cover_of(goal.id),
        preview=_preview(goal),
    ), status


def _audit_detail(cover: CoverInfo | None) -> dict[str, object] | None:
    if cover is None:
        return None
    return {"digest": cover.digest, "width": cover.width, "height": cover.height, "alt": cover.alt}


@admin.get("/sites/<int:site_id>/goals/<int:goal_id>/cover")
def goal_cover(goal_id: int) -> Page:
    """The goal page's cover: what it is now, and the form to change it."""
    goal = scoping.goal_or_404(goal_id)
    form = CoverUploadForm(formdata=None)
    current = cover_of(goal.id)
    form.alt.data = current.alt if current else ""
    return _page(goal, form)


@admin.post("/sites/<int:site_id>/goals/<int:goal_id>/cover")
@body_limit(COVER_MAX_BYTES + FORM_OVERHEAD_BYTES)
@requires(Role.EDITOR)
def upload_goal_cover(goal_id: int) -> Page:
    """Check, resize and store an uploaded cover; a refused one changes nothing."""
    goal = scoping.goal_or_404(goal_id)
    form = CoverUploadForm()
    upload = request.files.get("image")
    if not form.validate_on_submit():
        return _page(goal, form, status=422)
    if not isinstance(upload, FileStorage) or not upload.filename:
        form.image.errors = ["Choose an image file to upload."]
        return _page(goal, form, status=422)
    try:
        processed = process_cover(upload.read())
    except CoverError as error:
        form.image.errors = [str(error)]
        return _page(goal, form, status=422)
    before = cover_of(goal.id)
    save_cover(goal, processed, form.alt.data or "")
    audit.record(
        "goal.cover",
        f"goal:{goal.id}",
        before=_audit_detail(before),
        after=_audit_detail(cover_of(goal.id)),
    )
    db.session.commit()
    flash("The cover image is saved; the goal page shows it now.", "info")
    return redirect(url_for("admin.goal_cover", goal_id=goal.id))


@admin.post("/sites/<int:site_id>/goals/<int:goal_id>/cover/remove")
@requires(Role.EDITOR)
def remove_goal_cover(goal_id: int) -> Page:
    """Take the cover off the goal page."""
    goal = scoping.goal_or_404(goal_id)
    if not CoverRemoveForm().validate_on_submit():
        flash("The form had expired; please try again.", "error")
        return redirect(url_for("admin.goal_cover", goal_id=goal.id))
    removed = remove_cover(goal)
    if removed is not None:
        audit.record("goal.cover", f"goal:{goal.id}", before=_audit_detail(removed), after=None)
        db.session.commit()
        flash("The cover image is removed.", "info")
    return redirect(url_for("admin.goal_cover", goal_id=goal.id))
