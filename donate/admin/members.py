"""Who may use a site's dashboard: invitations by e-mail, roles, and removing people."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user

from donate import mail
from donate.accounts import AccountError, create_user, grant_role, normalise_email
from donate.admin import audit
from donate.admin.links import public_link
from donate.admin.tokens import (
    INVITATION_MAX_AGE_SECONDS,
    Invitation,
    LinkProblem,
    invitation_token,
)
from donate.extensions import db
from donate.models import AuditLog, Membership, Role, Site, User, utcnow

SENT, ACCEPTED, REVOKED = "invitation.send", "invitation.accept", "invitation.revoke"


class MemberError(ValueError):
    """A change to a site's people that we refuse; the message says why."""


def members(site: Site) -> list[Membership]:
    """The site's people with their roles, owners first."""
    rank = sa.case({Role.OWNER.value: 0, Role.EDITOR.value: 1}, value=Membership.role, else_=2)
    return list(
        db.session.execute(
            sa.select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.site_id == site.id)
            .order_by(rank, User.email)
        ).scalars()
    )


def invite(site: Site, email: str, role: Role) -> Invitation:
    """E-mail someone a link that gives them `role` on the site; logged before it is sent."""
    try:
        address = normalise_email(email)
    except AccountError as error:
        raise MemberError(str(error)) from None
    already = db.session.execute(
        sa.select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.site_id == site.id, User.email == address)
    ).first()
    if already:
        raise MemberError(f"{address} is already a member of this site; change their role below.")
    invitation = Invitation(
        site_id=site.id,
        email=address,
        role=Role(role),
        nonce=secrets.token_urlsafe(12),
        invited_by=current_user.id,
    )
    _withdraw(site, lambda open_one: open_one.email == address, because="replaced")
    audit.record(SENT, invitation.subject, email=address, role=invitation.role.value)
    link = public_link("admin.accept_invitation", token=invitation_token(invitation))
    body = render_template(
        "admin/mail/invitation.txt",
        site=site,
        invitation=invitation,
        inviter=current_user,
        link=link,
        days=INVITATION_MAX_AGE_SECONDS // 86400,
    )
    mail.send(mail.Outgoing(to=address, subject=f"Join {site.name} on donate", body=body))
    return invitation


@dataclass(frozen=True)
class PendingInvitation:
    """An invitation sent, not yet accepted, withdrawn or expired."""

    nonce: str
    email: str
    role: str
    sent_at: datetime
    invited_by: int | None


def pending(site: Site) -> list[PendingInvitation]:
    """The site's open invitations, newest first, from the audit log."""
    since = utcnow() - timedelta(seconds=INVITATION_MAX_AGE_SECONDS)
    rows = db.session.execute(
        sa.select(AuditLog)
        .where(AuditLog.site_id == site.id, AuditLog.action.in_((SENT, ACCEPTED, REVOKED)))
        .where(AuditLog.created_at >= since)
        .order_by(AuditLog.id.desc())
    ).scalars()
    closed: set[str | None] = set()
    found = []
    for row in rows:
        if row.action != SENT:
            closed.add(row.subject)
        elif row.subject not in closed and row.subject:
            found.append(
                PendingInvitation(
                    nonce=row.subject.split(":", 1)[1],
                    email=str(row.detail.get("email", "")),
                    role=str(row.detail.get("role", "")),
                    sent_at=row.created_at,
                    invited_by=row.user_id,
                )
            )
    return found


def revoke(site: Site, nonce: str) -> None:
    """Withdraw an open invitation, so its link stops working."""
    if not any(item.nonce == nonce for item in pending(site)):
        raise MemberError("That invitation is no longer open.")
    audit.record(REVOKED, f"invitation:{nonce}")


def _withdraw(site: Site, which: Callable[[PendingInvitation], bool], because: str) -> None:
    """Revoke the site's open invitations that `which` picks, so their links stop working."""
    for open_one in pending(site):
        if which(open_one):
            audit.record(REVOKED, f"invitation:{open_one.nonce}", site=site, because=because)


def _inviter_is_owner(invitation: Invitation) -> bool:
    return (
        db.session.execute(
            sa.select(Membership.id).where(
                Membership.site_id == invitation.site_id,
                Membership.user_id == invitation.invited_by,
                Membership.role == Role.OWNER,
            )
        ).first()
        is not None
    )


def invited_site(invitation: Invitation) -> Site:
    """The site an invitation is for, while it is the newest open one for its address.

    An older invitation, or one from someone who is no longer an owner, gives no role.
    """
    site = db.session.get(Site, invitation.site_id)
    newest = next(
        (
            open_one.nonce
            for open_one in (pending(site) if site is not None else [])
            if open_one.email == invitation.email
        ),
        None,
    )
    if site is None or newest != invitation.nonce:
        raise LinkProblem("This invitation was already used or withdrawn; ask for a new one.")
    if not _inviter_is_owner(invitation):
        raise LinkProblem(
            f"The person who invited you is no longer an owner of {site.name}; "
            "ask one of its owners for a new invitation."
        )
    return site


def accept(invitation: Invitation, user: User) -> Membership:
    """Give the invited person their role; someone already on the site keeps the role they have."""
    site = invited_site(invitation)
    if user.email != invitation.email:
        raise LinkProblem(
            f"This invitation is for {invitation.email}; sign out, then open the link again."
        )
    membership = db.session.execute(
        sa.select(Membership).where(Membership.site_id == site.id, Membership.user_id == user.id)
    ).scalar_one_or_none()
    if membership is None:
        membership = grant_role(user, site, invitation.role)
    audit.record(ACCEPTED, invitation.subject, site=site, user=user, role=membership.role.value)
    return membership


def join_as_newcomer(invitation: Invitation, password: str, name: str | None) -> User:
    """Create the invited person's account (AccountError for a weak password) and accept."""
    user = create_user(invitation.email, password, name=name or "")
    accept(invitation, user)
    return user


def _owner_count(site: Site) -> int:
    return db.session.execute(
        sa.select(sa.func.count(Membership.id)).where(
            Membership.site_id == site.id, Membership.role == Role.OWNER
        )
    ).scalar_one()


def change_role(site: Site, membership: Membership, role: Role) -> None:
    """Give a member another role; the last owner stays an owner."""
    role = Role(role)
    if membership.role == role:
        return
    if membership.role == Role.OWNER and _owner_count(site) <= 1:
        raise MemberError("A site needs an owner: make someone else an owner first.")
    previous = membership.role
    membership.role = role
    db.session.flush()
    audit.record(
        "member.role", f"user:{membership.user_id}", before=previous.value, after=role.value
    )


def remove(site: Site, membership: Membership) -> None:
    """Take someone off the site with the invitations to and from them; the last owner stays."""
    if membership.role == Role.OWNER and _owner_count(site) <= 1:
        raise MemberError("A site needs an owner: make someone else an owner first.")
    audit.record(
        "member.remove",
        f"user:{membership.user_id}",
        email=membership.user.email,
        role=membership.role.value,
    )
    user_id, email = membership.user_id, membership.user.email
    _withdraw(
        site,
        lambda open_one: open_one.email == email or open_one.invited_by == user_id,
        because="member removed",
    )
    db.session.delete(membership)
    db.session.flush()
