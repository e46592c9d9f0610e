"""The dashboard's matching-funds page: open a match, clear refusals, close it, all audited."""

from __future__ import annotations

import html

import sqlalchemy as sa

from donate.extensions import db
from donate.models import AuditLog, GoalMatch
from tests.admin_support import post_form, sign_in_as
from tests.factories import reload
from tests.match_support import settled

pytest_plugins = ["tests.admin_fixtures"]


def _page(dashboard) -> str:
    return f"/admin/sites/{dashboard.site_a.id}/goals/{dashboard.goal_a.id}/match"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_an_editor_opens_a_match_and_every_gift_is_doubled(client, dashboard):
    sign_in_as(client, dashboard.editor)
    goal_page = client.get(f"/admin/sites/{dashboard.site_a.id}/goals/{dashboard.goal_a.id}")
    assert _page(dashboard) in goal_page.get_data(as_text=True)
    response = post_form(client, _page(dashboard), {"sponsor": " The  Ada Trust ", "pool": "5,000"})
    assert response.status_code == 302
    match = db.session.execute(sa.select(GoalMatch)).scalar_one()
    assert (match.sponsor, match.pool_minor, match.currency) == ("The Ada Trust", 500_000, "USD")
    entry = db.session.execute(
        sa.select(AuditLog).where(AuditLog.action == "goal.match_open")
    ).scalar_one()
    assert entry.subject == f"goal:{dashboard.goal_a.id}"
    assert entry.actor == f"user:{dashboard.editor.id}"
    assert entry.detail["pool_minor"] == 500_000

    settled(dashboard.goal_a, 1_200)
    page = _text(client.get(_page(dashboard)))
    assert "The Ada Trust" in page
    assert "$4,988.00" in page  # left
    goal = reload(dashboard.goal_a)
    assert (goal.raised_minor, goal.matched_minor) == (2_500 + 2_400, 1_200)
    shown = _text(client.get(f"/admin/sites/{dashboard.site_a.id}/goals/{goal.id}"))
    assert "Of which matched" in shown and "$12.00" in shown


def test_bad_input_is_refused_beside_its_field_and_changes_nothing(client, dashboard):
    sign_in_as(client, dashboard.editor)
    for data, message in [
        ({"sponsor": "", "pool": "100"}, "Name the sponsor who gives the match."),
        ({"sponsor": "Ada", "pool": ""}, "Enter how much the sponsor gives at most."),
        ({"sponsor": "Ada", "pool": "0"}, "Please enter an amount greater than zero."),
        ({"sponsor": "Ada", "pool": "ten"}, "Please enter the amount in digits"),
        ({"sponsor": "A" * 121, "pool": "100"}, "Keep the name to 120 characters."),
    ]:
        response = post_form(client, _page(dashboard), data)
        assert response.status_code == 422, data
        assert message in _text(response), (data, _text(response))
    assert db.session.execute(sa.select(sa.func.count(GoalMatch.id))).scalar_one() == 0
    assert db.session.execute(sa.select(sa.func.count(AuditLog.id))).scalar_one() == 0


def test_a_second_match_is_refused_until_the_first_is_closed(client, dashboard):
    sign_in_as(client, dashboard.editor)
    post_form(client, _page(dashboard), {"sponsor": "First", "pool": "100"})
    # The form is gone while a match is open; a stale form still gets a clear answer.
    response = post_form(client, _page(dashboard), {"sponsor": "Second", "pool": "100"})
    assert response.status_code == 422
    assert "already has a match by First; close it first." in _text(response)
    closed = post_form(client, _page(dashboard) + "/close")
    assert closed.status_code == 302
    assert "The match by First is closed." in _text(client.get(_page(dashboard)))
    assert (
        post_form(client, _page(dashboard), {"sponsor": "Second", "pool": "100"}).status_code == 302
    )
    actions = db.session.execute(sa.select(AuditLog.action).order_by(AuditLog.id)).scalars().all()
    assert actions == ["goal.match_open", "goal.match_close", "goal.match_open"]
    assert post_form(client, _page(dashboard) + "/close").status_code == 302
    assert "This goal has no open match." not in _text(client.get(_page(dashboard)))
    again = post_form(client, _page(dashboard) + "/close", follow_redirects=True)
    assert "This goal has no open match." in _text(again)


def test_viewers_see_the_match_but_cannot_change_it(client, dashboard):
    sign_in_as(client, dashboard.viewer)
    assert client.get(_page(dashboard)).status_code == 200
    response = post_form(client, _page(dashboard), {"sponsor": "Ada", "pool": "100"})
    assert response.status_code == 403
    assert db.session.execute(sa.select(sa.func.count(GoalMatch.id))).scalar_one() == 0


def test_another_sites_goal_has_no_match_page_here(client, dashboard):
    sign_in_as(client, dashboard.editor)
    path = f"/admin/sites/{dashboard.site_a.id}/goals/{dashboard.goal_b.id}/match"
    assert client.get(path).status_code == 404
