"""Stash GraphQL documents: valid against Stash's schema, the same in the plugin, and doing
what we rely on when a (fake, schema-executing) Stash runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse, print_ast, validate

from fakes.stash_server import (
    FakePerformer,
    FakeScene,
    FakeStash,
    FakeStashBoxConfig,
    build_stash_schema,
)
from stash.documents import document_files, stash_document
from stashsense.http import HttpResponse, OutboundClient, OutboundError

REPO_ROOT = Path(__file__).resolve().parents[2]
CORE_SCRIPT = REPO_ROOT / "plugin" / "stash-sense" / "stash-sense-core.js"
SPRITES = REPO_ROOT.parent / "shared" / "faces" / "sprites"
STASHDB = "https://stashdb.org/graphql"
FANSDB = "https://fansdb.cc/graphql"
API_KEY = "stash-test-key"
DOCUMENT_NAMES = [entry.name.removesuffix(".graphql") for entry in document_files()]


def normalised(document: str) -> str:
    return print_ast(parse(document))


@pytest.fixture(scope="module")
def plugin_documents() -> dict[str, str]:
    """The DOCUMENTS object of the plugin's core script, as Node evaluates it."""
    if shutil.which("node") is None:
        pytest.skip("needs Node.js")
    script = "process.stdout.write(JSON.stringify(require(process.argv[1]).DOCUMENTS))"
    result = subprocess.run(
        ["node", "-e", script, str(CORE_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    documents: dict[str, str] = json.loads(result.stdout)
    return documents


# -- the documents themselves -------------------------------------------------------------------


def test_the_documents_cover_what_the_plugin_and_the_service_send() -> None:
    assert set(DOCUMENT_NAMES) >= {
        "FindSceneForIdentify",
        "FindSceneForVideo",
        "FindPerformersByStashId",
        "PerformerCreate",
        "BulkSceneUpdateAddPerformers",
        "PluginConfiguration",
        "FindScenesPage",
        "StashBoxes",
    }


@pytest.mark.parametrize("name", DOCUMENT_NAMES)
def test_each_document_file_is_valid_against_stashs_schema(name: str) -> None:
    document = parse(stash_document(name))
    assert validate(build_stash_schema(), document) == []


@pytest.mark.parametrize("name", DOCUMENT_NAMES)
def test_each_document_file_holds_one_operation_named_like_the_file(name: str) -> None:
    definitions = parse(stash_document(name)).definitions
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    assert [op.name.value if op.name else None for op in operations] == [name]


def test_no_document_replaces_a_scenes_cast() -> None:
    for name in DOCUMENT_NAMES:
        text = normalised(stash_document(name))
        assert "sceneUpdate(" not in text.replace("bulkSceneUpdate(", ""), name
        assert "mode: SET" not in text, name


def test_the_plugins_documents_are_valid_against_stashs_schema(
    plugin_documents: dict[str, str],
) -> None:
    assert plugin_documents, "the plugin exports no documents"
    for name, text in plugin_documents.items():
        assert validate(build_stash_schema(), parse(text)) == [], name


def test_the_plugins_documents_are_the_document_files(plugin_documents: dict[str, str]) -> None:
    assert set(plugin_documents) <= set(DOCUMENT_NAMES)
    for name, text in plugin_documents.items():
        assert normalised(text) == normalised(stash_document(name)), name


# -- the documents against a Stash that executes the schema -------------------------------------


@pytest.fixture
def stash() -> Iterator[FakeStash]:
    scenes = [
        FakeScene(
            "1",
            title="Stills",
            performer_ids=["1"],
            sprite=SPRITES / "dev_stills_sprite.jpg",
            vtt=SPRITES / "dev_stills_thumbs.vtt",
        ),
        FakeScene("2", title="No previews"),
        *(FakeScene(str(n), title=f"Scene {n}") for n in range(3, 8)),
    ]
    performers = [
        FakePerformer("1", "Carmen", stash_ids=[(STASHDB, "s-carmen")]),
        FakePerformer("2", "Venus", stash_ids=[(STASHDB, "s-venus"), (FANSDB, "f-venus")]),
        FakePerformer("3", "Nobody", stash_ids=[(FANSDB, "s-carmen")]),
    ]
    fake = FakeStash(
        scenes=scenes,
        performers=performers,
        stash_boxes=[FakeStashBoxConfig(STASHDB, "box-key", "StashDB")],
        plugins={
            "stash-sense": {"serviceUrl": "http://sense:8000", "apiKey": "k"},
            "other-plugin": {"secret": "x"},
        },
        api_key=API_KEY,
    )
    with fake:
        yield fake


def send(method: str, url: str, **options: Any) -> HttpResponse:
    """The fake's answer whatever its status (the client raises for 4xx/5xx; we look at them)."""
    with OutboundClient(timeout=10, retries=0) as client:
        try:
            return client.request(method, url, **options)
        except OutboundError as error:
            assert error.response is not None, error
            return error.response


def run(stash: FakeStash, name: str, variables: dict[str, Any] | None = None) -> Any:
    response = send(
        "POST",
        stash.graphql_url,
        json={"operationName": name, "query": stash_document(name), "variables": variables or {}},
        headers={"ApiKey": API_KEY},
    )
    assert response.status == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_a_wrong_or_missing_api_key_gets_401(stash: FakeStash) -> None:
    query = {"query": stash_document("StashBoxes")}
    for headers in ({}, {"ApiKey": "wrong"}):
        response = send("POST", stash.graphql_url, json=query, headers=headers)
        assert response.status == 401
        assert response.content == b""


def test_find_scene_reports_preview_paths_that_serve_the_sprite_and_vtt(stash: FakeStash) -> None:
    scene = run(stash, "FindSceneForIdentify", {"id": "1"})["findScene"]
    assert scene["performers"] == [
        {"id": "1", "name": "Carmen", "stash_ids": [{"endpoint": STASHDB, "stash_id": "s-carmen"}]}
    ]
    headers = {"ApiKey": API_KEY}
    vtt = send("GET", scene["paths"]["vtt"], headers=headers)
    assert vtt.text.startswith("WEBVTT")
    sprite = send("GET", scene["paths"]["sprite"], headers=headers)
    assert sprite.content == (SPRITES / "dev_stills_sprite.jpg").read_bytes()
    relative = vtt.text.split("\n")[3].split("#")[0]
    tile_source = send("GET", f"{stash.url}/scene/1/{relative}", headers=headers)
    assert tile_source.status == 200
    assert send("GET", scene["paths"]["sprite"]).status == 401


def test_a_scene_without_generated_previews_answers_404_for_them(stash: FakeStash) -> None:
    scene = run(stash, "FindSceneForIdentify", {"id": "2"})["findScene"]
    response = send("GET", scene["paths"]["sprite"], headers={"ApiKey": API_KEY})
    assert response.status == 404
    assert run(stash, "FindSceneForIdentify", {"id": "99"})["findScene"] is None


def test_performers_are_found_by_endpoint_and_stash_id_together(stash: FakeStash) -> None:
    found = run(stash, "FindPerformersByStashId", {"endpoint": STASHDB, "stash_id": "s-carmen"})
    assert [p["name"] for p in found["findPerformers"]["performers"]] == ["Carmen"]
    other = run(stash, "FindPerformersByStashId", {"endpoint": FANSDB, "stash_id": "s-carmen"})
    assert [p["name"] for p in other["findPerformers"]["performers"]] == ["Nobody"]
    none = run(stash, "FindPerformersByStashId", {"endpoint": STASHDB, "stash_id": "unknown"})
    assert none["findPerformers"] == {"count": 0, "performers": []}


def test_adding_performers_keeps_the_existing_cast(stash: FakeStash) -> None:
    data = run(stash, "BulkSceneUpdateAddPerformers", {"scene_ids": ["1"], "performer_ids": ["2"]})
    assert data["bulkSceneUpdate"] == [{"id": "1", "performers": [{"id": "1"}, {"id": "2"}]}]
    again = run(stash, "BulkSceneUpdateAddPerformers", {"scene_ids": ["1"], "performer_ids": ["2"]})
    assert again["bulkSceneUpdate"][0]["performers"] == [{"id": "1"}, {"id": "2"}]
    [first, _] = stash.mutations_of("bulkSceneUpdate")
    assert first.arguments["input"]["performer_ids"] == {"ids": ["2"], "mode": "ADD"}


@pytest.mark.parametrize(
    ("mode", "ids", "cast"),
    [("SET", ["3"], ["3"]), ("REMOVE", ["1"], []), ("ADD", ["3", "3"], ["1", "3"])],
)
def test_the_fake_honours_every_bulk_update_mode(
    stash: FakeStash, mode: str, ids: list[str], cast: list[str]
) -> None:
    query = (
        'mutation($ids: [ID!]) { bulkSceneUpdate(input: {ids: ["1"], performer_ids: '
        f"{{ids: $ids, mode: {mode}}}}}) {{ performers {{ id }} }} }}"
    )
    result = stash.execute(query, {"ids": ids})
    assert result.errors is None
    assert result.data == {"bulkSceneUpdate": [{"performers": [{"id": i} for i in cast]}]}


def test_a_replacing_scene_update_is_recorded_but_not_implemented(stash: FakeStash) -> None:
    result = stash.execute('mutation { sceneUpdate(input: {id: "1"}) { id } }')
    assert result.errors and "does not implement sceneUpdate" in result.errors[0].message
    assert [m.field for m in stash.mutations] == ["sceneUpdate"]
    assert stash.scenes["1"].performer_ids == ["1"]


def test_performer_create_makes_a_findable_performer(stash: FakeStash) -> None:
    created = run(
        stash,
        "PerformerCreate",
        {
            "input": {
                "name": "Joan",
                "disambiguation": "II",
                "alias_list": ["J"],
                "image": "https://stashdb.org/images/x",
                "stash_ids": [{"endpoint": STASHDB, "stash_id": "s-joan"}],
            }
        },
    )["performerCreate"]
    assert created["id"] == "4"
    found = run(stash, "FindPerformersByStashId", {"endpoint": STASHDB, "stash_id": "s-joan"})
    assert found["findPerformers"]["performers"][0]["disambiguation"] == "II"
    assert stash.performers["4"].image == "https://stashdb.org/images/x"


def test_performer_create_refuses_a_duplicate_name(stash: FakeStash) -> None:
    result = stash.execute(
        stash_document("PerformerCreate"), {"input": {"name": "carmen", "stash_ids": []}}
    )
    assert result.errors and "already exists" in result.errors[0].message


def test_scene_pages_cover_the_library_once_in_id_order(stash: FakeStash) -> None:
    seen: list[str] = []
    page = 1
    while True:
        data = run(stash, "FindScenesPage", {"page": page, "per_page": 3})["findScenes"]
        assert data["count"] == 7
        if not data["scenes"]:
            break
        seen += [scene["id"] for scene in data["scenes"]]
        page += 1
    assert seen == [str(n) for n in range(1, 8)]


def test_scene_pages_can_be_filtered_to_scenes_without_a_cast(stash: FakeStash) -> None:
    variables = {"page": 1, "per_page": 25, "scene_filter": {"is_missing": "performers"}}
    data = run(stash, "FindScenesPage", variables)["findScenes"]
    assert data["count"] == 6
    assert "1" not in [scene["id"] for scene in data["scenes"]]


def test_plugin_configuration_returns_only_the_plugins_settings(stash: FakeStash) -> None:
    data = run(stash, "PluginConfiguration")
    assert data["configuration"]["plugins"] == {
        "stash-sense": {"serviceUrl": "http://sense:8000", "apiKey": "k"}
    }


def test_stash_boxes_lists_endpoints_with_their_keys(stash: FakeStash) -> None:
    data = run(stash, "StashBoxes")
    assert data["configuration"]["general"]["stashBoxes"] == [
        {"endpoint": STASHDB, "api_key": "box-key", "name": "StashDB"}
    ]


def test_an_invalid_document_gets_422_like_gqlgen(stash: FakeStash) -> None:
    response = send(
        "POST",
        stash.graphql_url,
        json={"query": "{ findScene(id: 1) { nope } }"},
        headers={"ApiKey": API_KEY},
    )
    assert response.status == 422
    assert "Cannot query field 'nope'" in response.json()["errors"][0]["message"]
