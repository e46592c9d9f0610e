"""Settings read once from the environment, with safe defaults for a local run."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

# Keys that ship in examples and docs: never acceptable in production.
WELL_KNOWN_SECRET_KEYS = frozenset(
    {"", "dev", "development", "changeme", "change-me", "secret", "dev-insecure-key"}
)
DEVELOPMENT_SECRET_KEY = "dev-insecure-key"
DEVELOPMENT_WEBHOOK_SECRET = "whsec_development_sandbox_secret"
# Values the repository itself ships (the demo, the sandbox, the tests, the README).
DEVELOPMENT_SECRETS = frozenset(
    {
        DEVELOPMENT_SECRET_KEY,
        DEVELOPMENT_WEBHOOK_SECRET,
        "test-secret-key-not-for-production",
        "whsec_test_secret",
        "whsec_local_demo",
        "sk_test_sandbox",
    }
)
# Signs of a value copied from an example rather than from Stripe's dashboard.
# Words of example values long enough never to occur by chance in a random key.
PLACEHOLDER_MARKS = ("example", "placeholder", "changeme")
# Stripe's keys and signing secrets end in dozens of random letters and digits.
_RANDOM_PART = re.compile(r"[A-Za-z0-9]{16,}")
_FEWEST_DISTINCT_CHARACTERS = 10
STRIPE_KEY_PREFIXES = ("sk_live_", "sk_test_", "rk_live_", "rk_test_")
ENVIRONMENTS = ("development", "test", "production")
# The largest request body any route accepts; deploy/nginx.conf's client_max_body_size matches.
MAX_REQUEST_BYTES = 1024 * 1024


class ConfigError(RuntimeError):
    """A setting that makes the app unsafe or unable to start; the message says what to set."""


def default_database_url() -> str:
    """An SQLite file in instance/, so a fresh clone runs without any server."""
    return f"sqlite:///{INSTANCE_DIR / 'donate.sqlite3'}"


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def _public_url(raw: str) -> str:
    """scheme://host[:port] with no path: links, embeds and origin checks are built on it."""
    url = (raw.strip() or "http://127.0.0.1:5000").rstrip("/")
    scheme, _, rest = url.partition("://")
    if scheme not in ("http", "https") or not rest or any(c in rest for c in "/?#@\\ "):
        raise ConfigError(
            f"PUBLIC_URL must look like https://give.example.org (no path), not {raw.strip()!r}."
        )
    return url


def _looks_real(value: str, prefixes: tuple[str, ...]) -> bool:
    """Stripe's prefix, then a random-looking run of letters and digits (not "xxxx...", not
    "your_key_here"), and no word of an example value."""
    lowered = value.lower()
    rest = next((value[len(p) :] for p in prefixes if value.startswith(p)), "")
    return (
        _RANDOM_PART.fullmatch(rest) is not None
        and len(set(rest)) >= _FEWEST_DISTINCT_CHARACTERS
        and not any(mark in lowered for mark in PLACEHOLDER_MARKS)
    )


def is_live_stripe_key(key: str) -> bool:
    """Live keys charge real cards; every other key (test, sandbox, none) simulates payments."""
    return key.startswith(("sk_live_", "rk_live_"))


def normalise_database_url(url: str) -> str:
    """Point plain postgres URLs at psycopg 3, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# gunicorn kills a worker after 30 s; every wait on the database must end well before that, so
# the request can still answer with a sentence (and /healthz with 503).
SQLITE_BUSY_TIMEOUT_SECONDS = 10
POSTGRES_CONNECT_TIMEOUT_SECONDS = 3
# Unacknowledged data for this long drops the connection: what a dead network needs, since a
# statement timeout is enforced by a server that can no longer be reached.
POSTGRES_TCP_USER_TIMEOUT_MS = 5_000
POOL_CHECKOUT_TIMEOUT_SECONDS = 5
# Redis for rate limits: a black-holed server must not hold a request for more than this.
REDIS_SOCKET_TIMEOUT_SECONDS = 0.5


def engine_options_for(database_url: str) -> dict[str, Any]:
    """Connection settings that suit the database the URL names, with every wait bounded."""
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}}
    return {
        "pool_pre_ping": True,
        "pool_timeout": POOL_CHECKOUT_TIMEOUT_SECONDS,
        "connect_args": {
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS,
            "tcp_user_timeout": POSTGRES_TCP_USER_TIMEOUT_MS,
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 2,
        },
    }


def rate_limit_storage_options(redis_url: str) -> dict[str, Any]:
    """Socket timeouts for Redis, so an unreachable server fails fast into the in-process limits."""
    if not redis_url:
        return {}
    return {
        "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    }


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment, in one place."""

    env: str
    secret_key: str
    database_url: str
    public_url: str
    stripe_secret_key: str
    stripe_webhook_secret: str
    stripe_api_base: str
    redis_url: str
    trusted_proxies: int
    # Outgoing mail (dashboard invitations and password resets); no host: written to a folder.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "donate <no-reply@localhost>"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the environment once; nothing else in the app reads os.environ."""
        environ = os.environ if environ is None else environ
        env = environ.get("DONATE_ENV", "development").strip().lower() or "development"
        if env not in ENVIRONMENTS:
            raise ConfigError(f"DONATE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}.")
        return cls(
            env=env,
            secret_key=environ.get("SECRET_KEY", "").strip(),
            database_url=normalise_database_url(
                environ.get("DATABASE_URL", "").strip() or default_database_url()
            ),
            public_url=_public_url(environ.get("PUBLIC_URL", "")),
            stripe_secret_key=environ.get("STRIPE_SECRET_KEY", "").strip(),
            stripe_webhook_secret=environ.get("STRIPE_WEBHOOK_SECRET", "").strip(),
            stripe_api_base=environ.get("STRIPE_API_BASE", "").strip().rstrip("/"),
            redis_url=environ.get("REDIS_URL", "").strip(),
            trusted_proxies=_int(environ, "TRUSTED_PROXIES", 0),
            smtp_host=environ.get("SMTP_HOST", "").strip(),
            smtp_port=_int(environ, "SMTP_PORT", 587),
            smtp_username=environ.get("SMTP_USERNAME", "").strip(),
            smtp_password=environ.get("SMTP_PASSWORD", ""),
            smtp_starttls=_flag(environ, "SMTP_STARTTLS", True),
            mail_from=environ.get("MAIL_FROM", "").strip() or "donate <no-reply@localhost>",
        )

    def check_production(self) -> None:
        """Refuse to run production with secrets anyone could know, or with no Stripe at all."""
        if self.env != "production":
            return
        if (
            self.secret_key.lower() in WELL_KNOWN_SECRET_KEYS
            or self.secret_key in DEVELOPMENT_SECRETS
            or len(self.secret_key) < 16
        ):
            raise ConfigError(
                "Set SECRET_KEY to a long random value (for example the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`) "
                "before running in production."
            )
        if not self.stripe_webhook_secret:
            raise ConfigError(
                "Set STRIPE_WEBHOOK_SECRET to your Stripe webhook endpoint's signing secret "
                "(whsec_...) before running in production."
            )
        if self.stripe_webhook_secret in DEVELOPMENT_SECRETS or not _looks_real(
            self.stripe_webhook_secret, ("whsec_",)
        ):
            raise ConfigError(
                "STRIPE_WEBHOOK_SECRET is a development or example value; set the signing secret "
                "`flask --app wsgi donate stripe-setup` printed for your endpoint (whsec_...)."
            )
        if not self.stripe_secret_key:
            raise ConfigError(
                "Set STRIPE_SECRET_KEY to your Stripe secret key (sk_live_...) before running in "
                "production: without it nobody can give."
            )
        if self.stripe_secret_key in DEVELOPMENT_SECRETS or not _looks_real(
            self.stripe_secret_key, STRIPE_KEY_PREFIXES
        ):
            raise ConfigError(
                "STRIPE_SECRET_KEY is the local sandbox's, an example value or not a secret key; "
                "set the secret key from your Stripe dashboard (sk_live_...)."
            )
        if self.stripe_api_base and not self.stripe_api_base.startswith("https://"):
            raise ConfigError(
                f"STRIPE_API_BASE points at {self.stripe_api_base}, not Stripe; leave it unset "
                "in production."
            )

    def flask_config(self) -> dict[str, Any]:
        """Translate settings into the Flask and extension keys that use them."""
        secure = self.env == "production"
        return {
            "DONATE_ENV": self.env,
            "TESTING": self.env == "test",
            "SECRET_KEY": self.secret_key or DEVELOPMENT_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "PUBLIC_URL": self.public_url,
            "STRIPE_SECRET_KEY": self.stripe_secret_key,
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret
            or ("" if secure else DEVELOPMENT_WEBHOOK_SECRET),
            "STRIPE_API_BASE": self.stripe_api_base,
            "REDIS_URL": self.redis_url,
            "TRUSTED_PROXIES": self.trusted_proxies,
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_STORAGE_OPTIONS": rate_limit_storage_options(self.redis_url),
            # Redis down: each process goes on counting every route's own limits in memory (no
            # fallback list, which would replace them), and an error never fails the request.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_SWALLOW_ERRORS": True,
            "RATELIMIT_HEADERS_ENABLED": True,
            # One donor retrying a declined card is fine; a script hammering a goal is not.
            "GIVE_RATE_LIMIT_PER_IP": "10 per minute;60 per hour",
            "GIVE_RATE_LIMIT_PER_GOAL": "600 per minute",
            # Many addresses of one network (a /24, a /48) share a tenth of a goal's ceiling.
            "GIVE_RATE_LIMIT_PER_NETWORK": "60 per minute",
            # Each return asks Stripe about the session: enough for reloads, not for a loop.
            "GIVE_RETURN_RATE_LIMIT": "30 per minute",
            # One attempt at Stripe waits at most this; all of a request's calls and retries
            # together end within the budget, well before gunicorn's 30 s worker timeout. The
            # give path has less: a click lets the frame open Checkout for about 5 s only.
            "STRIPE_TIMEOUT_SECONDS": 10,
            "STRIPE_REQUEST_BUDGET_SECONDS": 15,
            "STRIPE_GIVE_BUDGET_SECONDS": 3.5,
            # Stripe's events are well under this and forms far less; Werkzeug enforces it while
            # the body is read (chunked bodies too), so a huge body is refused, never buffered.
            # A view that takes uploads sets request.max_content_length for itself.
            "MAX_CONTENT_LENGTH": MAX_REQUEST_BYTES,
            "MAX_FORM_MEMORY_SIZE": MAX_REQUEST_BYTES,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": secure,
            "REMEMBER_COOKIE_SECURE": secure,
            "WTF_CSRF_TIME_LIMIT": None,
            "JSON_SORT_KEYS": False,
            "DASHBOARD_ENABLED": True,
            "SIGN_IN_RATE_LIMIT": "10 per minute",
            "SIGN_IN_RATE_LIMIT_PER_ACCOUNT": "30 per hour",
            "SMTP_HOST": self.smtp_host,
            "SMTP_PORT": self.smtp_port,
            "SMTP_USERNAME": self.smtp_username,
            "SMTP_PASSWORD": self.smtp_password,
            "SMTP_STARTTLS": self.smtp_starttls,
            "MAIL_FROM": self.mail_from,
            "MAIL_FOLDER": str(INSTANCE_DIR / "mail"),
        }
