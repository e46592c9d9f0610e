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
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_3kP9zQ2mVx7LwR4t")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_51Hq8aKc2VnT0pR7s")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.sqlite3'}")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SECRET_KEY"] == "9f2c" * 16


PRODUCTION = {
    "DONATE_ENV": "production",
    "SECRET_KEY": "9f2c" * 16,
    "STRIPE_WEBHOOK_SECRET": "whsec_3kP9zQ2mVx7LwR4t",
    "STRIPE_SECRET_KEY": "sk_live_51Hq8aKc2VnT0pR7s",
}


@pytest.mark.parametrize(
    ("name", "value", "sentence"),
    [
        ("SECRET_KEY", "dev-insecure-key", "Set SECRET_KEY"),
        ("SECRET_KEY", "test-secret-key-not-for-production", "Set SECRET_KEY"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_development_sandbox_secret", "development or example"),
        ("STRIPE_WEBHOOK_SECRET", "whsec_...", "development or example"),
        ("STRIPE_WEBHOOK_SECRET", "my-webhook-secret-value", "development or example"),
        ("STRIPE_SECRET_KEY", "", "Set STRIPE_SECRET_KEY"),
        ("STRIPE_SECRET_KEY", "sk_test_sandbox", "local sandbox's, an example"),
        ("STRIPE_SECRET_KEY", "sk_live_...", "local sandbox's, an example"),
        ("STRIPE_SECRET_KEY", "sk_live_xxxxxxxxxxxxxxxx", "local sandbox's, an example"),
        ("STRIPE_SECRET_KEY", "pk_live_51Hq8aKc2VnT0pR7s", "local sandbox's, an example"),
        ("STRIPE_SECRET_KEY", "sk_live_your_secret_key_here", "local sandbox's, an example"),
        ("STRIPE_SECRET_KEY", "sk_live_EXAMPLE0123456789abc", "local sandbox's, an example"),
        ("STRIPE_API_BASE", "http://127.0.0.1:12111", "leave it unset in production"),
    ],
)
def test_production_refuses_what_is_not_production(name, value, sentence):
    settings = Settings.from_environ({**PRODUCTION, name: value})
    with pytest.raises(ConfigError, match=sentence):
        settings.check_production()


def test_production_accepts_real_looking_stripe_values_and_development_accepts_the_sandbox():
    Settings.from_environ(PRODUCTION).check_production()
    Settings.from_environ(
        {"STRIPE_SECRET_KEY": "sk_test_sandbox", "STRIPE_API_BASE": "http://127.0.0.1:12111"}
    ).check_production()


@pytest.mark.parametrize(
    ("secret", "key"),
    [
        # Random keys may hold any run of letters: "xxx", "your" or "change" must not refuse them.
        ("whsec_xxxYour9ChangeKq2Vt7pLm4Rz8", "sk_live_51HxxxYourChange8aKc2VnT0pR7sQ9wE"),
        ("whsec_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF", "rk_live_" + "Z9y8X7w6V5u4T3s2R1q0P9o8"),
    ],
)
def test_production_accepts_random_keys_whatever_letters_they_hold(secret, key):
    Settings.from_environ(
        {**PRODUCTION, "STRIPE_WEBHOOK_SECRET": secret, "STRIPE_SECRET_KEY": key}
    ).check_production()


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
