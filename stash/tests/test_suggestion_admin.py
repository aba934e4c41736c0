"""The scene suggestion's admin page says who is in the scene in words, not JSON."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from stash.models import SceneSuggestion

pytestmark = pytest.mark.django_db


def test_a_suggestion_reads_person_by_person(admin_client: Client) -> None:
    suggestion = SceneSuggestion.objects.create(
        stash_scene_id="31",
        persons=2,
        result={
            "persons": [
                {
                    "person": 0,
                    "appearances": 12,
                    "matches": [
                        {"performer": {"id": "x", "name": "Anna Example"}, "confidence": 0.8234},
                    ],
                },
                {"person": 1, "appearances": 1, "matches": []},
            ]
        },
    )

    page = admin_client.get(
        reverse("admin:stash_scenesuggestion_change", args=[suggestion.pk])
    ).content.decode()

    assert "Person 1, seen in 12 frames: Anna Example (82 % sure)" in page
    assert "Person 2, seen in 1 frame: nobody in the gallery is close" in page
    assert "&quot;matches&quot;" not in page and '"matches"' not in page
