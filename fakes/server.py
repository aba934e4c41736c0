"""A real HTTP/1.1 server on 127.0.0.1 for tests, with request counting and fault injection.

    with FakeHttpServer() as server:
        server.add_route("GET", "/hello", CannedResponse(200, b"hi"))
        server.fail_next(2, status=429, retry_after=1)    # then the route answers
        ...
        assert server.request_count("/hello") == 3

Subclasses (`FakeStashBox`, `FakeThePornDB`) override `handle`. Faults apply before `handle`;
each request consumes at most one: the earliest queued fault whose path matches. So
`fail_next(1); truncate_next(1)` gives a 500, then a cut-short body, then normal answers.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the fake saw it; header names are lower-case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    peer_port: int = 0  # the client's port: requests with one port came over one connection

    def json(self) -> Any:
        return json.loads(self.body)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class CannedResponse:
    """What the fake sends back. `chunked` streams the body without a Content-Length."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> CannedResponse:
        return cls(
            status, json.dumps(payload).encode(), {"Content-Type": "application/json", **headers}
        )


Handler = Callable[[RecordedRequest], CannedResponse]


@dataclass
class _Fault:
    kind: str  # "fail", "slow", "truncate", "drip"
    remaining: int
    path_prefix: str | None
    response: CannedResponse | None = None
    delay: float = 0.0

    def matches(self, request: RecordedRequest) -> bool:
        return self.remaining > 0 and (
            self.path_prefix is None or request.path.startswith(self.path_prefix)
        )


class FakeHttpServer:
    """A threaded `http.server` on a random port of 127.0.0.1, run by a context manager."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._routes: dict[tuple[str, str], Handler] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class_for(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self.scheme = "http"
        if ssl_context is not None:  # serve HTTPS (e.g. to test certificate checks)
            self._httpd.socket = ssl_context.wrap_socket(self._httpd.socket, server_side=True)
            self.scheme = "https"
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:41234` (known before `start`)."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"{type(self).__name__}:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- routes ------------------------------------------------------------------------------

    def add_route(self, method: str, path: str, response: CannedResponse | Handler) -> None:
        """Answer `method path` (exact path, query ignored) with a canned or computed response."""
        handler = response if callable(response) else (lambda _request: response)
        self._routes[(method.upper(), path)] = handler

    def handle(self, request: RecordedRequest) -> CannedResponse:
        """The normal answer to a request (subclasses override); 404 for unknown routes."""
        handler = self._routes.get((request.method, request.path))
        return handler(request) if handler else CannedResponse(404, b"not found")

    # -- faults ------------------------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        body: bytes | str | Mapping[str, Any] = b"",
        retry_after: float | str | None = None,
        headers: Mapping[str, str] | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next `count` requests (under `path`, if given) with `status` instead.

        `retry_after` sets the Retry-After header (seconds, or an HTTP-date string).
        """
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = (
                retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
            )
        if isinstance(body, Mapping):
            payload = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        else:
            payload = body.encode() if isinstance(body, str) else body
        canned = CannedResponse(status, payload, all_headers)
        self._add_fault(_Fault("fail", count, path, response=canned))

    def rate_limit_next(
        self, count: int = 1, *, retry_after: float | str | None = 1, path: str | None = None
    ) -> None:
        """A burst of `count` 429 answers, in the upstream's own 429 body shape."""
        self.fail_next(
            count, status=429, body=self.rate_limit_body(), retry_after=retry_after, path=path
        )

    def rate_limit_body(self) -> bytes | Mapping[str, Any]:
        return b""

    def slow_next(self, count: int = 1, *, seconds: float, path: str | None = None) -> None:
        """Wait `seconds` before answering the next `count` requests (then answer normally)."""
        self._add_fault(_Fault("slow", count, path, delay=seconds))

    def drip_next(
        self, count: int = 1, *, seconds_per_byte: float, path: str | None = None
    ) -> None:
        """Send the next `count` bodies one byte at a time, `seconds_per_byte` apart."""
        self._add_fault(_Fault("drip", count, path, delay=seconds_per_byte))

    def truncate_next(self, count: int = 1, *, path: str | None = None) -> None:
        """Send only half of the next `count` bodies (full Content-Length), then hang up."""
        self._add_fault(_Fault("truncate", count, path))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # -- what was asked ----------------------------------------------------------------------

    def request_count(self, path: str | None = None, *, method: str | None = None) -> int:
        """Requests seen so far, all or those to `path` (a prefix ending in `/` or exact)."""
        return len(self.requests_to(path, method=method))

    def requests_to(
        self, path: str | None = None, *, method: str | None = None
    ) -> list[RecordedRequest]:
        with self._lock:
            seen = list(self.requests)
        return [
            request
            for request in seen
            if (path is None or _path_matches(request.path, path))
            and (method is None or request.method == method.upper())
        ]

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- internals ---------------------------------------------------------------------------

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, request: RecordedRequest) -> _Fault | None:
        """Record the request and consume the earliest queued fault that matches it."""
        with self._lock:
            self.requests.append(request)
            fault = next((f for f in self._faults if f.matches(request)), None)
            if fault is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
        return fault

    def _respond(self, request: RecordedRequest) -> tuple[CannedResponse, _Fault | None]:
        """The response for a request and the fault that shapes how it is written, if any."""
        fault = self._take_fault(request)
        if fault is not None and fault.kind == "fail" and fault.response is not None:
            return fault.response, None
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay)
        return self.handle(request), fault


def _path_matches(actual: str, wanted: str) -> bool:
    return actual == wanted or (wanted.endswith("/") and actual.startswith(wanted))


def _handler_class_for(server: FakeHttpServer) -> type[BaseHTTPRequestHandler]:
    class _RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read `server.requests` instead."""

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            request = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
                peer_port=int(self.client_address[1]),
            )
            fault: _Fault | None = None
            try:
                response, fault = server._respond(request)
            except Exception as error:  # a bug in a fake must show up, not hang the client
                response = CannedResponse(500, repr(error).encode())
            try:
                self._write(response, fault)
            except OSError:  # the client hung up (timeouts, size limits): nothing to do
                self.close_connection = True

        def _write(self, response: CannedResponse, fault: _Fault | None) -> None:
            truncate = fault is not None and fault.kind == "truncate"
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            body = b"" if self.command == "HEAD" else response.body
            if response.chunked and not truncate:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(body), 8192):
                    piece = body[start : start + 8192]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            self.send_header("Content-Length", str(len(response.body)))
            if truncate:
                self.send_header("Connection", "close")
                self.close_connection = True
                body = body[: len(body) // 2]
            self.end_headers()
            if fault is not None and fault.kind == "drip":
                for index in range(len(body)):
                    self.wfile.write(body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(fault.delay)
                return
            self.wfile.write(body)
            self.wfile.flush()

    return _RequestHandler
