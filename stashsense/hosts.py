"""Which Host headers the server answers: Django's ALLOWED_HOSTS patterns plus `private`.

A home server is reached by its LAN address (`http://192.168.1.5:8000`), by a name only the LAN
resolves (`tower`, `nas.local`) or, inside Compose, by its service name. The `private` keyword
accepts all of those and nothing a public site could point at us: DNS rebinding needs a public
name (`evil.example` resolving to 192.168.1.5), and the browser then sends that name as Host.
"""

from __future__ import annotations

import ipaddress

from django.http.request import split_domain_port, validate_host

PRIVATE_HOSTS = "private"
# DJANGO_ALLOWED_HOSTS when it is unset: a home LAN works by IP and by name out of the box.
DEFAULT_ALLOWED_HOSTS = PRIVATE_HOSTS
# Names no public DNS registry hands out (RFC 6762 .local, RFC 8375 .home.arpa, ICANN's
# .internal) plus the customary .lan of home routers.
PRIVATE_SUFFIXES = (".local", ".lan", ".home.arpa", ".internal", ".localhost")


def domain_is_private(domain: str) -> bool:
    """An IP on a private, loopback or link-local network, or a name only a LAN resolves."""
    domain = domain.lower().rstrip(".")
    literal = domain[1:-1] if domain.startswith("[") and domain.endswith("]") else domain
    try:
        address = ipaddress.ip_address(literal)
    except ValueError:
        return bool(domain) and ("." not in domain or domain.endswith(PRIVATE_SUFFIXES))
    return address.is_private or address.is_loopback or address.is_link_local


def host_allowed(host: str, allowed: list[str]) -> bool:
    """Whether a Host header (`name[:port]`) passes `allowed` (Django's patterns + `private`)."""
    domain, _port = split_domain_port(host)
    if not domain:
        return False
    patterns = [pattern for pattern in allowed if pattern != PRIVATE_HOSTS]
    if validate_host(domain, patterns):
        return True
    return PRIVATE_HOSTS in allowed and domain_is_private(domain)


def django_allowed_hosts(allowed: list[str]) -> list[str]:
    """What Django's own check gets: with `private` it lets every host through to
    PrivateHostsMiddleware, which applies the whole list."""
    return ["*"] if PRIVATE_HOSTS in allowed else list(allowed)
