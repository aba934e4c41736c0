"""A served stack shared by the tests that hit a real server: gunicorn over a small real gallery."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from stashsense.tests.fault.stack import (
    Server,
    Stack,
    enroll,
    gunicorn,
    models_or_skip,
    photos_or_skip,
    stack_create,
    stack_database,
)

# Gallery photos per identity folder of ../shared/faces; the probes below are other photos.
GALLERY = {
    "obama": ["001.jpg"],
    "biden": ["001.jpg"],
    "Bill_Simon": ["001.jpg", "002.jpg"],
    "Carmen_Electra": ["001.jpg", "002.jpg"],
}
# Probe photo → the performer it shows. Small single-person photos: each takes the detector
# and the embedder about a third of a second on 2 cores, so fifty of them stay quick.
PROBES = {
    "obama/003.jpg": "obama",
    "obama/007.jpg": "obama",
    "biden/002.jpg": "biden",
    "Bill_Simon/005.jpg": "Bill Simon",
    "Carmen_Electra/005.jpg": "Carmen Electra",
}
INFERENCE_CONCURRENCY = 2
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_IMAGE_PIXELS = 4_000_000


@dataclass(frozen=True)
class Served:
    stack: Stack
    server: Server


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """gunicorn (one worker, 8 threads, 2 inference slots) over an enrolled and indexed gallery.

    Its limits are lowered (2 MiB uploads, 4 megapixels) so the limit tests stay small; every
    photo the other tests send is below them.
    """
    models_or_skip()
    photos_or_skip()
    with stack_database("served") as database:
        stack = stack_create(
            tmp_path_factory.mktemp("served"),
            STASHSENSE_INFERENCE_CONCURRENCY=str(INFERENCE_CONCURRENCY),
            STASHSENSE_MAX_UPLOAD_BYTES=str(MAX_UPLOAD_BYTES),
            STASHSENSE_MAX_IMAGE_PIXELS=str(MAX_IMAGE_PIXELS),
            **database,
        )
        enroll(stack, GALLERY)  # and its index
        with gunicorn(stack, threads=8) as server:
            yield Served(stack=stack, server=server)
