"""Read performers and their images from one stash-box endpoint (GraphQL, header `ApiKey`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scraping.sources.stashbox.documents import (
    PERFORMER_REMOVALS_OPERATION,
    PerformerDocuments,
    full_performer_documents,
    minimal_performer_documents,
    performer_removals_document,
)
from scraping.sources.stashbox.edits import (
    EditsUnavailable,
    RemovalOperation,
    RemovalPage,
    parse_removal_page,
)
from scraping.sources.stashbox.performer import (
    PerformerPage,
    StashBoxImage,
    StashBoxPerformer,
    parse_page,
    parse_performer,
)
from stashsense.http import (
    AuthError,
    GraphQLQueryError,
    NotFoundError,
    OutboundClient,
    host_of,
    origin_of,
)

logger = logging.getLogger(__name__)

PerformerSort = Literal["UPDATED_AT", "CREATED_AT", "NAME"]
SortDirection = Literal["DESC", "ASC"]
ImageSize = Literal[300, 600, 1280, "full"]
MAX_MERGE_HOPS = 20
# What Stash's own stash-box client spaces requests to per endpoint (no limiter upstream).
DEFAULT_REQUESTS_PER_MINUTE = 240


@dataclass(frozen=True)
class ImageDownload:
    """The bytes of one performer image, fetched at the requested size."""

    image: StashBoxImage
    content: bytes
    content_type: str


class StashBoxClient:
    """Performers of one endpoint, e.g. `StashBoxClient("https://stashdb.org/graphql", key, http)`.

    Starts with the full field set; when the server rejects a field ("Cannot query field ...",
    an older stash-box) it switches to the minimal set for good and records why in `warnings`.
    """

    def __init__(self, endpoint_url: str, api_key: str, http: OutboundClient) -> None:
        self.endpoint_url = endpoint_url
        self.host = host_of(endpoint_url)
        self.warnings: list[str] = []
        self._api_key = api_key
        self._http = http
        self._documents = full_performer_documents()

    @property
    def uses_minimal_fields(self) -> bool:
        return self._documents is not full_performer_documents()

    def query_performers(
        self,
        page: int = 1,
        per_page: int = 25,
        sort: PerformerSort = "UPDATED_AT",
        direction: SortDirection = "DESC",
    ) -> PerformerPage:
        """One page of live performers (deleted and merged ones are never listed).

        Sorts have no id tie-breaker upstream: rows with equal timestamps can move between
        pages, so callers must de-duplicate by id.
        """
        variables = {
            "input": {"page": page, "per_page": per_page, "sort": sort, "direction": direction}
        }
        data = self._execute(lambda docs: docs.query_performers, variables)
        return parse_page(data["queryPerformers"], page=page, per_page=per_page)

    def find_performer(self, performer_id: str) -> StashBoxPerformer | None:
        """The performer by id, deleted or merged ones included; None when unknown."""
        data = self._execute(lambda docs: docs.find_performer, {"id": performer_id})
        raw = data.get("findPerformer")
        return parse_performer(raw) if raw else None

    def follow_merges(self, performer_id: str) -> StashBoxPerformer | None:
        """The live performer `performer_id` ended up in after merges (chains are followed)."""
        seen: set[str] = set()
        performer = self.find_performer(performer_id)
        while performer is not None and performer.merged_into_id and len(seen) < MAX_MERGE_HOPS:
            if performer.merged_into_id in seen:
                break
            seen.add(performer.id)
            performer = self.find_performer(performer.merged_into_id)
        return performer

    def performer_removals(
        self, operation: RemovalOperation, page: int = 1, per_page: int = 25
    ) -> RemovalPage:
        """One page of applied performer edits of `operation`, the last closed first.

        `EditsUnavailable` when the server answers this query with a GraphQL error (no
        `queryEdits`, or not for this key); a rejected key (HTTP 401/403) stays an AuthError.
        """
        variables = {
            "input": {
                "target_type": "PERFORMER",
                "operation": operation,
                "applied": True,
                "sort": "CLOSED_AT",
                "direction": "DESC",
                "page": page,
                "per_page": per_page,
            }
        }
        try:
            data = self._send(
                performer_removals_document(), PERFORMER_REMOVALS_OPERATION, variables
            )
        except GraphQLQueryError as error:
            raise self._edits_unavailable(error) from error
        except AuthError as error:
            if not isinstance(error.__cause__, GraphQLQueryError):  # HTTP 401/403: a bad key
                raise
            raise self._edits_unavailable(error) from error
        return parse_removal_page(data["queryEdits"], page=page, per_page=per_page)

    def image_url(self, url: str, size: ImageSize | None = 600) -> str:
        """`url` with `?size=` set (stash-box resizes on the server); None keeps it as is."""
        if size is None:
            return url
        parts = urlsplit(url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "size"]
        query.append(("size", str(size)))
        return urlunsplit(parts._replace(query=urlencode(query)))

    def fetch_image(
        self, image: StashBoxImage, size: ImageSize | None = 600, *, max_bytes: int | None = None
    ) -> ImageDownload:
        response = self._http.get(
            self.image_url(image.url, size),
            headers=self._image_headers(image.url),
            max_bytes=max_bytes,
        )
        return ImageDownload(image, response.content, response.content_type)

    def iter_images(
        self,
        performer: StashBoxPerformer,
        size: ImageSize | None = 600,
        *,
        limit: int | None = None,
        max_bytes: int | None = None,
    ) -> Iterator[ImageDownload]:
        """The performer's images in server order (closest to portrait first).

        Images the server no longer has (404/410) are skipped and logged; other errors raise.
        """
        for image in performer.images[:limit]:
            try:
                yield self.fetch_image(image, size, max_bytes=max_bytes)
            except NotFoundError:
                logger.info("stash-box image %s of %s is gone", image.id, performer.id)

    def _headers(self) -> dict[str, str]:
        return {"ApiKey": self._api_key} if self._api_key else {}

    def _image_headers(self, url: str) -> dict[str, str]:
        # The key only ever goes to the endpoint's own origin (images may live on a CDN).
        return self._headers() if origin_of(url) == origin_of(self.endpoint_url) else {}

    def _execute(
        self,
        operation_of: Callable[[PerformerDocuments], str],
        variables: Mapping[str, Any],
    ) -> dict[str, Any]:
        documents = self._documents
        try:
            return self._send(documents.text, operation_of(documents), variables)
        except GraphQLQueryError as error:
            if not _is_missing_field(error) or self.uses_minimal_fields:
                raise
            self._fall_back_to_minimal_fields(error)
            documents = self._documents
            return self._send(documents.text, operation_of(documents), variables)

    def _send(self, document: str, operation: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self._http.graphql(
                self.endpoint_url,
                document,
                variables,
                headers=self._headers(),
                operation_name=operation,
            )
        except GraphQLQueryError as error:
            if any("not authorized" in message.lower() for message in error.messages):
                raise AuthError(
                    f"not authorized by {self.host}: missing or insufficient API key",
                    url=self.endpoint_url,
                ) from error
            raise

    def _edits_unavailable(self, error: Exception) -> EditsUnavailable:
        return EditsUnavailable(
            f"{self.host} does not list edits ({error}): deletions are found by full syncs",
            url=self.endpoint_url,
        )

    def _fall_back_to_minimal_fields(self, error: GraphQLQueryError) -> None:
        warning = (
            f"{self.host} rejected part of the performer field set ({error}); "
            "using the minimal field set"
        )
        self.warnings.append(warning)
        logger.warning(warning)
        self._documents = minimal_performer_documents()


def _is_missing_field(error: GraphQLQueryError) -> bool:
    return any("Cannot query field" in message for message in error.messages)
