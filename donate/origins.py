"""Web origins: normalise what site owners type, and match a page's origin against them."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import idna

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
ANY_PORT = "*"


class OriginError(ValueError):
    """An origin we cannot use; the message tells the site owner what to type instead."""


def normalise_origin(text: str) -> str:
    """Turn 'HTTPS://News.Example.org:443/' into 'https://news.example.org'; ':*': any port."""
    raw = (text or "").strip()
    if not raw:
        raise OriginError("Enter an origin such as https://news.example.org.")
    any_port = raw.endswith(":*") or raw.endswith(":*/")
    candidate = raw[: raw.rindex(":*")] if any_port else raw
    parts = urlsplit(candidate)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise OriginError(f"{raw[:100]} must start with http:// or https://.")
    if parts.username or parts.password:
        raise OriginError(f"{raw[:100]} must not contain a user name or password.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise OriginError(
            f"{raw[:100]} is a page address; enter only its origin, scheme://host[:port]."
        )
    try:
        host = ascii_host(parts.hostname or "")
        port = parts.port
    except (UnicodeError, ValueError):
        raise OriginError(f"{raw[:100]} does not have a valid host name and port.") from None
    if not host or not (_HOST.match(host) or _is_ipv4(host)):
        raise OriginError(f"{raw[:100]} does not have a valid host name.")
    if any_port:
        return f"{scheme}://{host}:{ANY_PORT}"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def ascii_host(host: str) -> str:
    """The host as browsers resolve it: UTS-46 A-labels, so 'straße' is never read as 'strasse'.

    Python's own "idna" codec is IDNA 2003, which maps ß to ss and would let a look-alike
    host pass as an allowed one; the idna package with UTS-46 does what browsers do.
    """
    if not host or _is_ipv4(host) or host.isascii():
        return host.lower()
    return idna.encode(host, uts46=True).decode("ascii").lower()


def _is_ipv4(host: str) -> bool:
    pieces = host.split(".")
    return len(pieces) == 4 and all(p.isdigit() and 0 <= int(p) <= 255 for p in pieces)


def normalise_origins(texts: list[str]) -> list[str]:
    """Normalise a list, dropping duplicates and keeping the owner's order."""
    seen: dict[str, None] = {}
    for text in texts:
        if text.strip():
            seen[normalise_origin(text)] = None
    return list(seen)


def origin_of(url: str) -> str | None:
    """The normalised origin of a page URL, or None when it has none we could allow."""
    try:
        parts = urlsplit((url or "").strip())
        if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
            return None
        return normalise_origin(f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}")
    except (OriginError, ValueError):
        return None


def safe_page_url(url: str | None, allowed: list[str]) -> str | None:
    """A page URL on an allowed origin, rebuilt from its parts, or None.

    Refuses what browsers and Python's parser read differently (backslashes, control
    characters, a user name before the host), so a link we print goes where we checked.
    """
    candidate = (url or "").strip()
    if not candidate or len(candidate) > 2000 or "\\" in candidate:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if "@" in parts.netloc:
        return None
    origin = origin_of(candidate)
    if not origin_allowed(origin, allowed):
        return None
    # Rebuilt on the checked origin (A-labels, no default port), so the URL we hand on is the
    # one we matched, whatever the reader's page wrote.
    path = quote(parts.path or "/", safe=_URL_SAFE)
    query = f"?{quote(parts.query, safe=_URL_SAFE + '?')}" if parts.query else ""
    return f"{origin}{path}{query}"


# Characters left as they are when a path or query is re-serialised (RFC 3986 plus '%').
_URL_SAFE = "/%:@!$&'()*+,;=-._~"


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """Whether a page origin (scheme://host[:port]) is one of the allowed ones, ports wildcarded."""
    if not origin:
        return False
    try:
        origin = normalise_origin(origin)
    except OriginError:
        return False
    if origin in allowed:
        return True
    scheme_host = origin.rsplit(":", 1)[0] if origin.count(":") == 2 else origin
    return f"{scheme_host}:{ANY_PORT}" in allowed
