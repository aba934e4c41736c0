"""Stash scenes for the feedback, scan and plugin tests: the shared stills sprite, whole or cut.

The stills sprite shows the first photo of 25 identities, one per 160x90 tile
(`dev_stills_cells.csv`). A scene may use only some of its tiles: its VTT then lists just
those cues, which keeps identification (the slow part of these tests) to a few tiles.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from fakes.stash_server import FakeScene, FakeStash, stash_schema_dir
from recognition.tests.engine.support import FACES

SPRITES = FACES / "sprites"
STILLS_SPRITE = SPRITES / "dev_stills_sprite.jpg"
STILLS_VTT = SPRITES / "dev_stills_thumbs.vtt"
STASH_API_KEY = "stash-api-key"
# Tiles of identities in the `enrolled` gallery, each a clear face.
BILL_SIMON, CARMEN_ELECTRA, DEEPFACE_P02 = 1, 2, 13


def stills_cells() -> list[dict[str, str]]:
    with open(SPRITES / "dev_stills_cells.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def tile_of(identity: str) -> int:
    return next(int(c["index"]) for c in stills_cells() if c["identity"] == identity)


def stills_vtt(folder: Path, tiles: Sequence[int], name: str = "cut") -> Path:
    """A VTT for the stills sprite that shows only `tiles` (in that order)."""
    cells = {int(c["index"]): c for c in stills_cells()}
    lines = ["WEBVTT", ""]
    for tile in tiles:
        cell = cells[tile]
        lines += [
            f"{cell['start']} --> {cell['end']}",
            f"dev_stills_sprite.jpg#xywh={cell['x']},{cell['y']},{cell['w']},{cell['h']}",
            "",
        ]
    path = folder / f"{name}_thumbs.vtt"
    path.write_text("\n".join(lines))
    return path


def stills_scene(
    scene_id: str, vtt: Path | None = STILLS_VTT, performer_ids: Sequence[str] = ()
) -> FakeScene:
    """A scene showing the stills sprite through `vtt`; `vtt=None` is a scene never sprited."""
    sprite = STILLS_SPRITE if vtt is not None else None
    return FakeScene(
        scene_id, title=f"Scene {scene_id}", sprite=sprite, vtt=vtt, performer_ids=[*performer_ids]
    )


def needs_stash_fixtures() -> None:
    if not STILLS_SPRITE.is_file():
        pytest.skip(f"{STILLS_SPRITE} is not present")
    if not stash_schema_dir().is_dir():
        pytest.skip(f"Stash's schema is not at {stash_schema_dir()}")


@pytest.fixture
def stash(settings: Any) -> Iterator[FakeStash]:
    """An empty fake Stash that the service is configured to use (STASH_URL, STASH_API_KEY)."""
    needs_stash_fixtures()
    with FakeStash(api_key=STASH_API_KEY) as fake:
        settings.STASH_URL = fake.url
        settings.STASH_API_KEY = STASH_API_KEY
        yield fake
