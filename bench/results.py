"""Keep bench/RESULTS.md up to date: each benchmark replaces its own section."""

from __future__ import annotations

import platform
import re
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = (
    "# Benchmark results\n\nProduced by the scripts in `bench/`; each run replaces its section.\n"
)


def write_section(title: str, body: str) -> None:
    """Replace (or add) the section with this title."""
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    stamp = (
        f"_Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, "
        f"Python {platform.python_version()}, {_cores()} cores._"
    )
    section = f"## {title}\n\n{stamp}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = (
        pattern.sub(section + "\n", text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section
    )
    RESULTS.write_text(text)


def _cores() -> int:
    import os

    return os.cpu_count() or 1
