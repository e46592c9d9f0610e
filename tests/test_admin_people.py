"""People on a site: invitations by e-mail, accepting them, roles and removal."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g

from donate.admin import members
from donate.extensions import db
from donate.models import AuditLog, Membership, Role, User
from tests.admin_support import (
    make_user,
    path_of,
    post_form,
    sign_in_as,
    token_in,
)

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures


def invite(client, d, email: str, role: str = "editor"):
    return post_form(
        client, f"/admin/sites/{d.site_a.id}/people/invite", {"email": email, "role": role}
    )


def role_of(site, user) -> Role | None:
    return db.session.execute(
        sa.select(Membership.role).where(
            Membership.site_id == site.id, Membership.user_id == user.id
        )
    ).scalar_one_or_none()


def sign_out(client) -> None:
    post_form(client, "/admin/sign-out")
    g.pop("_login_user", None)


def test_an_invited_newcomer_creates_an_account_and_joins(client, dashboard, outbox):
    d = dashboard
    sign_in_as(client, d.owner)
    response = invite(client, d, "  New.Reporter@Riverside.example ")
    assert response.status_code == 302
    message = outbox.last()
    assert message["To"] == "new.reporter@riverside.example"
    assert "Riverside Gazette" in message["Subject"]
    link = path_of(outbox.link_in_last())
    people = client.get(f"/admin/sites/{d.site_a.id}/people")
    assert "new.reporter@riverside.example as editor" in people.text
    sign_out(client)

    page = client.get(link)
    assert page.status_code == 200
    assert "Join Riverside Gazette" in page.text
    joined = client.post(
        link,
        data={
            "csrf_token": token_in(page.data),
            "name": "Noor",
            "password": "a long enough password",
            "confirm": "a long enough password",
        },
    )
    assert joined.status_code == 302
    user = db.session.execute(
        sa.select(User).where(User.email == "new.reporter@riverside.example")
    ).scalar_one()
    assert user.name == "Noor"
    assert role_of(d.site_a, user) == Role.EDITOR
    assert client.get(f"/admin/sites/{d.site_a.id}/donations").status_code == 200
    actions = (
        db.session.execute(
            sa.select(AuditLog.action).where(AuditLog.site_id == d.site_a.id).order_by(AuditLog.id)
        )
        .scalars()
        .all()
    )
    assert actions == ["invitation.send", "invitation.accept"]

    sign_out(client)
    again = client.get(link)
    assert again.status_code == 400
    assert "already used or withdrawn" in again.text


def test_an_existing_user_accepts_while_signed_in(client, dashboard, outbox):
    d = dashboard
    sign_in_as(client, d.owner)
    invite(client, d, d.owner_b.email, role="viewer")
    link = path_of(outbox.link_in_last())
    sign_out(client)

    page = client.get(link)
    assert "already has an account" in page.text
    sign_in_as(client, d.editor)  # the wrong person
    assert "already has an account" in client.get(link).text
    sign_in_as(client, d.owner_b)
    page = client.get(link)
    response = client.post(link, data={"csrf_token": token_in(page.data)})
    assert response.status_code == 302
    assert role_of(d.site_a, d.owner_b) == Role.VIEWER
    assert role_of(d.site_b, d.owner_b) == Role.OWNER


def test_a_withdrawn_invitation_no_longer_works(client, dashboard, outbox):
    d = dashboard
    sign_in_as(client, d.owner)
    invite(client, d, "temp@riverside.example")
    link = path_of(outbox.link_in_last())
    nonce = (
        db.session.execute(sa.select(AuditLog.subject).where(AuditLog.action == "invitation.send"))
        .scalar_one()
        .split(":", 1)[1]
    )
    response = post_form(client, f"/admin/sites/{d.site_a.id}/invitations/{nonce}/revoke")
    assert response.status_code == 302
    assert "temp@riverside.example" not in client.get(f"/admin/sites/{d.site_a.id}/people").text
    sign_out(client)
    assert client.get(link).status_code == 400


def test_invitations_refuse_bad_addresses_and_existing_members(client, dashboard, outbox):
    d = dashboard
    sign_in_as(client, d.owner)
    bad = invite(client, d, "not-an-address")
    assert bad.status_code == 422
    assert "is not an e-mail address" in bad.text
    member = invite(client, d, "editor@riverside.example")
    assert member.status_code == 422
    assert "is already a member of this site" in member.text
    assert outbox.messages() == []


def test_a_forged_invitation_link_is_refused(client, db_session):
    page = client.get("/admin/invitations/forged.token.value")
    assert page.status_code == 400
    assert "not valid" in page.text


def test_an_owner_changes_roles_and_removes_people(client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    assert (
        post_form(
            client, f"/admin/sites/{d.site_a.id}/people/{d.viewer.id}/role", {"role": "editor"}
        ).status_code
        == 302
    )
    assert role_of(d.site_a, d.viewer) == Role.EDITOR
    assert (
        post_form(client, f"/admin/sites/{d.site_a.id}/people/{d.viewer.id}/remove").status_code
        == 302
    )
    assert role_of(d.site_a, d.viewer) is None
    actions = (
        db.session.execute(
            sa.select(AuditLog.action).where(AuditLog.site_id == d.site_a.id).order_by(AuditLog.id)
        )
        .scalars()
        .all()
    )
    assert actions == ["member.role", "member.remove"]
    sign_in_as(client, d.viewer)
    assert client.get(f"/admin/sites/{d.site_a.id}/").status_code == 404


def test_the_last_owner_stays_an_owner(client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    demote = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/people/{d.owner.id}/role",
        {"role": "viewer"},
        follow_redirects=True,
    )
    assert "A site needs an owner" in demote.text
    remove = post_form(
        client, f"/admin/sites/{d.site_a.id}/people/{d.owner.id}/remove", follow_redirects=True
    )
    assert "A site needs an owner" in remove.text
    assert role_of(d.site_a, d.owner) == Role.OWNER
    other = make_user(site=d.site_a, role=Role.OWNER)
    assert (
        post_form(
            client, f"/admin/sites/{d.site_a.id}/people/{other.id}/role", {"role": "viewer"}
        ).status_code
        == 302
    )
    assert role_of(d.site_a, other) == Role.VIEWER


def test_an_unknown_role_is_refused(client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    response = post_form(
        client,
        f"/admin/sites/{d.site_a.id}/people/{d.viewer.id}/role",
        {"role": "emperor"},
        follow_redirects=True,
    )
    assert "Choose one of the roles." in response.text
    assert role_of(d.site_a, d.viewer) == Role.VIEWER


def accept_as(client, user, link: str):
    sign_in_as(client, user)
    page = client.get(link)
    if page.status_code != 200 or "csrf_token" not in page.text:
        return page
    return client.post(link, data={"csrf_token": token_in(page.data)})


def test_only_the_newest_invitation_to_an_address_works(client, dashboard, outbox):
    d = dashboard
    sign_in_as(client, d.owner)
    invite(client, d, d.owner_b.email, role="owner")
    older = path_of(outbox.link_in_last())
    invite(client, d, d.owner_b.email, role="viewer")
    newer = path_of(outbox.link_in_last())
    people = client.get(f"/admin/sites/{d.site_a.id}/people").text
    assert f"{d.owner_b.email} as viewer" in people
    assert f"{d.owner_b.email} as owner" not in people
    refused = accept_as(client, d.owner_b, older)
    assert refused.status_code == 400
    assert "already used or withdrawn" in refused.text
    assert role_of(d.site_a, d.owner_b) is None
    assert accept_as(client, d.owner_b, newer).status_code == 302
    assert role_of(d.site_a, d.owner_b) == Role.VIEWER


def test_removing_someone_withdraws_invitations_to_and_from_them(
    client, dashboard, outbox, monkeypatch
):
    d = dashboard
    co_owner = make_user("co-owner@riverside.example", site=d.site_a, role=Role.OWNER)
    sign_in_as(client, co_owner)
    invite(client, d, "friend@riverside.example", role="owner")
    from_co_owner = path_of(outbox.link_in_last())
    sign_in_as(client, d.owner)
    # Two invitations open at once, as an older version of the dashboard allowed.
    with monkeypatch.context() as legacy:
        legacy.setattr(
            "donate.admin.members._withdraw", lambda *args, **kwargs: None, raising=False
        )
        invite(client, d, d.owner_b.email, role="owner")
        as_owner = path_of(outbox.link_in_last())
        invite(client, d, d.owner_b.email, role="viewer")
        as_viewer = path_of(outbox.link_in_last())
    assert accept_as(client, d.owner_b, as_viewer).status_code == 302

    sign_in_as(client, d.owner)
    for person in (d.owner_b, co_owner):
        url = f"/admin/sites/{d.site_a.id}/people/{person.id}/remove"
        assert post_form(client, url).status_code == 302
    people = client.get(f"/admin/sites/{d.site_a.id}/people").text
    assert d.owner_b.email not in people and "friend@riverside.example" not in people

    rejoin = accept_as(client, d.owner_b, as_owner)
    assert rejoin.status_code == 400
    assert role_of(d.site_a, d.owner_b) is None
    sign_out(client)
    assert client.get(from_co_owner).status_code == 400


def test_an_invitation_from_someone_no_longer_an_owner_gives_no_role(client, dashboard, outbox):
    d = dashboard
    co_owner = make_user("co-owner@riverside.example", site=d.site_a, role=Role.OWNER)
    sign_in_as(client, co_owner)
    invite(client, d, d.owner_b.email, role="editor")
    link = path_of(outbox.link_in_last())
    sign_in_as(client, d.owner)
    demote = f"/admin/sites/{d.site_a.id}/people/{co_owner.id}/role"
    assert post_form(client, demote, {"role": "viewer"}).status_code == 302
    refused = accept_as(client, d.owner_b, link)
    assert refused.status_code == 400
    assert "The person who invited you is no longer an owner of Riverside Gazette" in refused.text
    assert role_of(d.site_a, d.owner_b) is None


def test_a_site_name_mail_cannot_carry_is_refused_with_a_sentence(client, dashboard, outbox):
    d = dashboard
    d.site_a.name = "Riverside\r\nBcc: all@example.org"  # saved before names were checked
    sign_in_as(client, d.owner)
    response = invite(client, d, "new@riverside.example")
    assert response.status_code == 422
    assert "The message could not be written" in response.text
    assert outbox.messages() == []
    assert members.pending(d.site_a) == []
