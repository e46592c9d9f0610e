"""A site's home page address, as the goal page links back to it: http or https, nothing else."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

HOME_URL_MAX_LENGTH = 500
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f<>\"'\\]")


class HomeUrlError(ValueError):
    """An address the goal page must not link to; the message is for the site's owner."""


def normalise_home_url(raw: str | None) -> str | None:
    """The address to store, None when left empty; refuse anything but a plain http(s) URL."""
    text = (raw or "").strip()
    if not text:
        return None
    if len(text) > HOME_URL_MAX_LENGTH:
        raise HomeUrlError(f"Keep the home page address under {HOME_URL_MAX_LENGTH} characters.")
    if _UNSAFE.search(text):
        raise HomeUrlError("The home page address must not contain spaces, quotes or brackets.")
    try:
        parts = urlsplit(text)
    except ValueError:  # such as an unclosed [ of an IPv6 address
        raise HomeUrlError("The home page address is not a valid web address.") from None
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:  # a port that is not a number, or past 65535
        port_ok = False
    if parts.scheme.lower() not in ("http", "https"):
        raise HomeUrlError(
            "The home page address must start with https:// or http://, "
            "such as https://news.example.org/."
        )
    if not parts.hostname or not port_ok:
        raise HomeUrlError("The home page address needs a host name, such as news.example.org.")
    if parts.username is not None or parts.password is not None:
        raise HomeUrlError("The home page address must not carry a user name or password.")
    return parts._replace(scheme=parts.scheme.lower()).geturl()
