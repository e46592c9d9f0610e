"""The audit log: who changed what from the dashboard, written with the change itself."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g
from flask_login import current_user

from donate.extensions import db
from donate.models import AuditLog, Site, User

PAGE_SIZE = 100


def actor_of(user: User) -> str:
    """How the log names a dashboard user."""
    return f"user:{user.id}"


def record(
    action: str,
    subject: str | None = None,
    *,
    site: Site | None = None,
    user: User | None = None,
    **detail: Any,
) -> AuditLog:
    """Add one audit row in the caller's transaction; site and user default to the request's."""
    user = user if user is not None else current_user._get_current_object()
    site = site if site is not None else g.get("site")
    entry = AuditLog(
        site_id=site.id if site is not None else None,
        user_id=user.id,
        actor=actor_of(user),
        action=action,
        subject=subject,
        detail=detail,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def recent_for_site(site: Site, *, before_id: int | None = None) -> list[AuditLog]:
    """One page of the site's audit log, newest first."""
    query = sa.select(AuditLog).where(AuditLog.site_id == site.id)
    if before_id:
        query = query.where(AuditLog.id < before_id)
    return list(db.session.execute(query.order_by(AuditLog.id.desc()).limit(PAGE_SIZE)).scalars())


def about(site: Site, subject: str) -> list[AuditLog]:
    """Every audit row of a site about one subject, oldest first (a donation's history)."""
    return list(
        db.session.execute(
            sa.select(AuditLog)
            .where(AuditLog.site_id == site.id, AuditLog.subject == subject)
            .order_by(AuditLog.id)
        ).scalars()
    )


def user_names(entries: list[AuditLog]) -> dict[int, str]:
    """E-mail addresses of the users who appear in some audit rows, for display."""
    ids = {entry.user_id for entry in entries if entry.user_id}
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.email).where(User.id.in_(ids))).all()
    return {user_id: email for user_id, email in rows}
