"""Who pays for a give request: refused ones never use a goal's ceiling; networks share theirs."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from donate import create_app
from donate.__init__ import PER_PROCESS_LIMITS_WARNING
from donate.extensions import db
from donate.models import Donation
from donate.payments.give_limits import network_of
from tests.factories import make_goal

OUR_ORIGIN = "http://127.0.0.1:5000"


@pytest.fixture
def frame_client(app, db_session, monkeypatch):
    """A cookie-less frame client; Stripe is a closed port, and one quick attempt is all it gets."""
    monkeypatch.setitem(app.config, "STRIPE_GIVE_BUDGET_SECONDS", 1.0)
    return app.test_client(use_cookies=False)


def _give(client, slug: str, ip: str, *, origin: str | None = OUR_ORIGIN, **form: str) -> int:
    headers = {"Origin": origin} if origin else {}
    form = form or {"amount_minor": "1000"}
    return client.post(
        f"/give/{slug}", data=form, headers=headers, environ_base={"REMOTE_ADDR": ip}
    ).status_code


def test_refused_requests_never_use_up_the_goals_ceiling(frame_client, app, monkeypatch):
    monkeypatch.setitem(app.config, "GIVE_RATE_LIMIT_PER_GOAL", "5 per minute")
    goal = make_goal()
    junk = [_give(frame_client, goal.slug, f"10.1.{n}.1", origin=None) for n in range(5)]
    junk += [_give(frame_client, goal.slug, f"10.2.{n}.1", amount="lots") for n in range(5)]
    junk += [
        _give(frame_client, goal.slug, f"10.3.{n}.1", origin="https://evil.example")
        for n in range(5)
    ]
    assert junk == [403] * 5 + [422] * 5 + [403] * 5
    # A real donor still reaches the payment step (Stripe is unreachable here: 502, not 429).
    assert _give(frame_client, goal.slug, "10.9.0.1") == 502


def test_gifts_that_reach_stripe_count_against_the_goals_ceiling(frame_client, app, monkeypatch):
    monkeypatch.setitem(app.config, "GIVE_RATE_LIMIT_PER_GOAL", "3 per minute")
    goal = make_goal()
    codes = [_give(frame_client, goal.slug, f"10.{n}.0.1") for n in range(4)]
    assert codes == [502, 502, 502, 429]


def test_many_addresses_of_one_network_share_one_networks_limit(frame_client, app, monkeypatch):
    monkeypatch.setitem(app.config, "GIVE_RATE_LIMIT_PER_NETWORK", "3 per minute")
    goal = make_goal()
    codes = [_give(frame_client, goal.slug, f"10.7.0.{n}") for n in range(1, 4)]
    # The same /24, written as an IPv4-mapped IPv6 address: still that network.
    codes.append(_give(frame_client, goal.slug, "::ffff:10.7.0.200"))
    assert codes == [502, 502, 502, 429]
    # The next /24 along, and an IPv6 /48, have shares of their own.
    assert _give(frame_client, goal.slug, "10.7.1.1") == 502
    v6 = [_give(frame_client, goal.slug, f"2001:db8:5:{n}::1") for n in range(1, 5)]
    assert v6 == [502, 502, 502, 429]
    assert _give(frame_client, goal.slug, "2001:db8:6::1") == 502


def test_network_of_an_address():
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("::ffff:203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"


def test_production_trusts_public_url_not_the_host_header(frame_client, app, monkeypatch):
    goal = make_goal()
    monkeypatch.setitem(app.config, "DONATE_ENV", "production")
    forged = frame_client.post(
        f"/give/{goal.slug}",
        data={"amount_minor": "1000"},
        headers={"Origin": "http://evil.example"},
        base_url="http://evil.example",
    )
    assert forged.status_code == 403
    assert "donation form" in forged.get_data(as_text=True)
    assert _give(frame_client, goal.slug, "10.5.0.1") == 502  # PUBLIC_URL's own origin
    assert db.session.execute(sa.select(sa.func.count(Donation.id))).scalar_one() == 1


def test_development_also_accepts_the_origin_the_request_reached(frame_client):
    goal = make_goal()
    response = frame_client.post(
        f"/give/{goal.slug}",
        data={"amount_minor": "1000"},
        headers={"Origin": "http://localhost:8080"},
        base_url="http://localhost:8080",
    )
    assert response.status_code == 502


def _production(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DONATE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "9f2c" * 16)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_3kP9zQ2mVx7LwR4t")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_51Hq8aKc2VnT0pR7s")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")


def test_production_without_redis_warns_that_limits_are_per_worker(monkeypatch, tmp_path, caplog):
    _production(monkeypatch, tmp_path)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with caplog.at_level(logging.WARNING):
        create_app()
    assert PER_PROCESS_LIMITS_WARNING in caplog.text


def test_production_with_redis_does_not_warn(monkeypatch, tmp_path, caplog):
    _production(monkeypatch, tmp_path)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/15")
    with caplog.at_level(logging.WARNING):
        create_app()
    assert PER_PROCESS_LIMITS_WARNING not in caplog.text
