"""A Stash scene's sources for identification: its sprite + VTT, its video stream (read in
place with HTTP Range, never downloaded), its screenshot and its cast.

Which are read depends on the mode: `sprite` only the preview; `video` the stream and the
screenshot; `auto` (the default) all of them, where a missing sprite or a missing video is
no error as long as the other one is there.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from recognition.identification import SceneIdentification, identify_scene
from recognition.video import DEFAULT_FRAMES
from stash.client import StashClient, StashError, StashSceneUnusable, stash_error_of
from stashsense.http import OutboundError, RangedReader

# What one request may read of a video in all (seeks included): 60 samples of a 4K file
# read about 60 x 2-8 MB.
MAX_STREAM_BYTES = 2 * 1024 * 1024 * 1024
STREAM_READ_TIMEOUT = 30.0
DEFAULT_STASH_MODE = "auto"


@dataclass
class StashSceneSources:
    """What was read of a Stash scene; `video` is an open reader (close it) or None."""

    scene_id: str
    sprite: bytes | None
    vtt: str | None
    video: RangedReader | None
    screenshot: bytes | None
    cast: list[dict[str, str]]

    def close(self) -> None:
        if self.video is not None:
            self.video.close()


def _cast(client: StashClient, scene_id: str) -> tuple[Any, list[dict[str, str]]]:
    scene = client.find_scene(scene_id, with_stream=True)
    return scene, [{"endpoint": s.endpoint, "stash_id": s.stash_id} for s in scene.cast_stash_ids]


@contextmanager
def stash_scene_sources(
    *, stash_scene_id: str, mode: str | None, client: StashClient
) -> Iterator[StashSceneSources]:
    """Read what `mode` needs of a scene (StashError kinds when Stash cannot serve it)."""
    mode = mode or DEFAULT_STASH_MODE
    scene, cast = _cast(client, str(stash_scene_id))
    sprite = vtt = None
    no_sprite: StashSceneUnusable | None = None
    if mode in ("sprite", "auto"):
        try:
            sprite, vtt = client.scene_sprite(scene)
        except StashSceneUnusable as error:
            if mode == "sprite":
                raise
            no_sprite = error
    video = None
    screenshot = None
    if mode in ("video", "auto"):
        try:
            video = client.open_stream(
                scene,
                deadline=time.monotonic() + settings.STASHSENSE_VIDEO_DECODE_SECONDS,
                max_bytes=MAX_STREAM_BYTES,
                read_timeout=min(STREAM_READ_TIMEOUT, settings.STASHSENSE_VIDEO_DECODE_SECONDS),
            )
        except StashSceneUnusable:
            if mode == "video":
                raise
            if no_sprite is not None:  # neither: say what Stash can generate
                raise no_sprite from None
        if video is not None:
            screenshot = client.scene_screenshot(scene)
    sources = StashSceneSources(scene.id, sprite, vtt, video, screenshot, cast)
    try:
        yield sources
    finally:
        sources.close()


def stash_scene_identify(
    *,
    stash_scene_id: str,
    mode: str | None = None,
    frame_count: int = DEFAULT_FRAMES,
    known_performer_ids: Collection[Any] = (),
    top_k: int = 3,
    threshold: float | None = None,
    client: StashClient,
) -> tuple[str, SceneIdentification]:
    """Identify a Stash scene from what `mode` reads of it; (Stash's scene id, the result).

    A failure while the video streams (Stash stalls, errors, drops the key) is Stash's, and
    answered as such (502/504), not as a bad video.
    """
    with stash_scene_sources(stash_scene_id=stash_scene_id, mode=mode, client=client) as sources:
        try:
            result = identify_scene(
                sprite=sources.sprite,
                vtt=sources.vtt,
                video=sources.video,
                screenshot=sources.screenshot,
                mode=None if sources.video is None else mode or DEFAULT_STASH_MODE,
                frame_count=frame_count,
                known_performer_ids=[*known_performer_ids, *sources.cast],
                top_k=top_k,
                threshold=threshold,
            )
        except OutboundError as error:
            raise stash_error_of(error, "video") from error
    return sources.scene_id, result


__all__ = ["StashError", "StashSceneSources", "stash_scene_identify", "stash_scene_sources"]
