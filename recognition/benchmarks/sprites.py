"""Stash-style scene sprites made of real tiles, for `manage.py bench_identify` and `bench_scan`.

Stash generates one sprite per scene: 81 tiles (9x9) of 160x90 pixels and a VTT that names
each tile's place in it. `stash_sprite_from_tiles` makes such a sprite of any tile count by
cycling through real tiles; the tiles come from a given sprite (`sprite_tiles_of`) or from the
dev sprites under ../shared/faces/sprites (`shared_dev_tiles`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from recognition.scenes import sprite_frames

TILE_W, TILE_H = 160, 90
STASH_TILES = 81  # a 9x9 sheet, what Stash makes for every scene
DEV_SPRITES = ("dev_stills", "dev_video")


def stash_sprite_from_tiles(
    tiles: Sequence[np.ndarray], count: int = STASH_TILES
) -> tuple[bytes, str]:
    """A JPEG sprite of `count` tiles (cycling through `tiles`) and its VTT, as Stash makes them."""
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    sheet = np.zeros((rows * TILE_H, columns * TILE_W, 3), dtype=np.uint8)
    cues = ["WEBVTT", ""]
    for index in range(count):
        y, x = divmod(index, columns)
        tile = cv2.resize(tiles[index % len(tiles)], (TILE_W, TILE_H))
        sheet[y * TILE_H : (y + 1) * TILE_H, x * TILE_W : (x + 1) * TILE_W] = tile
        start, end = index * 5, index * 5 + 5
        cues += [
            f"{_stamp(start)} --> {_stamp(end)}",
            f"bench_sprite.jpg#xywh={x * TILE_W},{y * TILE_H},{TILE_W},{TILE_H}",
            "",
        ]
    ok, encoded = cv2.imencode(".jpg", sheet, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("could not encode the benchmark sprite")
    return bytes(encoded.tobytes()), "\n".join(cues)


def sprite_tiles_of(sprite: bytes, vtt: str) -> list[np.ndarray]:
    """The tiles of a scene's sprite, in VTT order."""
    return [frame.image for frame in sprite_frames(sprite, vtt)]


def shared_dev_tiles(folder: Path) -> list[np.ndarray]:
    """The tiles of the dev sprites in `folder` (empty when none is there)."""
    tiles: list[np.ndarray] = []
    for name in DEV_SPRITES:
        sprite, vtt = folder / f"{name}_sprite.jpg", folder / f"{name}_thumbs.vtt"
        if sprite.is_file() and vtt.is_file():
            tiles += sprite_tiles_of(sprite.read_bytes(), vtt.read_text())
    return tiles


def _stamp(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.000"
