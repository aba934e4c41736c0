"""The one way out: every outbound HTTP request of Stash Sense goes through `OutboundClient`.

One place owns the timeouts, the User-Agent, the response size limit, the redirect policy, the
retry policy (transient vs permanent errors), the rate limit and — for URLs that come from users
or scraped data — the SSRF guard. Callers get a small typed `HttpResponse` or one of the
`OutboundError` subclasses; they never see urllib3 or requests objects.

Built on urllib3 directly (not requests) because the SSRF guard must connect to the address it
checked: a pool is opened on the resolved IP while the Host header, SNI and certificate check
keep the original name, so a DNS answer that changes between check and connect (rebinding)
cannot steer us to an internal address. Environment proxies are not honoured for that reason.

Bodies too large for memory are streamed (`OutboundClient.stream`) or written to a file that a
later attempt resumes with HTTP Range (`OutboundClient.download`), under the same checks.

Modules: `client` (OutboundClient and its defaults), `targets` (URL helpers, resolution, the
public-address check), `redirects`, `response` (HttpResponse, size-limited reads, status to
error), `streaming` (StreamedResponse), `download` (one resumable download attempt) and
`errors`; `ranged` (RangedReader: a remote video read in place with Range requests);
`bounded` (fetches a request waits on: a total deadline and a bound on how many).
"""

from stashsense.http.bounded import (
    BoundedFetches,
    FetchDeadlineExceeded,
    FetchesBusy,
    bounded_fetches,
)
from stashsense.http.client import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_USER_AGENT,
    MIB,
    OutboundClient,
)
from stashsense.http.download import DownloadProgress, partial_path
from stashsense.http.errors import (
    AuthError,
    BlockedUrlError,
    GraphQLQueryError,
    NotFoundError,
    OutboundError,
    PermanentError,
    ResponseTooLargeError,
    TransientError,
    parse_retry_after,
)
from stashsense.http.ranged import RangedReader, RangedReadTimeout
from stashsense.http.redirects import CREDENTIAL_HEADERS, REDIRECT_STATUSES
from stashsense.http.response import CHUNK_BYTES, TRANSIENT_STATUSES, HttpResponse
from stashsense.http.streaming import StreamedResponse
from stashsense.http.targets import (
    Resolver,
    display_url,
    host_of,
    is_public_address,
    origin_of,
    resolve_addresses,
)

__all__ = [
    "CHUNK_BYTES",
    "CREDENTIAL_HEADERS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_REDIRECTS",
    "DEFAULT_USER_AGENT",
    "MIB",
    "REDIRECT_STATUSES",
    "TRANSIENT_STATUSES",
    "AuthError",
    "BlockedUrlError",
    "BoundedFetches",
    "DownloadProgress",
    "FetchDeadlineExceeded",
    "FetchesBusy",
    "GraphQLQueryError",
    "HttpResponse",
    "NotFoundError",
    "OutboundClient",
    "OutboundError",
    "PermanentError",
    "RangedReadTimeout",
    "RangedReader",
    "Resolver",
    "ResponseTooLargeError",
    "StreamedResponse",
    "TransientError",
    "bounded_fetches",
    "display_url",
    "host_of",
    "is_public_address",
    "origin_of",
    "parse_retry_after",
    "partial_path",
    "resolve_addresses",
]
