"""The stash-box endpoints a Stash is configured with (`configuration.general.stashBoxes`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stash.documents import stash_document
from stashsense.http import OutboundClient, PermanentError, host_of


@dataclass(frozen=True)
class StashBoxConfig:
    """One stash-box as Stash keeps it: its GraphQL endpoint, API key and display name."""

    endpoint: str
    api_key: str
    name: str


def stash_graphql_url(stash_url: str) -> str:
    return f"{stash_url.rstrip('/')}/graphql"


def stash_boxes(
    stash_url: str, api_key: str, http: OutboundClient | None = None
) -> list[StashBoxConfig]:
    """Read the endpoints and keys; only the Stash host itself is ever contacted."""
    client = http or OutboundClient(allowed_hosts=[host_of(stash_url)])
    try:
        data = client.graphql(
            stash_graphql_url(stash_url),
            stash_document("StashBoxes"),
            headers={"ApiKey": api_key} if api_key else None,
            operation_name="StashBoxes",
        )
    finally:
        if http is None:
            client.close()
    return parse_stash_boxes(data)


def parse_stash_boxes(data: Mapping[str, Any]) -> list[StashBoxConfig]:
    try:
        rows = data["configuration"]["general"]["stashBoxes"] or []
        return [
            StashBoxConfig(
                endpoint=str(row["endpoint"]).strip(),
                api_key=str(row.get("api_key") or ""),
                name=str(row.get("name") or "").strip(),
            )
            for row in rows
            if row.get("endpoint")
        ]
    except (KeyError, TypeError, AttributeError) as error:
        raise PermanentError(f"unexpected stashBoxes answer: {error!r}") from error
