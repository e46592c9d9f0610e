"""Who a give request counts against: its address, its network and its goal.

Every request counts against its own address. Only gifts that were not refused (a Checkout was
opened, or Stripe failed) count against the goal's shared ceiling and against the sending
network's share of it, so junk cannot use up a goal's ceiling, and many addresses of one network
(a /24 for IPv4, a /48 for IPv6) together get no more than one network's share.
"""

from __future__ import annotations

import ipaddress

from flask import Response, request

IPV4_NETWORK_PREFIX = 24
IPV6_NETWORK_PREFIX = 48


def client_address() -> str:
    """The donor's address (after the trusted proxies), IPv4-mapped IPv6 written as IPv4."""
    raw = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def network_of(raw: str) -> str:
    """The network an address belongs to for rate limits: its /24 (IPv4) or /48 (IPv6)."""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = IPV4_NETWORK_PREFIX if address.version == 4 else IPV6_NETWORK_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _slug() -> str:
    return (request.view_args or {}).get("slug", "")


def per_address_and_goal() -> str:
    return f"give:{client_address()}:{_slug()}"


def per_network_and_goal() -> str:
    return f"give-network:{network_of(client_address())}:{_slug()}"


def per_goal() -> str:
    return f"give-goal:{_slug()}"


def was_not_refused(response: Response) -> bool:
    """A gift that got through our checks (to Stripe, whatever Stripe said) uses the ceiling."""
    return response.status_code < 400 or response.status_code >= 500
