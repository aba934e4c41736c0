"""The outbound chokepoint against real local HTTP servers (no patching of the client)."""

from __future__ import annotations

import logging
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from fakes import CannedResponse, FakeHttpServer
from stashsense.http import (
    AuthError,
    BlockedUrlError,
    GraphQLQueryError,
    NotFoundError,
    OutboundClient,
    PermanentError,
    ResponseTooLargeError,
    TransientError,
    is_public_address,
    parse_retry_after,
)

SECRET = "super-secret-key-123"


class RecordingSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class RecordingLimiter:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def acquire(self, key: str) -> None:
        self.keys.append(key)


@pytest.fixture
def server() -> Iterator[FakeHttpServer]:
    with FakeHttpServer() as fake:
        fake.add_route("GET", "/ok", CannedResponse(200, b"hello", {"X-Thing": "1"}))
        fake.add_route("POST", "/ok", CannedResponse(200, b"posted"))
        yield fake


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def client(sleep: RecordingSleep) -> OutboundClient:
    return OutboundClient(
        timeout=(2, 2), backoff_base=0.01, backoff_max=5, sleep=sleep, jitter=lambda: 1.0
    )


def test_get_returns_status_headers_body_and_final_url(
    server: FakeHttpServer, client: OutboundClient
) -> None:
    response = client.get(f"{server.url}/ok", params={"a": 1, "skip": None})

    assert (response.status, response.content) == (200, b"hello")
    assert response.headers["x-thing"] == "1"
    assert response.url == f"{server.url}/ok?a=1"
    assert server.requests[0].query == {"a": ["1"]}


def test_every_request_carries_the_stash_sense_user_agent(
    server: FakeHttpServer, client: OutboundClient
) -> None:
    client.post(f"{server.url}/ok", json={"x": 1})

    seen = server.requests[0]
    assert seen.headers["user-agent"] == "StashSense/0.1 (+self-hosted)"
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {"x": 1}


def test_a_burst_of_429s_is_retried_after_the_retry_after_seconds(
    server: FakeHttpServer, client: OutboundClient, sleep: RecordingSleep
) -> None:
    server.rate_limit_next(3, retry_after=2)

    assert client.get(f"{server.url}/ok").content == b"hello"
    assert sleep.waits == [2, 2, 2]
    assert server.request_count("/ok") == 4


def test_a_retry_after_http_date_is_honoured_but_capped(
    server: FakeHttpServer, client: OutboundClient, sleep: RecordingSleep
) -> None:
    server.fail_next(
        1,
        status=503,
        retry_after=format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True),
    )

    client.get(f"{server.url}/ok")

    assert sleep.waits == [5]  # backoff_max


def test_server_errors_back_off_exponentially_with_full_jitter_up_to_the_cap(
    server: FakeHttpServer, sleep: RecordingSleep
) -> None:
    ceilings: list[float] = []
    client = OutboundClient(
        retries=4, backoff_base=0.01, backoff_max=0.03, sleep=sleep, jitter=lambda: 0.5
    )
    server.fail_next(4, status=500)

    client.get(f"{server.url}/ok")

    ceilings = [wait / 0.5 for wait in sleep.waits]
    assert ceilings == pytest.approx([0.01, 0.02, 0.03, 0.03])


def test_transient_errors_surface_after_the_last_retry(
    server: FakeHttpServer, sleep: RecordingSleep
) -> None:
    client = OutboundClient(retries=2, backoff_base=0.01, sleep=sleep)
    server.fail_next(10, status=502)

    with pytest.raises(TransientError) as raised:
        client.get(f"{server.url}/ok")

    assert raised.value.status == 502
    assert server.request_count("/ok") == 3
    assert len(sleep.waits) == 2


@pytest.mark.parametrize(
    ("status", "error"), [(404, NotFoundError), (410, NotFoundError), (400, PermanentError)]
)
def test_other_client_errors_are_permanent_and_not_retried(
    server: FakeHttpServer, client: OutboundClient, status: int, error: type[Exception]
) -> None:
    server.fail_next(1, status=status)

    with pytest.raises(error):
        client.get(f"{server.url}/ok")

    assert server.request_count("/ok") == 1


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_key_is_an_auth_error_naming_the_host_but_never_the_key(
    server: FakeHttpServer, client: OutboundClient, status: int
) -> None:
    server.fail_next(1, status=status)

    with pytest.raises(AuthError) as raised:
        client.get(f"{server.url}/ok", headers={"ApiKey": SECRET})

    assert str(raised.value) == f"bad API key for 127.0.0.1 (HTTP {status})"
    assert server.request_count() == 1


def test_a_truncated_body_is_transient_and_retried(
    server: FakeHttpServer, client: OutboundClient, sleep: RecordingSleep
) -> None:
    server.truncate_next(1)

    assert client.get(f"{server.url}/ok").content == b"hello"
    assert server.request_count("/ok") == 2
    assert len(sleep.waits) == 1


def test_a_slow_answer_times_out_and_is_retried(server: FakeHttpServer) -> None:
    client = OutboundClient(timeout=(1, 0.2), backoff_base=0.01, sleep=lambda _s: None)
    server.slow_next(1, seconds=0.6)

    assert client.get(f"{server.url}/ok").content == b"hello"
    assert server.request_count("/ok") == 2


def test_a_server_dripping_bytes_hits_the_total_timeout(server: FakeHttpServer) -> None:
    client = OutboundClient(timeout=(1, 1), total_timeout=0.2, retries=0)
    server.drip_next(1, seconds_per_byte=0.1)

    with pytest.raises(TransientError, match="too slowly"):
        client.get(f"{server.url}/ok")


def test_a_body_over_the_limit_is_refused_while_streaming_without_content_length(
    server: FakeHttpServer, client: OutboundClient
) -> None:
    server.add_route("GET", "/big", CannedResponse(200, b"x" * 300_000, chunked=True))

    with pytest.raises(ResponseTooLargeError):
        client.get(f"{server.url}/big", max_bytes=100_000)

    assert client.get(f"{server.url}/big", max_bytes=300_000).content == b"x" * 300_000


def test_an_announced_body_over_the_limit_is_refused_before_reading(
    server: FakeHttpServer, sleep: RecordingSleep
) -> None:
    client = OutboundClient(max_bytes=1000, sleep=sleep)
    server.add_route("GET", "/big", CannedResponse(200, b"x" * 5000))

    with pytest.raises(ResponseTooLargeError):
        client.get(f"{server.url}/big")

    assert sleep.waits == []


def test_redirects_are_followed_up_to_five_hops(
    server: FakeHttpServer, client: OutboundClient
) -> None:
    for hop in range(5):
        server.add_route(
            "GET", f"/hop{hop}", CannedResponse(302, headers={"Location": f"/hop{hop + 1}"})
        )
    server.add_route("GET", "/hop5", CannedResponse(200, b"arrived"))
    server.add_route("GET", "/hop6", CannedResponse(302, headers={"Location": "/hop0"}))

    assert client.get(f"{server.url}/hop0").url == f"{server.url}/hop5"
    with pytest.raises(PermanentError, match="redirects"):
        client.get(f"{server.url}/hop6")


def test_a_303_after_post_becomes_a_get_without_body(
    server: FakeHttpServer, client: OutboundClient
) -> None:
    server.add_route("POST", "/form", CannedResponse(303, headers={"Location": "/ok"}))

    assert client.post(f"{server.url}/form", data={"a": "b"}).content == b"hello"
    assert server.requests_to("/ok")[0].method == "GET"
    assert server.requests_to("/ok")[0].body == b""


def test_credentials_are_not_forwarded_on_a_redirect_to_another_origin(
    server: FakeHttpServer, client: OutboundClient
) -> None:
    with FakeHttpServer() as other:
        other.add_route("GET", "/image", CannedResponse(200, b"img"))
        server.add_route(
            "GET", "/cdn", CannedResponse(302, headers={"Location": f"{other.url}/image"})
        )

        client.get(f"{server.url}/cdn", headers={"ApiKey": SECRET, "Authorization": "Bearer t"})

        assert server.requests_to("/cdn")[0].headers["apikey"] == SECRET
        assert "apikey" not in other.requests[0].headers
        assert "authorization" not in other.requests[0].headers


def test_the_rate_limiter_is_asked_before_every_attempt_by_host(
    server: FakeHttpServer, sleep: RecordingSleep
) -> None:
    limiter = RecordingLimiter()
    client = OutboundClient(rate_limiter=limiter, backoff_base=0.01, sleep=sleep)
    server.fail_next(1, status=500)

    client.get(f"{server.url}/ok")

    assert limiter.keys == ["127.0.0.1", "127.0.0.1"]


def test_logs_show_neither_credential_headers_nor_query_strings(
    server: FakeHttpServer, client: OutboundClient, caplog: pytest.LogCaptureFixture
) -> None:
    server.fail_next(1, status=500)
    with caplog.at_level(logging.DEBUG, logger="stashsense.http"):
        client.get(f"{server.url}/ok?token={SECRET}", headers={"ApiKey": SECRET})

    assert "/ok" in caplog.text
    assert SECRET not in caplog.text


# -- GraphQL ------------------------------------------------------------------------------------


def test_graphql_returns_data(server: FakeHttpServer, client: OutboundClient) -> None:
    server.add_route("POST", "/graphql", CannedResponse.json({"data": {"x": 1}}))

    assert client.graphql(f"{server.url}/graphql", "{ x }", {"a": 1}) == {"x": 1}
    assert server.requests[0].json() == {"query": "{ x }", "variables": {"a": 1}}


@pytest.mark.parametrize("status", [200, 422, 400])
def test_graphql_errors_raise_with_the_server_messages(
    server: FakeHttpServer, client: OutboundClient, status: int
) -> None:
    body = {"errors": [{"message": "Cannot query field 'y' on type 'Query'."}], "data": None}
    server.add_route("POST", "/graphql", CannedResponse.json(body, status))

    with pytest.raises(GraphQLQueryError) as raised:
        client.graphql(f"{server.url}/graphql", "{ y }")

    assert raised.value.messages == ["Cannot query field 'y' on type 'Query'."]


def test_an_unparseable_graphql_answer_is_permanent(
    server: FakeHttpServer, client: OutboundClient
) -> None:
    server.add_route("POST", "/graphql", CannedResponse(200, b"<html>oops</html>"))

    with pytest.raises(PermanentError, match="unparseable JSON"):
        client.graphql(f"{server.url}/graphql", "{ x }")
    assert server.request_count() == 1


# -- SSRF guard ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://10.1.2.3/x",
        "http://172.16.0.1/",
        "http://192.168.1.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://2130706433/",  # 127.0.0.1 as an integer
    ],
)
def test_the_ssrf_guard_refuses_internal_addresses(url: str) -> None:
    client = OutboundClient(ssrf_guard=True, retries=0)

    with pytest.raises(BlockedUrlError):
        client.get(url)


@pytest.mark.parametrize("url", ["http://example.com:99999/", "http:///nohost", "not a url"])
def test_malformed_urls_are_permanent_errors(url: str, client: OutboundClient) -> None:
    with pytest.raises(PermanentError):
        client.get(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x/"])
def test_the_ssrf_guard_refuses_other_schemes(url: str) -> None:
    with pytest.raises(BlockedUrlError):
        OutboundClient(ssrf_guard=True).get(url)


def test_the_ssrf_guard_checks_what_a_name_resolves_to(server: FakeHttpServer) -> None:
    client = OutboundClient(ssrf_guard=True, resolver=lambda _host, _port: ["127.0.0.1"])

    with pytest.raises(BlockedUrlError, match="non-public"):
        client.get(f"http://images.example.test:{server.port}/ok")

    assert server.request_count() == 0


def test_allow_listed_hosts_pass_and_are_reached_at_the_checked_address(
    server: FakeHttpServer,
) -> None:
    client = OutboundClient(
        ssrf_guard=True,
        allowed_hosts={"stash.lan.test"},
        resolver=lambda _host, _port: ["127.0.0.1"],
    )

    response = client.get(f"http://stash.lan.test:{server.port}/ok")

    assert response.content == b"hello"
    assert server.requests[0].headers["host"] == f"stash.lan.test:{server.port}"


def test_hosts_off_the_allow_list_are_refused(server: FakeHttpServer) -> None:
    client = OutboundClient(ssrf_guard=True, allowed_hosts={"stash.lan.test"})

    with pytest.raises(BlockedUrlError, match="allow-list"):
        client.get(f"{server.url}/ok")


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://localhost/admin",
    ],
)
def test_every_redirect_hop_is_checked_by_the_ssrf_guard(
    server: FakeHttpServer, location: str
) -> None:
    server.add_route("GET", "/jump", CannedResponse(302, headers={"Location": location}))
    client = OutboundClient(ssrf_guard=True, allowed_hosts={"127.0.0.1"})

    with pytest.raises(BlockedUrlError):
        client.get(f"{server.url}/jump")

    assert server.request_count("/jump") == 1


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for `stash.lan.test` only (no IP in it)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not found: cannot make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=stash.lan.test",
         "-addext", "subjectAltName=DNS:stash.lan.test",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[FakeHttpServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with FakeHttpServer(ssl_context=context) as fake:
        fake.add_route("GET", "/ok", CannedResponse(200, b"secure"))
        yield fake


@pytest.mark.parametrize("host", ["stash.lan.test", "other.lan.test"])
def test_a_pinned_https_connection_checks_the_certificate_against_the_name(
    tls_server: FakeHttpServer, certificate: tuple[Path, Path], host: str
) -> None:
    client = OutboundClient(
        ssrf_guard=True,
        allowed_hosts={host},
        resolver=lambda _host, _port: ["127.0.0.1"],
        verify=str(certificate[0]),
        retries=0,
    )
    url = f"https://{host}:{tls_server.port}/ok"

    if host == "stash.lan.test":
        assert client.get(url).content == b"secure"
        assert tls_server.requests[0].headers["host"] == f"stash.lan.test:{tls_server.port}"
    else:
        with pytest.raises(PermanentError, match="SSLError"):
            client.get(url)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("10.0.0.1", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 wrapping 127.0.0.1
        ("ff02::1", False),
    ],
)
def test_only_global_unicast_addresses_count_as_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_retry_after_is_read_as_seconds_or_http_date() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)

    assert parse_retry_after("7") == 7
    assert (
        parse_retry_after(
            format_datetime(now + timedelta(seconds=30), usegmt=True), now=now.timestamp()
        )
        == 30
    )
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
