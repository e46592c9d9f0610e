"""The code CI ships is typed and formatted: mypy, ruff format and ruff check over the project.

mypy's settings (pyproject.toml) refuse unannotated functions, and stripe-python's types check
every parameter we send to Stripe by name.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LINTED = ["donate", "sandbox", "tests", "bench"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a module of the project's Python from the project root, capturing its report."""
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_mypy_passes_on_the_app_and_the_sandbox():
    result = _run("mypy", "--no-incremental", "donate", "sandbox")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_ruff_format_would_change_nothing():
    result = _run("ruff", "format", "--check", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_check_finds_nothing():
    result = _run("ruff", "check", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr
