"""Faces of many tiles at once: embedded in bounded batches, with the same vectors as one run."""

from __future__ import annotations

from typing import Any

import numpy as np

from recognition.engine import tiles
from recognition.engine.images import decode_image
from recognition.tests.engine.support import FACES, default_profile_or_skip


class CountingProfile:
    """The real profile, recording how many chips each embedding run got."""

    def __init__(self, profile: Any) -> None:
        self.profile = profile
        self.dim = profile.dim
        self.runs: list[int] = []

    def embed_chips(self, chips: list[Any], *, augment: bool = True) -> Any:
        self.runs.append(len(chips))
        return self.profile.embed_chips(chips, augment=augment)


def test_many_chips_are_embedded_in_bounded_batches_with_the_vectors_of_one_run() -> None:
    profile = default_profile_or_skip()
    image = decode_image((FACES / "obama" / "001.jpg").read_bytes(), max_pixels=50_000_000)
    [chip] = profile.align(image, profile.detect(image)[:1])
    # 2.5 batches of different chips: a shifted copy of one face each (order must be kept)
    chips = [np.ascontiguousarray(np.roll(chip, shift, axis=1)) for shift in range(40)]
    counting = CountingProfile(profile)
    batched = tiles.embed_in_batches(counting, chips, augment=False)  # type: ignore[arg-type]
    assert counting.runs == [tiles.EMBED_BATCH, tiles.EMBED_BATCH, 40 - 2 * tiles.EMBED_BATCH]
    assert np.allclose(batched, profile.embed_chips(chips, augment=False), atol=1e-5)
    assert tiles.embed_in_batches(profile, [], augment=False).shape == (0, profile.dim)
