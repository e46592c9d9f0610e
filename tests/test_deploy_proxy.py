"""The shipped deploy/nginx.conf and deploy/gunicorn.conf.py, run for real in front of a live app.

nginx runs as the current user under a temporary prefix, on free loopback ports, with the
shipped server block (TLS left out: the test speaks plain HTTP to it); gunicorn runs with the
shipped config and the app on a fresh SQLite file. Without nginx the test skips loudly on a
developer machine and fails in CI (CI=true).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT_ROOT / "deploy"
DEMO_SLUG = "local-news"
TRICKLING_CLIENTS = 100
# Generous: a page the app renders in milliseconds; a stalled worker would take 30 s or more.
ANSWER_WITHIN_SECONDS = 5


def _nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not found:
        message = "PROXY TESTS DID NOT RUN: nginx is missing (apt-get install -y nginx)."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " They must run in CI.", pytrace=False)
        pytest.skip(message)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{what} did not answer at {url}")


def _replace(text: str, old: str, new: str) -> str:
    """Template one line of the shipped config; fail when the config no longer has it."""
    assert old in text, f"deploy/nginx.conf no longer contains {old!r}; update this test"
    return text.replace(old, new)


def templated_server_block(app_port: int, http_port: int, main_port: int) -> str:
    """The shipped server blocks on free loopback ports, without TLS and IPv6 listeners."""
    text = (DEPLOY / "nginx.conf").read_text()
    text = _replace(text, "server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = _replace(text, "listen [::]:80;", "")
    text = _replace(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{main_port};")
    text = _replace(text, "listen [::]:443 ssl http2;", "")
    lines = [line for line in text.splitlines() if not line.strip().startswith("ssl_")]
    return "\n".join(lines) + "\n"


def main_config(prefix: Path, server_block: Path) -> str:
    """A minimal nginx.conf around the shipped server block, everything under the prefix."""
    user = pwd.getpwuid(os.getuid()).pw_name
    run_as = f"user {user};\n" if os.getuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{run_as}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
{temp}
    include {server_block};
}}
"""


@dataclass
class Stack:
    url: str


def _app_environment(database: Path, public_url: str) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": f"sqlite:///{database}",
        "DONATE_ENV": "development",
        "PUBLIC_URL": public_url,
        "STRIPE_SECRET_KEY": "sk_test_proxy",
        "STRIPE_API_BASE": "http://127.0.0.1:9",
        "STRIPE_WEBHOOK_SECRET": "whsec_proxy_test",
        "TRUSTED_PROXIES": "1",
    }


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """nginx with the shipped config before gunicorn with the shipped config and the app."""
    nginx = _nginx_binary()
    prefix = tmp_path_factory.mktemp("nginx")
    app_port, http_port, main_port = _free_port(), _free_port(), _free_port()
    url = f"http://127.0.0.1:{main_port}"
    env = _app_environment(prefix / "donate.sqlite3", url)
    for command in (["db", "upgrade"], ["donate", "demo"]):
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *command],
            cwd=PROJECT_ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    gunicorn = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(DEPLOY / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{app_port}",
            "--access-logfile",
            str(prefix / "gunicorn-access.log"),
            "--error-logfile",
            str(prefix / "gunicorn-error.log"),
            "wsgi:app",
        ],
        cwd=PROJECT_ROOT,
        env=env,
    )
    server_block = prefix / "donate.conf"
    server_block.write_text(templated_server_block(app_port, http_port, main_port))
    config = prefix / "nginx.conf"
    config.write_text(main_config(prefix, server_block))
    checked = subprocess.run(
        [nginx, "-t", "-p", str(prefix), "-c", str(config)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    proxy = subprocess.Popen(
        [nginx, "-p", str(prefix), "-c", str(config), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(f"http://127.0.0.1:{app_port}/healthz", gunicorn, "gunicorn")
        _wait_for(f"{url}/healthz", proxy, "nginx")
        yield Stack(url=url)
    finally:
        _stop(proxy)
        _stop(gunicorn)


def test_the_proxy_serves_the_app_compressed(stack):
    response = requests.get(f"{stack.url}/embed.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    widget = requests.get(f"{stack.url}/w/{DEMO_SLUG}", timeout=10)
    assert widget.status_code == 200
    assert "raised" in widget.text


@pytest.mark.parametrize("path", ["/stripe/webhook", f"/give/{DEMO_SLUG}", "/admin/sign-in"])
def test_a_body_over_the_limit_gets_413_from_the_proxy(stack, path):
    response = requests.post(
        f"{stack.url}{path}",
        data=b"a" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert response.status_code == 413
    assert "This request is too large: at most 1 MB is accepted." in response.text


def _trickle(url: str, stop: threading.Event, connected: list[int]) -> None:
    """Announce a webhook body and send it one byte a second, never finishing."""
    host, port = url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(
                b"POST /stripe/webhook HTTP/1.1\r\nHost: proxy.test\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
            )
            connected.append(1)
            while not stop.wait(1):
                connection.sendall(b" ")
    except OSError:
        return


def test_slow_clients_trickling_webhook_bodies_do_not_stall_the_widget(stack):
    stop = threading.Event()
    connected: list[int] = []
    clients = [
        threading.Thread(target=_trickle, args=(stack.url, stop, connected), daemon=True)
        for _ in range(TRICKLING_CLIENTS)
    ]
    for client in clients:
        client.start()
    try:
        for _ in range(100):
            if len(connected) == TRICKLING_CLIENTS:
                break
            time.sleep(0.1)
        assert len(connected) == TRICKLING_CLIENTS
        time.sleep(2)  # every body is now arriving slowly
        answers = []
        for _ in range(30):
            response = requests.get(f"{stack.url}/w/{DEMO_SLUG}", timeout=ANSWER_WITHIN_SECONDS)
            answers.append(response.status_code)
        assert answers == [200] * 30
        assert all(client.is_alive() for client in clients)  # still trickling throughout
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=10)
