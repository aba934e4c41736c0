"""The GraphQL documents sent to stash-box, kept as `.graphql` files in `queries/`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

QUERIES_PACKAGE = "scraping.sources.stashbox"
QUERIES_FOLDER = "queries"
PERFORMER_REMOVALS_OPERATION = "PerformerRemovals"


@dataclass(frozen=True)
class PerformerDocuments:
    """One `.graphql` file holding a performer fragment and its two operations."""

    text: str
    query_performers: str
    find_performer: str


def document_files() -> list[Traversable]:
    """Every `.graphql` file shipped with the stash-box client (the tests validate them all)."""
    folder = resources.files(QUERIES_PACKAGE).joinpath(QUERIES_FOLDER)
    return sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".graphql")),
        key=lambda entry: entry.name,
    )


def read_document(name: str) -> str:
    return resources.files(QUERIES_PACKAGE).joinpath(QUERIES_FOLDER, name).read_text("utf-8")


@cache
def full_performer_documents() -> PerformerDocuments:
    """Everything we want about a performer, for current servers."""
    return PerformerDocuments(
        read_document("performers.graphql"), "QueryPerformers", "FindPerformer"
    )


@cache
def minimal_performer_documents() -> PerformerDocuments:
    """The fallback for servers that reject a field of the full set."""
    return PerformerDocuments(
        read_document("performers_minimal.graphql"),
        "QueryPerformersMinimal",
        "FindPerformerMinimal",
    )


@cache
def performer_removals_document() -> str:
    """Applied DESTROY/MERGE performer edits: how incremental syncs see removals upstream."""
    return read_document("edits.graphql")
