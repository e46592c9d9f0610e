"""Every parameter we send to Stripe has a name Stripe knows: mypy with stripe-python's types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_mypy_passes_on_the_payments_and_ledger_packages():
    """The ledger is checked with disallow_untyped_defs (pyproject.toml)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--follow-imports=silent",
            "--no-incremental",
            "donate/payments",
            "donate/ledger",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
