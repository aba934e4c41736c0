"""`OutboundClient`: the one object that sends requests, and its defaults."""

from __future__ import annotations

import json as jsonlib
import logging
import random
import socket
import time
from collections.abc import Callable, Collection, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import LocationValueError, SSLError
from urllib3.response import BaseHTTPResponse

from stashsense.http.download import DownloadProgress, download_attempt
from stashsense.http.errors import (
    BlockedUrlError,
    GraphQLQueryError,
    PermanentError,
    TransientError,
    _reason,
)
from stashsense.http.redirects import (
    REDIRECT_STATUSES,
    _has_credentials,
    _redirected,
    _without_credentials,
)
from stashsense.http.response import (
    HttpResponse,
    _graphql_messages,
    _graphql_messages_of,
    _raise_for_status,
    _read_limited,
)
from stashsense.http.streaming import StreamedResponse, _drop, _error_body
from stashsense.http.targets import (
    Resolver,
    _Target,
    _with_params,
    display_url,
    is_public_address,
    resolve_addresses,
)

if TYPE_CHECKING:
    from stashsense.ratelimit import RateLimiter

# The package's name, as before the split: log lines and level settings keep saying stashsense.http.
logger = logging.getLogger("stashsense.http")

DEFAULT_USER_AGENT = "StashSense/0.1 (+self-hosted)"
MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MIB
DEFAULT_MAX_REDIRECTS = 5

_Finished = TypeVar("_Finished")  # what a request ends with: a read response, a stream, a file


class OutboundClient:
    """Timeouts, size limit, retries, redirects, rate limit and SSRF guard for one caller.

    Thread-safe; keep one per source (its rate limiter is keyed by host inside that source).
    `timeout` is (connect, read) per socket operation; `total_timeout` bounds one whole
    response. `verify` is True (certifi's CAs), a CA bundle path (a Stash with its own CA) or
    False.
    With `ssrf_guard=True` only http/https URLs are fetched; with `allowed_hosts` only those
    hosts (any address, e.g. a Stash on the LAN; an entry `host:port` allows that port only,
    a bare `host` any port), otherwise only hosts whose every address is public. Either way the connection goes to the address that was checked.
    """

    def __init__(
        self,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float | tuple[float, float] = (5, 30),
        max_bytes: int = DEFAULT_MAX_BYTES,
        retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        rate_limiter: RateLimiter | None = None,
        ssrf_guard: bool = False,
        allowed_hosts: Collection[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        resolver: Resolver = resolve_addresses,
        jitter: Callable[[], float] = random.random,
        pool_size: int = 8,
        verify: bool | str = True,
        total_timeout: float = 120.0,
    ) -> None:
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.user_agent = user_agent
        self.timeout = urllib3.Timeout(connect=connect, read=read)
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.rate_limiter = rate_limiter
        self.ssrf_guard = ssrf_guard or allowed_hosts is not None
        self.allowed_hosts = (
            None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        )
        self.max_redirects = max_redirects
        self._sleep = sleep
        self._resolver = resolver
        self._jitter = jitter
        self.verify = verify
        self._pools = urllib3.PoolManager(num_pools=32, maxsize=pool_size, **_tls_options(verify))

    def close(self) -> None:
        self._pools.clear()

    def __enter__(self) -> OutboundClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public API -----------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        max_bytes: int | None = None,
        retries: int | None = None,
    ) -> HttpResponse:
        return self.request(
            "GET", url, headers=headers, params=params, max_bytes=max_bytes, retries=retries
        )

    def post(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        retries: int | None = None,
    ) -> HttpResponse:
        return self.request(
            "POST",
            url,
            headers=headers,
            params=params,
            json=json,
            data=data,
            max_bytes=max_bytes,
            retries=retries,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        retries: int | None = None,
    ) -> HttpResponse:
        """Send one request, retrying transient failures; 2xx/3xx come back, the rest raise.

        `retries` overrides the client's count for this call (pass 0 for non-idempotent
        writes such as GraphQL mutations).
        """
        method = method.upper()
        url = _with_params(url, params)
        body, request_headers = self._prepare(headers, json, data)
        limit = self.max_bytes if max_bytes is None else max_bytes
        attempts = 1 + (self.retries if retries is None else retries)
        return self._retrying(
            attempts,
            f"{method} {display_url(url)}",
            lambda: self._follow_redirects(
                method, url, request_headers, body, partial(self._read_all, limit=limit)
            ),
        )

    def graphql(
        self,
        url: str,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        operation_name: str | None = None,
        retries: int | None = None,
    ) -> dict[str, Any]:
        """POST a GraphQL document and return its `data`; `GraphQLQueryError` on `errors`."""
        payload: dict[str, Any] = {"query": query, "variables": dict(variables or {})}
        if operation_name:
            payload["operationName"] = operation_name
        merged = {"Accept": "application/json", **(headers or {})}
        try:
            response = self.post(url, json=payload, headers=merged, retries=retries)
        except PermanentError as error:
            # gqlgen answers parse/validation failures with 422 (graphql-over-http says 400)
            # and a JSON error list: surface those messages, not a bare status code.
            messages = _graphql_messages_of(error.response) if error.status in (400, 422) else []
            if messages:
                raise GraphQLQueryError(messages, url=url) from error
            raise
        body = response.json()
        if not isinstance(body, dict):
            raise PermanentError(f"GraphQL answer from {display_url(url)} is not an object")
        messages = _graphql_messages(body)
        if messages:
            raise GraphQLQueryError(messages, url=url)
        data = body.get("data")
        if not isinstance(data, dict):
            raise PermanentError(f"GraphQL answer from {display_url(url)} has no data", url=url)
        return data

    def stream(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
    ) -> StreamedResponse:
        """GET `url` with its body left on the wire, for bodies too large to hold in memory.

        One attempt (the caller decides what a retry means, e.g. resuming); redirects, the
        SSRF guard, credentials across origins, the rate limit and status errors as `request`.
        The body comes undecoded (`Accept-Encoding: identity`) so offsets are the resource's.
        Close it, or use it as a context manager.
        """
        _, request_headers = self._prepare({"Accept-Encoding": "identity", **(headers or {})})
        limit = self.max_bytes if max_bytes is None else max_bytes
        return self._follow_redirects(
            "GET", url, request_headers, None, partial(self._streamed, limit=limit)
        )

    def download(
        self,
        url: str,
        destination: Path,
        *,
        progress: DownloadProgress | None = None,
        max_bytes: int | None = None,
    ) -> Path:
        """Stream `url` into `destination`, resuming `<destination>.part` with HTTP Range.

        A cut is a transient error: the next attempt (with the client's backoff) asks for the
        rest. `max_bytes` (default: the client's limit) bounds the whole file.
        """
        limit = self.max_bytes if max_bytes is None else max_bytes
        return self._retrying(
            1 + self.retries,
            f"download of {display_url(url)}",
            lambda: download_attempt(self, url, destination, limit=limit, progress=progress),
        )

    # -- one attempt: redirects, checks, streaming ------------------------------------------

    def _prepare(
        self,
        headers: Mapping[str, str] | None,
        json: Any = None,
        data: bytes | Mapping[str, str] | None = None,
    ) -> tuple[bytes | None, urllib3.HTTPHeaderDict]:
        merged = urllib3.HTTPHeaderDict(
            {"User-Agent": self.user_agent, "Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
        )
        body: bytes | None = None
        if json is not None:
            body = jsonlib.dumps(json).encode("utf-8")
            merged["Content-Type"] = "application/json"
        elif isinstance(data, Mapping):
            body = urlencode(data).encode("ascii")
            merged["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body = data
        for name, value in (headers or {}).items():
            merged[name] = value
        return body, merged

    def _follow_redirects(
        self,
        method: str,
        url: str,
        headers: urllib3.HTTPHeaderDict,
        body: bytes | None,
        finish: Callable[[BaseHTTPResponse, _Target, bool], _Finished],
    ) -> _Finished:
        """Send, following redirects hop by hop through the URL checks; `finish` reads the
        final answer (told whether credentials went with it), redirect bodies are dropped."""
        target = self._check_url(url)
        for _hop in range(self.max_redirects + 1):
            if self.rate_limiter is not None:
                self.rate_limiter.acquire(target.host)
            started = time.monotonic()
            raw = self._open(method, target, headers, body)
            location = raw.headers.get("Location")
            final = raw.status not in REDIRECT_STATUSES or not location
            try:
                if final:
                    return finish(raw, target, _has_credentials(headers))
                _drop(raw)
            finally:
                logger.debug(
                    "%s %s -> %s (%d bytes read, %.0f ms)",
                    method,
                    display_url(target.url),
                    raw.status,
                    raw.tell(),
                    (time.monotonic() - started) * 1000,
                )
            next_target = self._check_url(urljoin(target.url, location))
            method, body, headers = _redirected(raw.status, method, body, headers)
            if next_target.origin != target.origin:
                headers = _without_credentials(headers)
            target = next_target
        raise PermanentError(f"more than {self.max_redirects} redirects from {display_url(url)}")

    def _check_url(self, url: str) -> _Target:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError as error:
            raise PermanentError(f"invalid URL {display_url(url)}", url=url) from error
        if scheme not in ("http", "https"):
            raise BlockedUrlError(f"only http(s) URLs are fetched, not {scheme!r}", url=url)
        if not host:
            raise PermanentError(f"URL without host: {display_url(url)}", url=url)
        if parts.username or parts.password:
            raise BlockedUrlError("URLs with credentials are refused", url=url)
        port = port or (443 if scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connect_host = self._checked_address(host, port, url) if self.ssrf_guard else host
        return _Target(url, scheme, host, port, path, connect_host)

    def _checked_address(self, host: str, port: int, url: str) -> str:
        """The address to connect to, after the allow-list or the public-address check."""
        allow_listed = self.allowed_hosts is not None and (
            host in self.allowed_hosts or _host_port(host, port) in self.allowed_hosts
        )
        if self.allowed_hosts is not None and not allow_listed:
            raise BlockedUrlError(f"{_host_port(host, port)} is not on the allow-list", url=url)
        try:
            addresses = self._resolver(host, port)
        except socket.gaierror as error:
            if error.errno == socket.EAI_AGAIN:
                raise TransientError(f"cannot resolve {host} (try again)", url=url) from error
            raise PermanentError(f"cannot resolve {host}", url=url) from error
        if not addresses:
            raise PermanentError(f"cannot resolve {host}", url=url)
        if not allow_listed and not all(is_public_address(a) for a in addresses):
            raise BlockedUrlError(f"{host} resolves to a non-public address", url=url)
        return addresses[0]

    def _read_all(
        self, raw: BaseHTTPResponse, target: _Target, with_credentials: bool, *, limit: int
    ) -> HttpResponse:
        """The whole body under the size limit and the total timeout; error statuses raise."""
        started = time.monotonic()
        try:
            content = _read_limited(raw, limit, target.url, started + self.total_timeout)
        finally:
            raw.release_conn()
        response = HttpResponse(
            status=raw.status,
            headers=urllib3.HTTPHeaderDict(raw.headers),
            content=content,
            url=target.url,
        )
        return _raise_for_status(response, carried_credentials=with_credentials)

    def _streamed(
        self, raw: BaseHTTPResponse, target: _Target, with_credentials: bool, *, limit: int
    ) -> StreamedResponse:
        """The answer with its body unread; an error status raises with the start of its body."""
        if raw.status >= 400:
            response = HttpResponse(
                status=raw.status,
                headers=urllib3.HTTPHeaderDict(raw.headers),
                content=_error_body(raw),
                url=target.url,
            )
            _raise_for_status(response, carried_credentials=with_credentials)
        return StreamedResponse(raw, url=target.url, limit=limit)

    def _retrying(self, attempts: int, what: str, call: Callable[[], _Finished]) -> _Finished:
        """`call` until it does not raise a transient error, at most `attempts` times."""
        for attempt in range(attempts):
            try:
                return call()
            except TransientError as error:
                if attempt + 1 >= attempts:
                    raise
                delay = self._backoff_delay(attempt, error.retry_after)
                logger.warning("retrying %s in %.2fs after: %s", what, delay, error)
                self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _open(
        self,
        method: str,
        target: _Target,
        headers: urllib3.HTTPHeaderDict,
        body: bytes | None,
    ) -> BaseHTTPResponse:
        pool_kwargs: dict[str, Any] = {}
        if target.scheme == "https" and target.connect_host != target.host:
            # Pinned to a checked IP: SNI and the certificate check keep the real name.
            pool_kwargs = {"server_hostname": target.host}
            if self.verify is not False:
                pool_kwargs["assert_hostname"] = target.host
        sent = urllib3.HTTPHeaderDict(headers)
        sent["Host"] = target.host_header
        try:
            pool = self._pools.connection_from_host(
                target.connect_host, target.port, target.scheme, pool_kwargs=pool_kwargs
            )
            return pool.urlopen(
                method,
                target.path,
                body=body,
                headers=sent,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                timeout=self.timeout,
            )
        except (SSLError, LocationValueError) as error:
            raise PermanentError(
                f"{type(error).__name__} for {display_url(target.url)}: {_reason(error)}",
                url=target.url,
            ) from error
        except (Urllib3Error, OSError) as error:
            raise TransientError(
                f"{type(error).__name__} for {display_url(target.url)}: {_reason(error)}",
                url=target.url,
            ) from error

    def _backoff_delay(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After when the server gave one, else exponential backoff with full jitter."""
        if retry_after is not None:
            return min(retry_after, self.backoff_max)
        ceiling = min(self.backoff_max, self.backoff_base * (2**attempt))
        return self._jitter() * ceiling


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _tls_options(verify: bool | str) -> dict[str, Any]:
    """Certificates checked against certifi's bundle, a given CA file, or (False) not at all."""
    if verify is False:
        return {"cert_reqs": "CERT_NONE", "assert_hostname": False}
    if isinstance(verify, str):
        return {"cert_reqs": "CERT_REQUIRED", "ca_certs": verify}
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi ships with requests
        return {"cert_reqs": "CERT_REQUIRED"}
    return {"cert_reqs": "CERT_REQUIRED", "ca_certs": certifi.where()}
