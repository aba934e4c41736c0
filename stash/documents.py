"""The GraphQL documents sent to Stash, kept as `.graphql` files in `documents/`.

The plugin (`plugin/stash-sense/stash-sense-core.js`) sends copies of some of them from the
browser; the tests check the copies are the same documents and valid against Stash's schema.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

DOCUMENTS_PACKAGE = "stash"
DOCUMENTS_FOLDER = "documents"


def document_files() -> list[Traversable]:
    """Every `.graphql` file sent to Stash, one operation per file named like the file."""
    folder = resources.files(DOCUMENTS_PACKAGE).joinpath(DOCUMENTS_FOLDER)
    return sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".graphql")),
        key=lambda entry: entry.name,
    )


@cache
def stash_document(operation: str) -> str:
    """The text of one operation, e.g. `stash_document("FindScenesPage")`."""
    return (
        resources.files(DOCUMENTS_PACKAGE)
        .joinpath(DOCUMENTS_FOLDER, f"{operation}.graphql")
        .read_text("utf-8")
    )
