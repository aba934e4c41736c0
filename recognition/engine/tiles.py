"""Faces in many small frames (sprite tiles) at once.

Detecting each 160x90 tile alone costs one full detector canvas (640x640) per tile. Here
tiles are enlarged by `scale` and packed side by side onto shared canvases, so one detector
run covers several tiles; every chip of the scene is then embedded in one batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
import numpy.typing as npt

from recognition.engine.profile import Profile, encode_jpeg
from recognition.engine.quality import DEFAULT_GATES, QualityGates, assess_face
from recognition.engine.types import AnalyzedFace, Detection, ImageBGR

# Just under 2x, so two enlarged 160x90 tiles and their gap fit across one canvas:
# 6 tiles per detector run instead of 3 (an 81-tile scene: 14 runs, not 27).
TILE_SCALE = 1.95
CANVAS = 640
GAP = 8  # blank pixels between tiles, so no box straddles two frames
# Chips per embedder run: a scene's video can hold a thousand faces, and onnxruntime keeps
# the activations of its largest batch (about 10 MB a chip).
EMBED_BATCH = 16


@dataclass(frozen=True)
class _Cell:
    tile: int
    x: int
    y: int
    width: int
    height: int

    def holds(self, detection: Detection) -> bool:
        cx, cy = (detection.x1 + detection.x2) / 2, (detection.y1 + detection.y2) / 2
        return self.x <= cx < self.x + self.width and self.y <= cy < self.y + self.height


def _pack(tiles: Sequence[ImageBGR], scale: float) -> list[tuple[ImageBGR, list[_Cell]]]:
    """Shelf-pack enlarged tiles onto CANVAS x CANVAS images."""
    canvases: list[tuple[ImageBGR, list[_Cell]]] = []
    canvas: ImageBGR | None = None
    cells: list[_Cell] = []
    x = y = shelf = 0
    for index, tile in enumerate(tiles):
        big = cv2.resize(tile, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        height, width = big.shape[:2]
        if width > CANVAS or height > CANVAS:
            canvases.append((np.ascontiguousarray(big), [_Cell(index, 0, 0, width, height)]))
            continue
        if canvas is not None and x + width > CANVAS:
            x, y, shelf = 0, y + shelf + GAP, 0
        if canvas is None or y + height > CANVAS:
            if canvas is not None:
                canvases.append((canvas, cells))
            canvas, cells, x, y, shelf = np.zeros((CANVAS, CANVAS, 3), np.uint8), [], 0, 0, 0
        canvas[y : y + height, x : x + width] = big
        cells.append(_Cell(index, x, y, width, height))
        x, shelf = x + width + GAP, max(shelf, height)
    if canvas is not None:
        canvases.append((canvas, cells))
    return canvases


def _to_tile(detection: Detection, cell: _Cell, scale: float) -> Detection:
    return replace(
        detection,
        x1=(detection.x1 - cell.x) / scale,
        y1=(detection.y1 - cell.y) / scale,
        x2=(detection.x2 - cell.x) / scale,
        y2=(detection.y2 - cell.y) / scale,
        landmarks=tuple(
            ((px - cell.x) / scale, (py - cell.y) / scale) for px, py in detection.landmarks
        ),
    )


def embed_in_batches(
    profile: Profile, chips: Sequence[ImageBGR], *, augment: bool = False
) -> npt.NDArray[np.float32]:
    """Embeddings of all chips, EMBED_BATCH at a time: one run over every chip of a long
    scene or a gallery holds all their activations at once (about 10 MB a chip)."""
    if not chips:
        return np.zeros((0, profile.dim), np.float32)
    batches = [
        profile.embed_chips(list(chips[start : start + EMBED_BATCH]), augment=augment)
        for start in range(0, len(chips), EMBED_BATCH)
    ]
    return np.asarray(np.concatenate(batches), dtype=np.float32)


def analyze_tiles(
    profile: Profile,
    tiles: Sequence[ImageBGR],
    *,
    scale: float = TILE_SCALE,
    min_size: float = 0.0,
    augment: bool = False,
    gates: QualityGates = DEFAULT_GATES,
) -> list[list[AnalyzedFace]]:
    """Every face of every tile (boxes in the tile's own pixels), embedded in one batch.

    Faces whose short side is under `min_size` tile pixels are dropped before embedding:
    they are too small to tell people apart and cost as much as any other face. Without
    `augment` descriptors skip test-time augmentation: a scene's many views of a person make
    up for the noise (on the dev stills sprite, mirror averaging changed no name and the
    mean confidence by 0.0001, for 20 % more time).
    """
    found: list[
        tuple[int, ImageBGR, Detection, Detection]
    ] = []  # tile, canvas, canvas box, tile box
    for canvas, cells in _pack(tiles, scale):
        for detection in profile.detect(canvas):
            cell = next((c for c in cells if c.holds(detection)), None)
            if cell is None:
                continue
            in_tile = _to_tile(detection, cell, scale)
            if in_tile.size >= min_size:
                found.append((cell.tile, canvas, detection, in_tile))
    chips = [profile.align(canvas, [on_canvas])[0] for _, canvas, on_canvas, _ in found]
    embeddings = embed_in_batches(profile, chips, augment=augment)
    per_tile: list[list[AnalyzedFace]] = [[] for _ in tiles]
    for (tile, _, _, in_tile), chip, embedding in zip(found, chips, embeddings, strict=True):
        per_tile[tile].append(
            AnalyzedFace(
                detection=in_tile,
                quality=assess_face(in_tile, chip, gates),
                embedding=np.asarray(embedding, dtype=np.float32),
                crop_jpeg=encode_jpeg(chip),
            )
        )
    return per_tile
