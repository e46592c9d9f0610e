"""Fail when requirements.lock no longer satisfies pyproject.toml, so an unlocked install never happens."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCKED_EXTRAS = ("postgres", "redis", "test")


def wanted() -> list[Requirement]:
    """Every requirement of the project and of the extras the lock covers."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    build = project["build-system"]["requires"]
    main = project["project"]["dependencies"]
    extras = project["project"].get("optional-dependencies", {})
    missing = set(extras) - set(LOCKED_EXTRAS)
    if missing:
        sys.exit(f"pyproject.toml has extras the lock does not cover: {sorted(missing)}")
    names = [*build, *main, *(req for extra in LOCKED_EXTRAS for req in extras.get(extra, []))]
    return [Requirement(text) for text in names]


def pinned() -> dict[str, tuple[str, bool]]:
    """Name -> (version, has hashes) for each pin in requirements.lock."""
    text = (ROOT / "requirements.lock").read_text()
    pins: dict[str, tuple[str, bool]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\;]+)", block)
        if match:
            pins[canonicalize_name(match[1])] = (match[2], "--hash=sha256:" in block)
    return pins


def main() -> int:
    pins = pinned()
    problems = []
    for requirement in wanted():
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement} is not in requirements.lock")
            continue
        version, hashed = pins[name]
        if not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement} is not met by the locked {name}=={version}")
        if not hashed:
            problems.append(f"{name}=={version} has no hash in requirements.lock")
    unhashed = [name for name, (_, hashed) in pins.items() if not hashed]
    problems += [f"{name} has no hash in requirements.lock" for name in unhashed]
    if problems:
        print("requirements.lock does not match pyproject.toml; run `make lock`:", file=sys.stderr)
        for problem in sorted(set(problems)):
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"requirements.lock: {len(pins)} pinned packages with hashes, matching pyproject.toml.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
