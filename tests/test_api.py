"""The public read API: one goal row as JSON, cacheable, CORS-open, formatted per locale."""

from __future__ import annotations

from flask import Flask

from donate import create_app, ledger
from donate.extensions import db
from donate.models import GoalStatus
from tests.conftest import app_config
from tests.factories import make_goal, make_offline_gift


def test_goal_json_has_the_numbers_and_display_strings(client, db_session):
    goal = make_goal(slug="local-news", milestones_minor=[100_000, 500_000])
    make_offline_gift(goal, 82_200)
    db.session.commit()
    response = client.get("/api/v1/goals/local-news")
    assert response.status_code == 200
    body = response.get_json()
    assert body["slug"] == "local-news"
    assert body["currency"] == "USD"
    assert (body["target_minor"], body["raised_minor"]) == (500_000, 82_200)
    assert (body["donation_count"], body["donor_count"], body["percent"]) == (1, 1, 16)
    assert body["presets_minor"] == [1_000, 2_500, 5_000]
    assert (body["minimum_minor"], body["maximum_minor"]) == (500, 1_000_000)
    assert body["monthly_enabled"] is True
    assert body["status"] == "active"
    assert body["ends_at"] is None
    assert [m["amount_minor"] for m in body["milestones"]] == [100_000, 500_000]
    assert body["display"]["raised"] == "$822"
    assert body["display"]["target"] == "$5,000"


def test_display_strings_follow_the_locale_asked_for(client, db_session):
    goal = make_goal(slug="en-fr-de")
    make_offline_gift(goal, 82_200)
    db.session.commit()
    fr = client.get("/api/v1/goals/en-fr-de?locale=fr").get_json()["display"]
    de = client.get("/api/v1/goals/en-fr-de?locale=de").get_json()["display"]
    assert fr["raised"].replace("\u00a0", " ") == "822 $US"
    assert fr["minimum"].replace("\u00a0", " ") == "5,00 $US"
    assert de["raised"].replace("\u00a0", " ") == "822 $"
    assert de["target"].replace("\u00a0", " ") == "5.000 $"


def test_an_unknown_locale_is_a_clear_400(client, db_session):
    make_goal(slug="loc")
    response = client.get("/api/v1/goals/loc?locale=xx-nowhere")
    assert response.status_code == 400
    assert "Unknown locale" in response.get_json()["message"]


def test_unknown_slug_is_a_json_404(client, db_session):
    response = client.get("/api/v1/goals/no-such-goal")
    assert response.status_code == 404
    assert response.is_json
    assert "no-such-goal" in response.get_json()["message"]


def test_draft_goals_are_not_public(client, db_session):
    make_goal(slug="secret-draft", status=GoalStatus.DRAFT)
    assert client.get("/api/v1/goals/secret-draft").status_code == 404
    listed = [g["slug"] for g in client.get("/api/v1/goals").get_json()["goals"]]
    assert "secret-draft" not in listed


def test_list_shows_active_goals_only(client, db_session):
    make_goal(slug="open-one")
    make_goal(slug="paused-one", status=GoalStatus.PAUSED)
    listed = [g["slug"] for g in client.get("/api/v1/goals").get_json()["goals"]]
    assert "open-one" in listed
    assert "paused-one" not in listed


def test_responses_are_cacheable_by_a_cdn_and_open_to_cors(client, db_session):
    make_goal(slug="cached")
    response = client.get("/api/v1/goals/cached")
    cache_control = response.headers["Cache-Control"]
    assert "public" in cache_control
    assert "max-age=" in cache_control
    assert "stale-while-revalidate=" in cache_control
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Cookie" not in response.headers.get("Vary", "")
    assert "Set-Cookie" not in response.headers


def test_matching_etag_gets_304_and_a_new_gift_changes_it(client, db_session):
    goal = make_goal(slug="etag")
    first = client.get("/api/v1/goals/etag")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/goals/etag", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    make_offline_gift(goal, 1_000)
    db.session.commit()
    after_gift = client.get("/api/v1/goals/etag", headers={"If-None-Match": etag})
    assert after_gift.status_code == 200
    assert after_gift.get_json()["raised_minor"] == 1_000
    assert after_gift.headers["ETag"] != etag


def test_reading_a_goal_is_one_query(app, client, db_session):
    from sqlalchemy import event

    make_goal(slug="one-query")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine_or_connection = db.session.get_bind()
    event.listen(engine_or_connection, "before_cursor_execute", count)
    try:
        assert client.get("/api/v1/goals/one-query").status_code == 200
    finally:
        event.remove(engine_or_connection, "before_cursor_execute", count)
    assert len(statements) == 1
    assert "sum(" not in statements[0].lower() and "count(" not in statements[0].lower()


def test_ledger_changes_are_seen_in_the_api(client, db_session):
    goal = make_goal(slug="ledger-api")
    donation = ledger.create_pending_donation(
        goal,
        amount_minor=4_000,
        kind="one_time",
        cause="t",  # type: ignore[arg-type]
    )
    ledger.settle_donation(donation.id, cause="evt")
    ledger.record_refund(
        donation, stripe_refund_id="re_x", amount_minor=1_500, status="succeeded", cause="e"
    )
    db.session.commit()
    assert client.get("/api/v1/goals/ledger-api").get_json()["raised_minor"] == 2_500


def test_healthz_is_200_with_a_database(client, db_session):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_healthz_is_503_without_a_database(tmp_path):
    missing = tmp_path / "no-such-dir" / "db.sqlite3"
    app: Flask = create_app(app_config(f"sqlite:///{missing}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_home_page_links_to_active_goals(client, db_session):
    make_goal(slug="home-goal", title="Fund the night desk")
    page = client.get("/").get_data(as_text=True)
    assert "Fund the night desk" in page
    assert 'href="/g/home-goal"' in page
    assert "/api/v1/goals/home-goal" in page


def test_home_page_says_when_payments_are_simulated(app, client, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:12111")
    assert "simulated by a local Stripe sandbox" in client.get("/").get_data(as_text=True)
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "")
    assert "test mode" in client.get("/").get_data(as_text=True)
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "sk_live_x")
    assert "no card is charged" not in client.get("/").get_data(as_text=True)
