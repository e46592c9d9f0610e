"""Every dashboard URL, taken from the app's URL map: isolation between sites, roles, CSRF, headers.

A new route is covered as soon as it exists; a route with an argument these tests cannot fill, or
without a site in its URL, fails here until it is looked at.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.routing import Rule

from donate.extensions import db
from donate.models import Subscription, SubscriptionStatus
from tests.admin_support import csrf_token, post_form, sign_in_as

pytest_plugins = ["tests.admin_fixtures"]  # the dashboard and outbox fixtures

# Rules that are not about one site: reachable signed out, or about the user's own account.
WITHOUT_SITE = {
    "admin.static",
    "admin.sign_in",
    "admin.sign_out",
    "admin.request_reset",
    "admin.reset_password",
    "admin.accept_invitation",
    "admin.index",
    "admin.new_site",
}
# What only owners may change; everything else that changes data is for editors and owners.
OWNER_ONLY = {
    "admin.save_site_settings",
    "admin.invite",
    "admin.revoke_invitation",
    "admin.change_role",
    "admin.remove_member",
    "admin.resend_receipt",
}
# Pages that exist only to change something, so a viewer may not even open them.
EDITOR_PAGES = {"admin.new_goal", "admin.edit_goal", "admin.offline_gift"}


def admin_rules(app: Flask) -> list[Rule]:
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")),
        key=lambda rule: (rule.rule, rule.endpoint),
    )


def site_rules(app: Flask) -> list[Rule]:
    return [rule for rule in admin_rules(app) if "site_id" in rule.arguments]


def subscription_of(goal) -> int:
    """A monthly gift to the goal, made when a rule first needs one."""
    found = db.session.execute(
        sa.select(Subscription.id).where(Subscription.goal_id == goal.id).limit(1)
    ).scalar()
    if found is None:
        subscription = Subscription(
            goal_id=goal.id,
            stripe_subscription_id=f"sub_isolation_{goal.id}",
            amount_minor=1_000,
            currency=goal.currency,
            status=SubscriptionStatus.ACTIVE,
        )
        db.session.add(subscription)
        db.session.flush()
        found = subscription.id
    return found


def values_for(rule: Rule, *, site, goal, donation, user) -> dict[str, object]:
    known = {
        "site_id": site.id,
        "goal_id": goal.id,
        "donation_id": donation.id,
        "user_id": user.id,
        "nonce": "an-invitation-nonce",
    }
    if "subscription_id" in rule.arguments:
        known["subscription_id"] = subscription_of(goal)
    unknown = set(rule.arguments) - set(known)
    assert not unknown, f"{rule.endpoint}: teach this test to fill {sorted(unknown)}"
    return {name: known[name] for name in rule.arguments}


def build(app: Flask, rule: Rule, values: dict[str, object]) -> str:
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, values, method=next(iter(rule.methods - {"HEAD"})))


def methods_of(rule: Rule) -> list[str]:
    return sorted(rule.methods & {"GET", "POST"})


def test_every_dashboard_rule_is_about_one_site_or_known_to_be_open(app):
    without_site = {rule.endpoint for rule in admin_rules(app) if "site_id" not in rule.arguments}
    assert without_site == WITHOUT_SITE
    assert len(site_rules(app)) >= 20


def test_a_member_of_site_a_gets_404_on_every_site_b_url(app, client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    token = csrf_token(client)
    checked = 0
    for rule in site_rules(app):
        url = build(
            app,
            rule,
            values_for(rule, site=d.site_b, goal=d.goal_b, donation=d.donation_b, user=d.owner_b),
        )
        for method in methods_of(rule):
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 404, f"{method} {url} ({rule.endpoint})"
            checked += 1
    assert checked >= 25


def test_site_a_urls_naming_site_b_rows_are_404_too(app, client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    token = csrf_token(client)
    for rule in site_rules(app):
        if not set(rule.arguments) & {"goal_id", "donation_id", "user_id", "subscription_id"}:
            continue
        url = build(
            app,
            rule,
            values_for(rule, site=d.site_a, goal=d.goal_b, donation=d.donation_b, user=d.owner_b),
        )
        for method in methods_of(rule):
            response = client.open(url, method=method, data={"csrf_token": token})
            assert response.status_code == 404, f"{method} {url} ({rule.endpoint})"


def test_site_b_never_appears_in_site_a_pages(app, client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    for rule in site_rules(app):
        if "GET" not in rule.methods:
            continue
        url = build(
            app,
            rule,
            values_for(rule, site=d.site_a, goal=d.goal_a, donation=d.donation_a, user=d.owner),
        )
        body = client.get(url).text
        for secret in ("Hilltop Herald", d.goal_b.slug, "b@donor.example", "For the hill."):
            assert secret not in body, f"{secret} shown on {url}"


def test_a_viewer_reads_everything_and_changes_nothing(app, client, dashboard):
    d = dashboard
    sign_in_as(client, d.viewer)
    token = csrf_token(client)
    for rule in site_rules(app):
        url = build(
            app,
            rule,
            values_for(rule, site=d.site_a, goal=d.goal_a, donation=d.donation_a, user=d.editor),
        )
        if "GET" in rule.methods:
            expected = 403 if rule.endpoint in EDITOR_PAGES else 200
            assert client.get(url).status_code == expected, url
        if "POST" in rule.methods:
            response = client.post(url, data={"csrf_token": token})
            assert response.status_code == 403, f"POST {url}"
            assert "viewer" in response.text


def test_an_editor_may_not_change_the_site_or_its_people(app, client, dashboard):
    d = dashboard
    sign_in_as(client, d.editor)
    token = csrf_token(client)
    for rule in site_rules(app):
        if "POST" not in rule.methods:
            continue
        url = build(
            app,
            rule,
            values_for(rule, site=d.site_a, goal=d.goal_a, donation=d.donation_a, user=d.viewer),
        )
        status = client.post(url, data={"csrf_token": token}).status_code
        if rule.endpoint in OWNER_ONLY:
            assert status == 403, url
        else:
            assert status != 403, url


def test_every_form_refuses_a_post_without_a_csrf_token(app, client, dashboard):
    d = dashboard
    sign_in_as(client, d.owner)
    posts = [rule for rule in admin_rules(app) if "POST" in rule.methods]
    assert len(posts) >= 15
    for rule in posts:
        values = (
            values_for(rule, site=d.site_a, goal=d.goal_a, donation=d.donation_a, user=d.viewer)
            if "site_id" in rule.arguments
            else {name: "a-token" for name in rule.arguments}
        )
        url = build(app, rule, values)
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(url, data=data)
            assert response.status_code == 400, f"POST {url} with {data}"
            assert "CSRF" in response.text


@pytest.mark.parametrize("who", ["owner", "viewer"])
def test_every_dashboard_page_refuses_framing_and_caching(app, client, dashboard, who):
    d = dashboard
    sign_in_as(client, getattr(d, who))
    for rule in admin_rules(app):
        if "GET" not in rule.methods or rule.endpoint == "admin.static":
            continue
        if "site_id" in rule.arguments:
            url = build(
                app,
                rule,
                values_for(rule, site=d.site_a, goal=d.goal_a, donation=d.donation_a, user=d.owner),
            )
        else:
            url = build(app, rule, {name: "a-token" for name in rule.arguments})
        response = client.get(url)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "no-store" in response.headers.get("Cache-Control", ""), url
        if rule.endpoint == "admin.designer_preview":
            # The one exception: the embed designer frames its widget preview, itself only.
            assert "frame-ancestors 'self' http://127.0.0.1:5000;" in policy + ";", url
            assert response.headers.get("X-Frame-Options") == "SAMEORIGIN", url
            continue
        assert "frame-ancestors 'none'" in policy, url
        assert response.headers.get("X-Frame-Options") == "DENY", url


def test_signed_out_visitors_only_reach_the_open_pages(app, client, dashboard):
    d = dashboard
    for rule in site_rules(app):
        url = build(
            app,
            rule,
            values_for(rule, site=d.site_a, goal=d.goal_a, donation=d.donation_a, user=d.owner),
        )
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code == 302, url
            assert "/admin/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("huge", [2**31, 2**63, 2**64 + 1, 10**30])
def test_ids_too_large_for_the_database_name_nothing(client, dashboard, huge):
    d = dashboard
    sign_in_as(client, d.owner)
    site = f"/admin/sites/{d.site_a.id}"
    for path in (
        f"/admin/sites/{huge}/",
        f"{site}/donations/{huge}",
        f"{site}/goals/{huge}",
        f"{site}/goals/{huge}/embed",
        f"{site}/monthly/{huge}",
    ):
        assert client.get(path).status_code == 404, path
    removed = post_form(client, f"{site}/people/{huge}/remove")
    assert removed.status_code == 404
    audit_page = client.get(f"{site}/audit?before={huge}")
    assert audit_page.status_code == 200
