"""Stored amounts keep their meaning: each currency's exponent is recorded, checked at startup."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from donate import create_app
from donate.extensions import db
from donate.models import CurrencyExponent
from donate.stored_exponents import StoredExponentMismatch
from tests.conftest import app_config
from tests.factories import make_goal, make_site


def _recorded() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(CurrencyExponent.currency, CurrencyExponent.display_exponent)
    ).all()
    return dict(rows)


def test_the_first_goal_in_a_currency_records_its_exponent_once(db_session):
    site = make_site(default_currency="RSD")
    make_goal(site, minimum_minor=100, maximum_minor=None)
    make_goal(site, minimum_minor=100, maximum_minor=None)
    make_goal(make_site(default_currency="KWD"), minimum_minor=1000, presets_minor=[])
    assert _recorded() == {"RSD": 0, "KWD": 3}


def test_changing_a_goals_currency_records_the_new_one(db_session):
    from donate.goals import GoalSettings, update_goal

    goal = make_goal(make_site(default_currency="EUR"))
    settings = GoalSettings(
        slug=goal.slug, title=goal.title, currency="JPY", target_minor=500_000,
        presets_minor=[1_000], minimum_minor=500, maximum_minor=None,
    )  # fmt: skip
    update_goal(goal, settings)
    assert _recorded() == {"EUR": 2, "JPY": 0}


def _migrated_sqlite(tmp_path, rows: dict[str, int]) -> dict[str, object]:
    """A migrated SQLite file whose currency_exponents holds `rows`, and its app config."""
    config = app_config(f"sqlite:///{tmp_path / 'stored.sqlite3'}")
    app = create_app(config)
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            for code, exponent in rows.items():
                connection.execute(
                    sa.insert(CurrencyExponent).values(currency=code, display_exponent=exponent)
                )
        db.engine.dispose()
    return config


def test_the_app_starts_when_stored_exponents_match_the_table(tmp_path):
    config = _migrated_sqlite(tmp_path, {"RSD": 0, "EUR": 2, "KWD": 3})
    assert create_app(config).name == "donate"


def test_the_app_refuses_to_start_when_a_stored_exponent_changed(tmp_path):
    # As if RSD amounts had been stored in hundredths: reading them in whole dinars would
    # show and charge each one 100 times too much.
    config = _migrated_sqlite(tmp_path, {"RSD": 2, "EUR": 2})
    with pytest.raises(StoredExponentMismatch) as caught:
        create_app(config)
    message = str(caught.value)
    assert message.startswith(
        "Refusing to start: RSD amounts are stored with 2 decimals, "
        "but the currency table now gives 0."
    )
    assert "EUR" not in message


def test_the_app_refuses_to_start_when_a_stored_currency_left_the_table(tmp_path):
    config = _migrated_sqlite(tmp_path, {"IQD": 0})
    with pytest.raises(StoredExponentMismatch, match="IQD amounts are stored, but IQD is not"):
        create_app(config)


def test_the_migration_records_the_currencies_already_stored(tmp_path):
    config = app_config(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    app = create_app(config)
    with app.app_context():
        upgrade(revision="0001")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO sites (id, name, allowed_origins, default_currency,"
                    " default_locale, time_zone, brand_colour, created_at)"
                    " VALUES (1, 'Belgrade', '[]', 'RSD', 'sr', 'UTC', '#123456', '2026-01-01')"
                )
            )
            for number, code in enumerate(["RSD", "kwd", "EUR", "RSD"], start=1):
                connection.execute(
                    sa.text(
                        "INSERT INTO goals (id, site_id, slug, title, description, currency,"
                        " target_minor, presets_minor, minimum_minor, monthly_enabled,"
                        " milestones_minor, status, raised_minor, donation_count, donor_count,"
                        " totals_version, created_at, updated_at) VALUES (:id, 1, :slug, 'G', '',"
                        " :code, 1000, '[]', 100, 0, '[]', 'active', 0, 0, 0, 0, '2026-01-01',"
                        " '2026-01-01')"
                    ),
                    {"id": number, "slug": f"g{number}", "code": code},
                )
        upgrade()
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT currency, display_exponent FROM currency_exponents")
            ).all()
        db.engine.dispose()
    assert dict(rows) == {"RSD": 0, "KWD": 3, "EUR": 2}
