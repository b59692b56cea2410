"""The address a per-address limit counts: an IPv6 client's /64, not its own address.

One IPv6 subscriber (a phone, a home, a cloud machine) gets a whole /64 and may take any address
in it, a new one per request: counted per address, an IPv6 client had as many sign-ups, reset
mails, wrong passwords, uploads, searches and streams as it liked. IPv4 addresses (and IPv4 in
IPv6) count as themselves; anything else (a test client's name) as it is.
"""

from __future__ import annotations

import ipaddress

IPV6_PREFIX = 64


def address_key(host: str | None) -> str:
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)
