"""Stored scene suggestions keep the body of POST /identify/scene, as the plugin reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from fakes.stash_server import FakeStash
from performers.models import Performer
from stash.models import SceneSuggestion
from stash.tests.stash_scenes import BILL_SIMON, CARMEN_ELECTRA, stash, stills_scene, stills_vtt

__all__ = ["stash"]

pytestmark = [pytest.mark.django_db, pytest.mark.models]


def _without_timings(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "timings_ms"}


def test_a_stored_suggestion_is_the_body_identify_scene_answers_for_that_scene(
    api_client: APIClient, enrolled: dict[str, Performer], stash: FakeStash, tmp_path: Path
) -> None:
    stash.add_scene(stills_scene("7", stills_vtt(tmp_path, [BILL_SIMON, CARMEN_ELECTRA])))

    stored = api_client.post("/api/v1/scenes/7/suggestions", {}, format="json")
    answered = api_client.post("/api/v1/identify/scene", {"stash_scene_id": "7"}, format="json")
    shown = api_client.get("/api/v1/scenes/7/suggestions")

    assert stored.status_code == answered.status_code == shown.status_code == 200
    row = SceneSuggestion.objects.get(stash_scene_id="7")
    assert row.persons == len(row.result["persons"]) >= 2
    assert _without_timings(row.result) == _without_timings(answered.json())
    assert shown.json()["result"] == stored.json()["result"] == row.result
