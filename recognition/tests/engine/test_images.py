from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from recognition.engine import ImageError, decode_image
from recognition.tests.engine.support import FACES, faces_or_skip


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming width x height whose pixel data is a few bytes: a bomb's header."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)[:12])
        + png_chunk(b"IEND", b"")
    )


def test_decode_image_returns_bgr_pixels() -> None:
    data = encode(Image.new("RGB", (40, 30), (255, 0, 0)), "PNG")

    image = decode_image(data, max_pixels=10_000)

    assert image.shape == (30, 40, 3)
    assert image.dtype == np.uint8
    assert tuple(image[0, 0]) == (0, 0, 255)


def test_decode_image_turns_the_photo_upright_from_its_exif_orientation() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    data = encode(Image.new("RGB", (60, 20), (0, 128, 0)), "JPEG", exif=exif)

    image = decode_image(data, max_pixels=10_000)

    assert image.shape[:2] == (60, 20)


def test_decode_image_rejects_bytes_that_are_not_an_image() -> None:
    with pytest.raises(ImageError) as raised:
        decode_image(b"<html>definitely not a jpeg</html>", max_pixels=10_000)
    assert raised.value.code == "not_an_image"

    with pytest.raises(ImageError) as raised:
        decode_image(b"", max_pixels=10_000)
    assert raised.value.code == "not_an_image"


def test_decode_image_rejects_a_truncated_jpeg() -> None:
    photo = faces_or_skip(FACES) / "obama" / "001.jpg"
    data = photo.read_bytes()

    with pytest.raises(ImageError) as raised:
        decode_image(data[: len(data) // 2], max_pixels=40_000_000)

    assert raised.value.code == "truncated"


def test_decode_image_rejects_an_image_smaller_than_sixteen_pixels_a_side() -> None:
    data = encode(Image.new("RGB", (15, 200)), "PNG")

    with pytest.raises(ImageError) as raised:
        decode_image(data, max_pixels=10_000)

    assert raised.value.code == "too_small"


def test_decode_image_refuses_a_decompression_bomb_from_its_header_alone() -> None:
    # 60000 x 60000 claimed in 33 bytes: decoding would fail as truncated, so a "too_large"
    # answer proves the size was checked before any pixel was decoded.
    with pytest.raises(ImageError) as raised:
        decode_image(png_header_only(60_000, 60_000), max_pixels=40_000_000)
    assert raised.value.code == "too_large"

    with pytest.raises(ImageError) as raised:
        decode_image(png_header_only(100, 100), max_pixels=40_000_000)
    assert raised.value.code == "truncated"

    with pytest.raises(ImageError) as raised:
        decode_image(encode(Image.new("RGB", (200, 200)), "PNG"), max_pixels=10_000)
    assert raised.value.code == "too_large"


def test_a_complete_jpeg_and_the_same_jpeg_with_trailing_bytes_decode_to_the_same_pixels() -> None:
    # The first takes OpenCV's fast path, the second (no end marker last) PIL's.
    data = (faces_or_skip(FACES) / "obama" / "001.jpg").read_bytes()
    assert data.endswith(b"\xff\xd9")

    fast, general = decode_image(data), decode_image(data + b"\x00trailing")

    assert fast.shape == general.shape and fast.dtype == general.dtype == np.uint8
    assert np.array_equal(fast, general)
