"""Who is asking for a hold: the visitor the hold policy counts by.

The API sits behind CloudFront (and an NLB that forwards TCP), so the peer of
a connection is a CloudFront edge, not the visitor. CloudFront appends the
viewer's address to ``X-Forwarded-For``; whatever a client wrote there itself
comes before it. So the visitor's address is the entry ``TRUSTED_PROXY_HOPS``
from the right (1 behind CloudFront, as werkzeug's ``ProxyFix(x_for=1)`` reads
it); with 0 (no proxy: local runs) it is the peer address. A request that
passed fewer proxies than that (the header is shorter) is judged by its peer.

Addresses are grouped the way one household or device holds them: an IPv4
address alone, an IPv6 address by its /64 (one customer's prefix; a device
picks new addresses inside it at will), an IPv4-mapped IPv6 as its IPv4.
Anything unparseable falls into one shared group. The store only sees a
digest of the group (``visitor_key``), kept for as long as the policy needs.

A per-browser id (a cookie) is not used: a client chooses it, so it could only
split a visitor into more visitors, never make one smaller.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from typing import Any

UNKNOWN = "unknown"


def client_address(environ: Mapping[str, Any], trusted_proxy_hops: int) -> str:
    """The visitor's address: ``trusted_proxy_hops`` from the right of X-Forwarded-For."""
    if trusted_proxy_hops:
        forwarded = [part.strip() for part in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= trusted_proxy_hops:
            return forwarded[-trusted_proxy_hops]
    return environ.get("REMOTE_ADDR") or UNKNOWN


def address_group(address: str) -> str:
    """The group an address counts in: IPv4 as is, IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address(address.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return UNKNOWN
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def visitor_key(environ: Mapping[str, Any], trusted_proxy_hops: int) -> str:
    """What the store files a visitor's holds under: a digest of the address group."""
    group = address_group(client_address(environ, trusted_proxy_hops))
    return hashlib.sha256(f"visitor:{group}".encode()).hexdigest()[:32]
