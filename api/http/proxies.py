"""Who a request comes from, behind trusted reverse proxies: ``X-Forwarded-For`` and the
per-client keys of rate limits.

Behind a reverse proxy or CDN every request arrives from the proxy's address, so a limit per
socket address would be one limit shared by every reader. ``X-Forwarded-For`` is believed
only when the socket peer is one of the configured trusted proxies; then the client is the
right-most address in the header that is not itself a trusted proxy (entries further left
can be forged by the client).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from litestar import Request

__all__ = ["Network", "client_address_resolver", "parse_networks", "rate_limit_key"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` -> networks; raises ValueError naming a bad entry."""
    networks = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"ACTIONDIR_TRUSTED_PROXIES: {item!r} is not an IP address or network") from None
    return tuple(networks)


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def rate_limit_key(address: str) -> str:
    """One key per client: an IPv4 address, or an IPv6 /64 (one subscriber is usually given a
    whole /64, so keying on single addresses would give them 2**64 limits). IPv4-mapped IPv6 is
    keyed as the IPv4 address; anything unparsable is kept as it is."""
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_address_resolver(trusted: tuple[Network, ...]) -> Callable[[Request], str]:
    """The identifier litestar's rate limiter keys on (see ``rate_limit_key``)."""

    def client_address(request: Request) -> str:
        peer = request.client.host if request.client else "unknown"
        if not trusted or not _is_trusted(peer, trusted):
            return rate_limit_key(peer)
        forwarded = request.headers.get("x-forwarded-for", "")
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not _is_trusted(hop, trusted):
                return rate_limit_key(hop)
        return rate_limit_key(peer)

    return client_address
