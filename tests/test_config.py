"""Configuration: read once from the environment, and no production run with unsafe secrets."""

from __future__ import annotations

import pytest

from donate import create_app
from donate.config import ConfigError, Settings


def test_development_defaults_use_sqlite_in_instance():
    settings = Settings.from_environ({})
    assert settings.env == "development"
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("instance/donate.sqlite3")
    assert settings.trusted_proxies == 0


def test_plain_postgres_urls_use_psycopg_3():
    settings = Settings.from_environ({"DATABASE_URL": "postgresql://u@db/donate"})
    assert settings.database_url == "postgresql+psycopg://u@db/donate"


@pytest.mark.parametrize("secret", ["", "dev", "changeme", "short"])
def test_production_refuses_a_missing_or_well_known_secret_key(secret):
    settings = Settings.from_environ(
        {"DONATE_ENV": "production", "SECRET_KEY": secret, "STRIPE_WEBHOOK_SECRET": "whsec_x"}
    )
    with pytest.raises(ConfigError, match="Set SECRET_KEY"):
        settings.check_production()


def test_production_refuses_to_start_without_a_webhook_secret():
    settings = Settings.from_environ(
        {"DONATE_ENV": "production", "SECRET_KEY": "a" * 64, "STRIPE_WEBHOOK_SECRET": ""}
    )
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        settings.check_production()


def test_create_app_refuses_production_with_defaults(monkeypatch):
    monkeypatch.setenv("DONATE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError) as error:
        create_app()
    assert str(error.value).startswith("Set SECRET_KEY")


def test_production_with_real_secrets_is_accepted(monkeypatch, tmp_path):
    monkeypatch.setenv("DONATE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "9f2c" * 16)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_live_value")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] == "9f2c" * 16


def test_an_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="DONATE_ENV"):
        Settings.from_environ({"DONATE_ENV": "staging"})


def test_trusted_proxies_must_be_a_number():
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        Settings.from_environ({"TRUSTED_PROXIES": "two"})


@pytest.mark.parametrize(
    "value", ["give.example.org", "https://give.example.org/donate", "ftp://x.org", "https://"]
)
def test_public_url_must_be_an_origin(value):
    with pytest.raises(ConfigError, match="PUBLIC_URL"):
        Settings.from_environ({"PUBLIC_URL": value})


def test_public_url_keeps_its_port_and_loses_a_trailing_slash():
    settings = Settings.from_environ({"PUBLIC_URL": "http://127.0.0.1:8080/"})
    assert settings.public_url == "http://127.0.0.1:8080"
