"""The Alembic revisions build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from donate.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_migrations_match_the_models(app):
    """Autogenerate against the migrated test database finds nothing to add or change."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrated_database_has_every_model_table(app):
    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
    assert {table.name for table in db.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_db_upgrade_works_on_an_empty_sqlite_file(tmp_path):
    """The operator's command, run as the operator runs it, on a file that does not exist yet."""
    database = tmp_path / "fresh.sqlite3"
    env = {
        "PATH": str(Path(sys.executable).parent),
        "DATABASE_URL": f"sqlite:///{database}",
        "DONATE_ENV": "development",
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert version is not None
        assert connection.execute(sa.text("SELECT count(*) FROM goals")).scalar() == 0
    engine.dispose()


def _flask(database: Path, *args: str) -> None:
    env = {
        "PATH": str(Path(sys.executable).parent),
        "DATABASE_URL": f"sqlite:///{database}",
        "DONATE_ENV": "development",
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_revision_0005_re_normalises_stored_origins_with_uts46(tmp_path):
    """Origins stored before the UTS-46 rule are rewritten as browsers resolve their hosts."""
    database = tmp_path / "old.sqlite3"
    _flask(database, "upgrade", "0001")
    engine = sa.create_engine(f"sqlite:///{database}")
    stored = ["https://Straße.example:443", "http://localhost:*", "https://news.example.org"]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO sites (name, allowed_origins, default_currency, default_locale,"
                " time_zone, brand_colour, created_at) VALUES ('Old', :origins, 'EUR', 'de',"
                " 'UTC', '#1d4ed8', '2026-01-01 00:00:00')"
            ),
            {"origins": json.dumps(stored)},
        )
        connection.execute(
            sa.text(
                "INSERT INTO users (email, password_hash, name, active, created_at)"
                " VALUES ('old@example.org', 'x', '', 1, '2026-01-01 00:00:00')"
            )
        )
    _flask(database, "upgrade", "0005")
    with engine.connect() as connection:
        origins = connection.execute(sa.text("SELECT allowed_origins FROM sites")).scalar()
        user = connection.execute(sa.text("SELECT session_epoch, is_operator FROM users")).one()
    engine.dispose()
    assert json.loads(origins) == [
        "https://xn--strae-oqa.example",
        "http://localhost:*",
        "https://news.example.org",
    ]
    assert tuple(user) == (0, 0)


def test_revision_0008_reads_the_offline_method_out_of_the_note(tmp_path):
    """Methods written at the start of notes move to their column; the editors' notes remain."""
    database = tmp_path / "notes.sqlite3"
    _flask(database, "upgrade", "0006")
    engine = sa.create_engine(f"sqlite:///{database}")
    notes = {
        1: ("offline", "succeeded", "Cash"),
        2: ("offline", "succeeded", "Cheque: no. 4711\nCorrected: Counted twice"),
        3: ("offline", "succeeded", "Bank transfer\nCorrected: Typo"),
        4: ("offline", "voided", "Entered twice"),  # the void overwrote the method
        5: ("offline", "succeeded", "Cashier's cheque"),
        6: ("one_time", "succeeded", "Cash: not an offline gift"),
    }
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO sites (id, name, allowed_origins, default_currency, default_locale,"
                " time_zone, brand_colour, created_at) VALUES (1, 'Old', '[]', 'EUR', 'en', 'UTC',"
                " '#1d4ed8', '2026-01-01')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO goals (id, site_id, slug, title, description, currency,"
                " target_minor, presets_minor, minimum_minor, monthly_enabled,"
                " milestones_minor, status, raised_minor, donation_count, donor_count,"
                " totals_version, created_at, updated_at) VALUES (1, 1, 'g', 'G', '', 'EUR',"
                " 1000, '[]', 100, 0, '[]', 'active', 0, 0, 0, 0, '2026-01-01', '2026-01-01')"
            )
        )
        for donation_id, (kind, state, note) in notes.items():
            connection.execute(
                sa.text(
                    "INSERT INTO donations (id, goal_id, amount_minor, currency, kind, state,"
                    " refunded_minor, disputed_minor, anonymous, message_hidden, note,"
                    " created_at) VALUES (:id, 1, 500, 'EUR', :kind, :state, 0, 0, 0, 0, :note,"
                    " '2026-01-01')"
                ),
                {"id": donation_id, "kind": kind, "state": state, "note": note},
            )
    _flask(database, "upgrade", "0008")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT id, offline_method, note FROM donations ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        (1, "cash", None),
        (2, "cheque", "no. 4711\nCorrected: Counted twice"),
        (3, "bank_transfer", "Corrected: Typo"),
        (4, None, "Voided: Entered twice"),
        (5, None, "Cashier's cheque"),
        (6, None, "Cash: not an offline gift"),
    ]


def test_upgrading_a_database_with_gifts_keeps_every_row_and_numbers_them(tmp_path):
    """SQLite rebuilds altered tables; with references enforced that must neither fail nor
    cascade: the gifts, their donor markers and the goal survive, up, down and up again."""
    database = tmp_path / "gifts.sqlite3"
    _flask(database, "upgrade", "0008")
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO sites (id, name, allowed_origins, default_currency, default_locale,"
                " time_zone, brand_colour, created_at) VALUES (1, 'Old', '[]', 'EUR', 'en', 'UTC',"
                " '#1d4ed8', '2026-01-01')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO goals (id, site_id, slug, title, description, currency,"
                " target_minor, presets_minor, minimum_minor, monthly_enabled,"
                " milestones_minor, status, raised_minor, donation_count, donor_count,"
                " totals_version, created_at, updated_at) VALUES (1, 1, 'g', 'G', '', 'EUR',"
                " 1000, '[]', 100, 0, '[]', 'active', 1000, 2, 1, 2, '2026-01-01', '2026-01-01')"
            )
        )
        for donation_id, kind in ((1, "one_time"), (2, "offline")):
            connection.execute(
                sa.text(
                    "INSERT INTO donations (id, goal_id, amount_minor, currency, kind, state,"
                    " refunded_minor, disputed_minor, anonymous, message_hidden, created_at)"
                    " VALUES (:id, 1, 500, 'EUR', :kind, 'succeeded', 0, 0, 0, 0, :at)"
                ),
                {"id": donation_id, "kind": kind, "at": f"2026-01-0{donation_id}"},
            )
        connection.execute(sa.text("INSERT INTO goal_donors (goal_id, donor_key) VALUES (1, 'k')"))

    def rows() -> tuple[int, int, int]:
        with engine.connect() as connection:
            return tuple(  # type: ignore[return-value]
                connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
                for table in ("goals", "donations", "goal_donors")
            )

    _flask(database, "upgrade")
    assert rows() == (1, 2, 1)
    with engine.connect() as connection:
        numbers = connection.execute(
            sa.text("SELECT id, receipt_number, fee_cover_minor FROM donations ORDER BY id")
        ).all()
        goal = connection.execute(sa.text("SELECT raised_minor, matched_minor FROM goals")).one()
    assert [tuple(row) for row in numbers] == [(1, 1, 0), (2, 2, 0)]
    assert tuple(goal) == (1000, 0)
    _flask(database, "downgrade", "0008")
    assert rows() == (1, 2, 1)
    _flask(database, "upgrade")
    assert rows() == (1, 2, 1)
    engine.dispose()
