"""Dashboard pages for signing in, sites, people, the overview and the audit log."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from donate import mail
from donate.accounts import AccountError, end_every_session
from donate.admin import audit, members, passwords, reports, scoping, sites
from donate.admin.blueprint import admin
from donate.admin.forms import (
    ConfirmForm,
    InviteForm,
    NewAccountForm,
    NewPasswordForm,
    ResetRequestForm,
    RoleForm,
    SignInForm,
    SiteForm,
)
from donate.admin.overview import goal_lines, stripe_health
from donate.admin.scoping import current_site, requires
from donate.admin.signin import WRONG_CREDENTIALS, authenticate, find_user
from donate.admin.site_webhooks import site_webhook_health
from donate.admin.tokens import LinkProblem, read_invitation, user_for_reset
from donate.extensions import db, limiter
from donate.models import Role

Page = str | Response | tuple[str, int]


def _sign_in_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT"]


def _account_limit() -> str:
    return current_app.config["SIGN_IN_RATE_LIMIT_PER_ACCOUNT"]


def _account_tried() -> str:
    """The address being tried, so guessing one account's password from many IPs is slowed too."""
    return "sign-in:" + (request.form.get("email") or "").strip().lower()[:320]


def _fresh_session() -> None:
    """Drop everything from before a sign-in or sign-out, the CSRF token included."""
    session.clear()
    g.pop("csrf_token", None)


def _safe_next(target: str | None) -> str | None:
    """Only a path inside the dashboard: never another site (no open redirect)."""
    if not target or len(target) > 2000 or "\\" in target:
        return None
    # Control characters and spaces would end up in the Location header: refuse, do not fail.
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    if parts.path != "/admin" and not parts.path.startswith("/admin/"):
        return None
    return target


# --- signing in and out -----------------------------------------------------------------------


@admin.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
@limiter.limit(_account_limit, key_func=_account_tried, methods=["POST"])
def sign_in() -> Page:
    """Check e-mail and password; one message for every kind of mismatch."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")) or url_for("admin.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            _fresh_session()  # nothing from before the sign-in carries over
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("admin.index"))
        form.form_errors.append(WRONG_CREDENTIALS)
    return render_template("admin/sign_in.html", form=form)


@admin.post("/sign-out")
def sign_out() -> Response:
    """End this account's sessions on every device, so a copied cookie is worthless too."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        end_every_session(current_user._get_current_object())
        db.session.commit()
    logout_user()
    _fresh_session()
    flash("You are signed out on every device.", "info")
    return redirect(url_for("admin.sign_in"))


@admin.route("/reset-password", methods=["GET", "POST"])
@limiter.limit(_sign_in_limit, methods=["POST"])
def request_reset() -> Page:
    """Mail a reset link; the answer is the same whether the address has an account or not."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        passwords.request_reset_link(form.email.data)
        db.session.commit()
        return render_template("admin/reset_sent.html", email=form.email.data)
    return render_template("admin/reset_request.html", form=form)


@admin.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Page:
    """Set a new password from a mailed link; the link works once."""
    try:
        user = user_for_reset(token)
    except LinkProblem as problem:
        return render_template("admin/link_problem.html", message=str(problem)), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        passwords.set_password(user, form.password.data)
        db.session.commit()
        _fresh_session()
        login_user(user)
        flash("Your new password is set.", "info")
        return redirect(url_for("admin.index"))
    return render_template("admin/reset_password.html", form=form, user=user)


@admin.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> Page:
    """Join a site from an invitation: create an account, or accept as the signed-in invitee."""
    try:
        invitation = read_invitation(token)
        site = members.invited_site(invitation)
    except LinkProblem as problem:
        return render_template("admin/link_problem.html", message=str(problem)), 400
    invitee = find_user(invitation.email)
    if invitee is not None and not (
        current_user.is_authenticated and current_user.id == invitee.id
    ):
        return render_template(
            "admin/invitation.html", invitation=invitation, site=site, must_sign_in=True
        )
    form: Any = ConfirmForm() if invitee is not None else NewAccountForm()
    if form.validate_on_submit():
        try:
            if invitee is None:
                user = members.join_as_newcomer(invitation, form.password.data, form.name.data)
                _fresh_session()
                login_user(user)
            else:
                members.accept(invitation, invitee)
        except (AccountError, LinkProblem) as problem:
            db.session.rollback()
            return render_template("admin/link_problem.html", message=str(problem)), 400
        db.session.commit()
        flash(f"Welcome to {site.name}.", "info")
        return redirect(url_for("admin.overview", site_id=site.id))
    return render_template(
        "admin/invitation.html", invitation=invitation, site=site, form=form, must_sign_in=False
    )


# --- sites ------------------------------------------------------------------------------------


@admin.get("/")
def index() -> Page:
    """The user's sites; straight to the overview when there is only one."""
    memberships = scoping.my_memberships()
    if len(memberships) == 1:
        return redirect(url_for("admin.overview", site_id=memberships[0].site_id))
    return render_template("admin/index.html", memberships=memberships)


@admin.route("/sites/new", methods=["GET", "POST"])
def new_site() -> Page:
    """Create a site; its creator becomes its owner."""
    form = SiteForm()
    if form.validate_on_submit():
        site = sites.create_from(form)
        if site is not None:
            db.session.commit()
            flash(f"The site {site.name} is ready. Create its first goal.", "info")
            return redirect(url_for("admin.overview", site_id=site.id))
    return render_template("admin/site_form.html", form=form, creating=True), (
        422 if form.errors or form.form_errors else 200
    )


@admin.get("/sites/<int:site_id>/")
def overview() -> Page:
    """Each goal's numbers, the best articles and the state of Stripe's webhooks."""
    site = current_site()
    lines = goal_lines(site)
    return render_template(
        "admin/overview.html",
        lines=lines,
        # Webhook health of the whole instance is the operator's; owners see their site's share.
        health=stripe_health(site) if current_user.is_operator else None,
        site_health=site_webhook_health(site),
        articles=reports.raised_per_article([line.goal.id for line in lines], limit=10),
    )


@admin.get("/sites/<int:site_id>/settings")
def site_settings() -> Page:
    """The site's settings; only owners may save them."""
    form = SiteForm.for_site(current_site())
    return render_template("admin/site_form.html", form=form, creating=False)


@admin.post("/sites/<int:site_id>/settings")
@requires(Role.OWNER)
def save_site_settings() -> Page:
    """Save the site's settings after checking every one."""
    form = SiteForm()
    if form.validate_on_submit() and sites.update_from(current_site(), form):
        db.session.commit()
        flash("The site's settings are saved.", "info")
        return redirect(url_for("admin.site_settings"))
    db.session.rollback()
    return render_template("admin/site_form.html", form=form, creating=False), 422


# --- people -----------------------------------------------------------------------------------


def _people_page(invite_form: InviteForm | None = None, status: int = 200) -> Page:
    site = current_site()
    return render_template(
        "admin/people.html",
        memberships=members.members(site),
        invitations=members.pending(site),
        invite_form=invite_form or InviteForm(formdata=None),
        role_form=RoleForm,
        confirm_form=ConfirmForm(formdata=None),
    ), status


@admin.get("/sites/<int:site_id>/people")
def people() -> Page:
    """Who has which role on the site, and the invitations still open."""
    return _people_page()


@admin.post("/sites/<int:site_id>/people/invite")
@requires(Role.OWNER)
def invite() -> Page:
    """E-mail someone an invitation to the site."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            invitation = members.invite(current_site(), form.email.data, Role(form.role.data))
        except (members.MemberError, mail.MailError) as problem:
            db.session.rollback()
            form.email.errors.append(str(problem))
        else:
            db.session.commit()
            flash(f"Invitation sent to {invitation.email}.", "info")
            return redirect(url_for("admin.people"))
    return _people_page(form, 422)


@admin.post("/sites/<int:site_id>/invitations/<nonce>/revoke")
@requires(Role.OWNER)
def revoke_invitation(nonce: str) -> Page:
    """Withdraw an open invitation."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        members.revoke(current_site(), nonce)
    except members.MemberError as problem:
        flash(str(problem), "error")
        return redirect(url_for("admin.people"))
    db.session.commit()
    flash("The invitation is withdrawn; its link no longer works.", "info")
    return redirect(url_for("admin.people"))


@admin.post("/sites/<int:site_id>/people/<int:user_id>/role")
@requires(Role.OWNER)
def change_role(user_id: int) -> Page:
    """Give a member another role."""
    membership = scoping.member_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose one of the roles.", "error")
        return redirect(url_for("admin.people"))
    try:
        members.change_role(current_site(), membership, Role(form.role.data))
    except members.MemberError as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return redirect(url_for("admin.people"))
    db.session.commit()
    flash(f"{membership.user.email} is now {form.role.data}.", "info")
    return redirect(url_for("admin.people"))


@admin.post("/sites/<int:site_id>/people/<int:user_id>/remove")
@requires(Role.OWNER)
def remove_member(user_id: int) -> Page:
    """Take someone off the site."""
    membership = scoping.member_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    email = membership.user.email
    try:
        members.remove(current_site(), membership)
    except members.MemberError as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return redirect(url_for("admin.people"))
    db.session.commit()
    flash(f"{email} no longer has access to this site.", "info")
    if membership.user_id == current_user.id:
        return redirect(url_for("admin.index"))
    return redirect(url_for("admin.people"))


@admin.get("/sites/<int:site_id>/audit")
def audit_log() -> Page:
    """Every change made to the site from the dashboard, newest first."""
    before = request.args.get("before", type=int)
    if before is not None:
        before = scoping.clamp_id(before)
    entries = audit.recent_for_site(current_site(), before_id=before)
    return render_template(
        "admin/audit.html",
        entries=entries,
        names=audit.user_names(entries),
        more=len(entries) == audit.PAGE_SIZE,
    )
