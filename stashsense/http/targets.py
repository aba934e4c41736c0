"""Where a request goes: URL helpers, name resolution, the public-address check, a checked hop."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class _Target:
    """One checked hop: where to connect and what to send as Host."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    connect_host: str

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default_port = 443 if self.scheme == "https" else 80
        return name if self.port == default_port else f"{name}:{self.port}"


def display_url(url: str) -> str:
    """The URL without query string or user info, safe to log (queries may hold tokens)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # an invalid port: show none rather than fail while reporting
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def host_of(url: str) -> str:
    return urlsplit(url).hostname or url


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in: what credentials are bound to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return (
        scheme,
        (parts.hostname or "").lower(),
        parts.port or (443 if scheme == "https" else 80),
    )


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), in resolver order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses (IPv4-mapped/6to4 are unwrapped)."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    refused = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
    return ip.is_global and not refused


def _with_params(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    pairs = [(key, value) for key, value in params.items() if value is not None]
    separator = "&" if urlsplit(url).query else "?"
    return f"{url}{separator}{urlencode(pairs, doseq=True)}" if pairs else url
