"""The app under gunicorn keeps answering, with a sentence, when PostgreSQL or Redis drop off the
network: a black-holed route (packets dropped, never refused) between the app and the service."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.isolated_host import Forwarder, IsolatedHost, UnixHTTPConnection, isolated_host

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
# gunicorn's worker timeout in deploy and in these tests: an answer must come before it.
WORKER_TIMEOUT = 30
ANSWER_WITHIN = WORKER_TIMEOUT - 5


class App:
    """gunicorn serving wsgi:app inside the isolated host, on a Unix socket."""

    def __init__(self, host: IsolatedHost, tmp_path: Path, env: dict[str, str]) -> None:
        self.socket_path = str(tmp_path / "app.sock")
        self.log_path = tmp_path / "app.log"
        environment = {
            "PATH": "/usr/bin:/bin",
            "DONATE_ENV": "development",
            "SECRET_KEY": "fault-tests-secret-key-0123456789",
            "PUBLIC_URL": "http://localhost",
            **env,
        }
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            host.command(
                [
                    "env",
                    *[f"{key}={value}" for key, value in environment.items()],
                    GUNICORN,
                    "--workers",
                    "1",
                    "--timeout",
                    str(WORKER_TIMEOUT),
                    "--bind",
                    f"unix:{self.socket_path}",
                    "wsgi:app",
                ]
            ),
            cwd=PROJECT_ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while not Path(self.socket_path).exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{self.log_path.read_text()}")
            time.sleep(0.1)

    def request(
        self, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], str]:
        """One request; a hang past the worker timeout fails the test instead of passing it."""
        connection = UnixHTTPConnection(self.socket_path, timeout=ANSWER_WITHIN)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode()
        finally:
            connection.close()

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


@pytest.fixture
def host() -> Iterator[IsolatedHost]:
    with isolated_host() as made:
        yield made


def test_health_check_answers_503_while_postgresql_is_black_holed_and_recovers(host, tmp_path):
    forwarder = Forwarder(host.host_ip, 5432)
    app = App(
        host,
        tmp_path,
        {"DATABASE_URL": f"postgresql://postgres@{host.host_ip}:{forwarder.port}/postgres"},
    )
    try:
        status, _, body = app.request("GET", "/healthz")
        assert (status, json.loads(body)["database"]) == (200, "ok")

        host.black_hole()
        status, _, body = app.request("GET", "/healthz")
        assert status == 503
        assert json.loads(body) == {"status": "unavailable", "database": "unreachable"}

        host.heal()
        status, _, body = app.request("GET", "/healthz")
        assert (status, json.loads(body)["database"]) == (200, "ok")
    finally:
        app.stop()
        forwarder.close()


def test_pages_say_the_database_is_unreachable_with_one_log_line_each(host, tmp_path):
    forwarder = Forwarder(host.host_ip, 5432)
    app = App(
        host,
        tmp_path,
        {"DATABASE_URL": f"postgresql://postgres@{host.host_ip}:{forwarder.port}/postgres"},
    )
    try:
        assert app.request("GET", "/healthz")[0] == 200
        host.black_hole()
        answers = [app.request("GET", "/api/v1/goals") for _ in range(3)]
        assert [status for status, _, _ in answers] == [503, 503, 503]
        assert json.loads(answers[0][2])["message"] == (
            "We cannot reach our database just now. Please try again in a minute."
        )
        status, _, page = app.request("GET", "/g/local-news", headers={"Accept": "text/html"})
        assert status == 503
        assert "We cannot reach our database just now." in page
        log = app.log()
        assert log.count("Database unavailable on GET /api/v1/goals") == 3
        assert "Traceback" not in log
    finally:
        app.stop()
        forwarder.close()


def _sign_in_attempt(app: App, cookie: str, token: str) -> int:
    form = urlencode({"csrf_token": token, "email": "nobody@example.org", "password": "wrong"})
    status, _, _ = app.request(
        "POST",
        "/admin/sign-in",
        body=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    return status


def test_rate_limits_fall_back_to_each_process_while_redis_is_black_holed(host, tmp_path):
    database = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": database},
        check=True,
        capture_output=True,
    )
    subprocess.run(["redis-cli", "-n", "15", "flushdb"], check=True, capture_output=True)
    forwarder = Forwarder(host.host_ip, 6379)
    app = App(
        host,
        tmp_path,
        {"DATABASE_URL": database, "REDIS_URL": f"redis://{host.host_ip}:{forwarder.port}/15"},
    )
    try:
        status, headers, page = app.request("GET", "/admin/sign-in")
        assert status == 200
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        token = token or re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        assert _sign_in_attempt(app, cookie, token[1]) == 200  # counted in Redis

        host.black_hole()
        statuses = [_sign_in_attempt(app, cookie, token[1]) for _ in range(11)]
        # Every attempt is answered; the route's own 10-a-minute limit holds, counted in memory.
        assert statuses == [200] * 10 + [429]
        assert "falling back to in-memory storage" in app.log()
    finally:
        app.stop()
        forwarder.close()
