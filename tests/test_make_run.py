"""`make run` as a newcomer types it: on another port, the app knows its own address."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _make_run(tmp_path: Path, port: int, **extra_env: str) -> str:
    """Start `make run PORT=port`, wait for the demo widget, return its frame-ancestors."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        # A key of its own: the local sandbox is not started, the app alone is under test.
        "STRIPE_SECRET_KEY": "sk_test_make_run",
        **extra_env,
    }
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}", "HOST=127.0.0.1"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read().decode()
            try:
                response = requests.get(f"http://127.0.0.1:{port}/w/local-news", timeout=2)
                return response.headers["Content-Security-Policy"]
            except requests.RequestException:
                time.sleep(0.3)
        pytest.fail("make run did not serve the demo widget within two minutes")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    raise AssertionError("unreachable")


def test_make_run_on_another_port_makes_public_url_follow_it(tmp_path):
    port = _free_port()
    policy = _make_run(tmp_path, port)
    # Our own origin may frame the widget (the dashboard's preview): it is where we really are.
    assert f"http://127.0.0.1:{port}" in policy
    assert "http://127.0.0.1:5000" not in policy


def test_a_public_url_that_is_set_is_kept(tmp_path):
    port = _free_port()
    policy = _make_run(tmp_path, port, PUBLIC_URL="https://give.example.org")
    assert "https://give.example.org" in policy
    assert f"http://127.0.0.1:{port}" not in policy


def test_the_first_install_says_what_it_is_doing(tmp_path):
    """Before the minute or two of quiet pip work, the newcomer is told what is happening."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "calls.log"
    stub = venv / "bin" / "python"
    stub.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    stub.chmod(0o755)
    result = subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", f"{venv}/.installed-stamp"],
        cwd=PROJECT_ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    output = result.stdout
    announced = output.index("Installing the locked dependencies")
    assert announced < output.index("pip install")
    assert "a minute or two" in output
    assert "Dependencies installed." in output
    assert "-r requirements.lock" in log.read_text()
