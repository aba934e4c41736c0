"""Read performers from ThePornDB's REST API (`Authorization: Bearer <token>`)."""

from __future__ import annotations

from urllib.parse import quote

from scraping.sources.theporndb.performer import (
    Page,
    ThePornDBDataError,
    TPDBPerformer,
    parse_page,
    parse_performer,
)
from stashsense.http import OutboundClient, host_of, origin_of

DEFAULT_BASE_URL = "https://api.theporndb.net"
# ThePornDB answers 429 "Too Many Attempts." above this.
DEFAULT_REQUESTS_PER_MINUTE = 240


class ThePornDBClient:
    """Performers of ThePornDB. List rows are partial (`partial=True`): fetch by id for all."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        token: str = "",
        http: OutboundClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = host_of(self.base_url)
        self._token = token
        self._http = http if http is not None else OutboundClient()

    def list_performers(self, page: int = 1, per_page: int = 25, *, q: str | None = None) -> Page:
        """`GET /performers?page=&per_page=&q=`."""
        response = self._http.get(
            f"{self.base_url}/performers",
            params={"page": page, "per_page": per_page, "q": q},
            headers=self._headers(),
        )
        body = response.json()
        if not isinstance(body, dict):
            raise ThePornDBDataError("performer page is not an object")
        return parse_page(body)

    def get_performer(self, performer_id: str) -> TPDBPerformer:
        """`GET /performers/<uuid>`; `NotFoundError` when ThePornDB does not know the id."""
        response = self._http.get(
            f"{self.base_url}/performers/{quote(performer_id, safe='')}",
            headers=self._headers(),
        )
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise ThePornDBDataError(f"performer {performer_id} answer has no data object")
        return parse_performer(body["data"])

    def fetch_image(self, url: str, *, max_bytes: int | None = None) -> bytes:
        """The bytes of a face/image/poster URL (the token goes only to the API's own origin)."""
        headers = self._headers() if origin_of(url) == origin_of(self.base_url) else {}
        return self._http.get(url, headers=headers, max_bytes=max_bytes).content

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers
