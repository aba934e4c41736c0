"""Every GraphQL document we send validates against the stash-box schema in ../shared/specs."""

from __future__ import annotations

from importlib.resources.abc import Traversable

import pytest
from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse, validate

from fakes import build_stashbox_schema, stashbox_schema_dir
from scraping.sources.stashbox.documents import (
    PERFORMER_REMOVALS_OPERATION,
    PerformerDocuments,
    document_files,
    full_performer_documents,
    minimal_performer_documents,
    performer_removals_document,
)

pytestmark = pytest.mark.skipif(
    not stashbox_schema_dir().is_dir(), reason="stash-box schema specs not found"
)

# Stash's own stash-box performer fragment (served by every deployed instance), plus the
# timestamps; `urls.type` is deprecated for `urls.site`, which the full set asks instead.
STASH_CLIENT_PERFORMER_FIELDS = {
    "id", "name", "disambiguation", "aliases", "gender", "merged_ids", "deleted",
    "merged_into_id", "urls", "images", "birth_date", "death_date", "ethnicity", "country",
    "eye_color", "hair_color", "height", "breast_type", "career_start_year", "career_end_year",
    "tattoos", "piercings", "created", "updated",
}  # fmt: skip


def test_the_stashbox_client_ships_graphql_documents() -> None:
    assert {entry.name for entry in document_files()} >= {
        "edits.graphql",
        "performers.graphql",
        "performers_minimal.graphql",
    }


@pytest.mark.parametrize("document", document_files(), ids=lambda entry: entry.name)
def test_each_document_validates_against_the_stashbox_schema(document: Traversable) -> None:
    errors = validate(build_stashbox_schema(), parse(document.read_text("utf-8")))

    assert [error.message for error in errors] == []


@pytest.mark.parametrize(
    "documents",
    [full_performer_documents(), minimal_performer_documents()],
    ids=["full", "minimal"],
)
def test_each_field_set_names_the_operations_the_client_sends(
    documents: PerformerDocuments,
) -> None:
    names = {
        definition.name.value
        for definition in parse(documents.text).definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name
    }

    assert names == {documents.query_performers, documents.find_performer}


def test_the_removals_document_names_the_operation_the_client_sends() -> None:
    names = [
        definition.name.value
        for definition in parse(performer_removals_document()).definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name
    ]

    assert names == [PERFORMER_REMOVALS_OPERATION]


def test_the_full_field_set_covers_stashs_own_performer_fragment() -> None:
    fragment = next(
        definition
        for definition in parse(full_performer_documents().text).definitions
        if isinstance(definition, FragmentDefinitionNode)
    )
    fields = {
        selection.name.value
        for selection in fragment.selection_set.selections
        if isinstance(selection, FieldNode)
    }

    assert fields >= STASH_CLIENT_PERFORMER_FIELDS
