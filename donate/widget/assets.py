"""The widget's own CSS and JavaScript, read once, with the hashes the CSP allows them by."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def csp_hash(text: str) -> str:
    """The CSP source expression that allows exactly this inline script or style."""
    digest = hashlib.sha256(text.encode()).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class InlineAsset:
    """A static file's text, inlined into documents so the widget costs one request."""

    text: str
    csp_hash: str


def _compact(source: str) -> str:
    """Drop indentation, blank lines and whole-line // comments: bytes every frame would carry."""
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


@lru_cache(maxsize=16)
def inline_asset(name: str) -> InlineAsset:
    """Read donate/static/NAME once per process, compacted for inlining."""
    text = _compact((STATIC_DIR / name).read_text(encoding="utf-8"))
    return InlineAsset(text=text, csp_hash=csp_hash(text))


@lru_cache(maxsize=4)
def static_bytes(name: str) -> bytes:
    """A static file served as is (the embed loader), read once per process."""
    return (STATIC_DIR / name).read_bytes()
