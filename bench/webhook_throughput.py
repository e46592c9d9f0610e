"""Webhook events applied per second on SQLite and PostgreSQL, against a bare HMAC-and-insert.

Each event is a signed `checkout.session.completed` for its own pending donation, posted to the
real endpoint in-process (signature check, inbox insert, claim, ledger update, commit). The
baseline, in the same run on the same database, does only what any webhook must: verify the
HMAC and insert the raw body. Run: .venv/bin/python bench/webhook_throughput.py [--events N]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results import write_section  # noqa: E402

from donate import create_app, ledger  # noqa: E402
from donate.extensions import db  # noqa: E402
from donate.goals import GoalSettings, SiteSettings, create_goal, create_site  # noqa: E402
from donate.models import DonationKind  # noqa: E402
from donate.payments.stripe import sign_payload  # noqa: E402

SECRET = "whsec_bench"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BENCH_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/donate_bench"


def _fresh_postgres() -> str:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("DROP DATABASE IF EXISTS donate_bench"))
        connection.execute(sa.text("CREATE DATABASE donate_bench"))
    engine.dispose()
    return PG_BENCH_URL


def _events(goal_slug: str, donation_ids: list[int]) -> list[tuple[str, str]]:
    bodies = []
    for donation_id in donation_ids:
        event = {
            "id": f"evt_bench_{donation_id}",
            "object": "event",
            "type": "checkout.session.completed",
            "livemode": False,
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": f"cs_test_bench_{donation_id}",
                    "object": "checkout.session",
                    "mode": "payment",
                    "status": "complete",
                    "payment_status": "paid",
                    "client_reference_id": str(donation_id),
                    "livemode": False,
                    "payment_intent": f"pi_bench_{donation_id}",
                    "customer": f"cus_{donation_id}",
                    "customer_details": {"email": f"donor{donation_id}@example.org"},
                    "metadata": {"donate_donation_id": str(donation_id), "donate_goal": goal_slug},
                    "amount_total": 2500,
                    "currency": "usd",
                }
            },
        }
        body = json.dumps(event)
        bodies.append((body, sign_payload(body, SECRET)))
    return bodies


def _baseline(url: str, bodies: list[tuple[str, str]]) -> float:
    """Verify each HMAC and insert the raw body: the least any webhook does."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE bare_events (id TEXT PRIMARY KEY, body TEXT)"))
    started = time.perf_counter()
    with engine.connect() as connection:
        for body, header in bodies:
            timestamp, signature = (part.split("=", 1)[1] for part in header.split(","))
            expected = hmac.new(
                SECRET.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256
            ).hexdigest()
            assert hmac.compare_digest(expected, signature)
            event_id = json.loads(body)["id"]
            connection.execute(
                sa.text("INSERT INTO bare_events (id, body) VALUES (:id, :body)"),
                {"id": event_id, "body": body},
            )
            connection.commit()
    elapsed = time.perf_counter() - started
    engine.dispose()
    return len(bodies) / elapsed


def _donate(url: str, count: int) -> tuple[float, float]:
    """Post signed events to the real endpoint; return events per second and the baseline's."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "STRIPE_WEBHOOK_SECRET": SECRET,
            "DONATE_ENV": "test",
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "STRIPE_API_BASE": "http://127.0.0.1:9",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        site = create_site(SiteSettings(name="Bench", allowed_origins=["http://localhost:*"]))
        goal = create_goal(
            site,
            GoalSettings(
                slug="bench", title="Bench", currency="USD", target_minor=10**9, minimum_minor=500
            ),
        )
        ids = [
            ledger.create_pending_donation(
                goal, amount_minor=2500, kind=DonationKind.ONE_TIME, cause="bench"
            ).id
            for _ in range(count)
        ]
        db.session.commit()
        bodies = _events(goal.slug, ids)
    client = app.test_client()
    started = time.perf_counter()
    for body, header in bodies:
        response = client.post("/stripe/webhook", data=body, headers={"Stripe-Signature": header})
        assert response.status_code == 200, response.get_data(as_text=True)
    elapsed = time.perf_counter() - started
    with app.app_context():
        raised = db.session.execute(sa.text("SELECT raised_minor FROM goals")).scalar()
        assert raised == 2500 * count, raised
        db.engine.dispose()
    return count / elapsed, _baseline(url, bodies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        rows.append(("SQLite (WAL, file)", *_donate(sqlite_url, args.events)))
    rows.append(("PostgreSQL (loopback)", *_donate(_fresh_postgres(), args.events)))
    lines = [
        f"{args.events} signed `checkout.session.completed` events, one at a time, in-process "
        "(no HTTP server), each settling its own donation.",
        "",
        "| database | donate webhook (events/s) | bare HMAC + insert (events/s) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, ours, bare in rows:
        lines.append(f"| {name} | {ours:,.0f} | {bare:,.0f} | {bare / ours:.1f}x |")
    print("\n".join(lines))
    write_section("Webhook events applied per second", "\n".join(lines))


if __name__ == "__main__":
    main()
