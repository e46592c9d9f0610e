"""Migration 0003 keeps the instance id Stripe already knows us by."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _flask(database: Path, *args: str, public_url: str) -> None:
    env = {
        "PATH": str(Path(sys.executable).parent),
        "DATABASE_URL": f"sqlite:///{database}",
        "DONATE_ENV": "development",
        "PUBLIC_URL": public_url,
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def _instance_id(database: Path) -> str:
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        value = connection.execute(
            sa.text("SELECT value FROM instance_settings WHERE key = 'instance_id'")
        ).scalar_one()
    engine.dispose()
    return value


def test_the_upgrade_takes_the_id_from_applied_sessions_not_from_this_shells_public_url(
    tmp_path,
):
    database = tmp_path / "existing.sqlite3"
    _flask(database, "db", "upgrade", "0001", public_url="https://give.example.org")
    payload = {"data": {"object": {"metadata": {"donate_instance": "a1b2c3d4e5f6"}}}}
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO stripe_events (event_id, type, livemode, payload, status, "
                "received_at, attempts) VALUES ('evt_1', 'checkout.session.completed', 0, "
                ":payload, 'processed', '2026-11-01 10:00:00', 1)"
            ),
            {"payload": json.dumps(payload)},
        )
    engine.dispose()
    _flask(database, "db", "upgrade", public_url="http://127.0.0.1:5000")
    assert _instance_id(database) == "a1b2c3d4e5f6"


def test_a_fresh_upgrade_seeds_the_id_from_public_url_as_earlier_versions_derived_it(tmp_path):
    from donate.payments.instance import legacy_instance_id

    database = tmp_path / "fresh.sqlite3"
    _flask(database, "db", "upgrade", public_url="https://give.example.org")
    assert _instance_id(database) == legacy_instance_id("https://give.example.org")
