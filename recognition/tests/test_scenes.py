from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from recognition.scenes import (
    SceneInputError,
    SpriteCue,
    decode_image,
    frames_from_images,
    parse_vtt,
    sprite_frames,
    sprite_tiles,
)

SPRITES = Path(__file__).resolve().parents[2].parent / "shared" / "faces" / "sprites"


def _cells(name: str) -> list[dict[str, str]]:
    with open(SPRITES / f"{name}_cells.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", ["dev_video", "dev_stills"])
def test_real_stash_vtt_gives_one_cue_per_cell_of_the_sprite(name: str) -> None:
    cues = parse_vtt((SPRITES / f"{name}_thumbs.vtt").read_text())

    assert len(cues) == 25
    for cue, cell in zip(cues, _cells(name), strict=True):
        assert cue.index == int(cell["index"])
        assert (cue.x, cue.y, cue.w, cue.h) == tuple(int(cell[key]) for key in "xywh")
        assert cue.end > cue.start


def test_real_video_vtt_keeps_the_time_spans_in_seconds() -> None:
    cues = parse_vtt((SPRITES / "dev_video_thumbs.vtt").read_text())

    assert cues[0].start == 0.0
    assert cues[1].start == pytest.approx(0.367)
    assert cues[1].end == pytest.approx(0.734)


def test_real_sprite_is_cut_into_160_by_90_tiles_in_cue_order() -> None:
    sprite = cv2.imread(str(SPRITES / "dev_video_sprite.jpg"))
    assert sprite is not None
    cues = parse_vtt((SPRITES / "dev_video_thumbs.vtt").read_text())

    tiles = sprite_tiles(sprite, cues)

    assert len(tiles) == 25
    assert {tile.shape for tile in tiles} == {(90, 160, 3)}
    np.testing.assert_array_equal(tiles[6], sprite[90:180, 160:320])


def test_sprite_frames_decodes_the_sprite_bytes_and_keeps_times() -> None:
    frames = sprite_frames(
        (SPRITES / "dev_stills_sprite.jpg").read_bytes(),
        (SPRITES / "dev_stills_thumbs.vtt").read_text(),
    )

    assert [frame.index for frame in frames] == list(range(25))
    assert frames[24].start == 120.0 and frames[24].end == 125.0
    assert frames[0].image.shape == (90, 160, 3)


def test_bom_crlf_short_timestamps_identifiers_and_notes_are_accepted() -> None:
    text = (
        "\ufeffWEBVTT\r\n\r\nNOTE made by hand\r\n\r\n"
        "1\r\n00:01.500 --> 00:02.000 align:start\r\nscene_sprite.jpg#xywh=160,0,160,90\r\n\r\n"
        "01:00:00.000 --> 01:00:01.250\r\nhttp://stash/scene/1/sprite.jpg#xywh=0,90,160,90\r\n"
    )

    cues = parse_vtt(text)

    assert cues == [
        SpriteCue(index=0, start=1.5, end=2.0, x=160, y=0, w=160, h=90),
        SpriteCue(index=1, start=3600.0, end=3601.25, x=0, y=90, w=160, h=90),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nsprite.jpg\n", "line 4"),
        ("WEBVTT\n\n00:00:00.000 -> 00:00:01.000\nsprite.jpg#xywh=0,0,1,1\n", "line 3"),
        ("WEBVTT\n\n00:00:0.000 --> 00:00:01.000\nsprite.jpg#xywh=0,0,1,1\n", "bad timestamp"),
        ("WEBVTT\n\n00:00:02.000 --> 00:00:01.000\nsprite.jpg#xywh=0,0,1,1\n", "ends before"),
        ("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n", "no '#xywh='"),
        ("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nsprite.jpg#xywh=0,0,0,90\n", "empty cell"),
        ("WEBVTT\n\n", "no cues"),
        ("", "no cues"),
    ],
)
def test_malformed_vtt_raises_a_scene_input_error_naming_the_problem(
    text: str, message: str
) -> None:
    with pytest.raises(SceneInputError, match=message) as raised:
        parse_vtt(text)
    assert raised.value.message


def test_a_cue_outside_the_sprite_raises_a_scene_input_error() -> None:
    sprite = np.zeros((90, 320, 3), dtype=np.uint8)
    cues = [
        SpriteCue(index=0, start=0, end=1, x=160, y=0, w=160, h=90),
        SpriteCue(index=1, start=1, end=2, x=320, y=0, w=160, h=90),
    ]

    with pytest.raises(SceneInputError, match=r"cue 1 .* outside the 320x90 sprite"):
        sprite_tiles(sprite, cues)


def test_frames_from_images_decodes_bytes_and_refuses_garbage() -> None:
    encoded = cv2.imencode(".png", np.full((20, 30, 3), 200, dtype=np.uint8))[1].tobytes()

    frames = frames_from_images([encoded, np.zeros((5, 5, 3), dtype=np.uint8)])

    assert [frame.index for frame in frames] == [0, 1]
    assert frames[0].image.shape == (20, 30, 3)
    with pytest.raises(SceneInputError, match="frame 1: the upload is not a supported image"):
        frames_from_images([encoded, b"not an image"])
    with pytest.raises(SceneInputError, match="no frames"):
        frames_from_images([])
    with pytest.raises(SceneInputError, match="empty"):
        decode_image(b"")
