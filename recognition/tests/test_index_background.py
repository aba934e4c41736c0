"""Index loads and catch-ups run in the background: a request never waits for them for long."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from recognition.configured_profile import profile_for
from recognition.models import IndexBuild
from recognition.searchable_gallery import DELTA_BATCH, IndexLoading, gallery_for
from recognition.services import index_build
from stashsense.tests.fault.stack import wait_for
from stashsense.tests.fault.synthetic_gallery import gallery_fill

pytestmark = pytest.mark.models


def _fill(faces: int) -> None:
    profile = profile_for()
    gallery_fill(faces=faces, performers=5, profile=profile.name, dim=profile.dim)


def _loaded_size() -> int:
    try:
        gallery_for().refresh()
    except IndexLoading:
        return 0
    return gallery_for().size()


@pytest.mark.django_db
def test_a_request_during_a_slow_first_load_gets_index_loading_at_once_then_the_index(
    face_models: None, tmp_path: Path
) -> None:
    _fill(40)
    build = index_build()
    # The index file becomes a FIFO nobody writes yet: its loader blocks like a load of a
    # file of millions of faces from a slow disk, for as long as the test wants.
    real = tmp_path / "real.index"
    shutil.copyfile(build.path, real)
    fifo = tmp_path / "slow.index"
    os.mkfifo(fifo)
    IndexBuild.objects.filter(pk=build.pk).update(path=str(fifo))

    with pytest.raises(IndexLoading) as loading:
        gallery_for().refresh()  # what a request does: it comes back instead of waiting

    assert loading.value.retry_after and loading.value.code == "index_loading"
    magic = real.read_bytes()[:4]
    writer = os.open(fifo, os.O_WRONLY)  # the loader waits in open(): this meets it
    os.replace(real, fifo)  # the rest of the load reads the real file
    os.write(writer, magic)
    os.close(writer)
    assert wait_for(_loaded_size, timeout=60, what="the background load") == 40


@pytest.mark.django_db(transaction=True)
def test_a_large_backlog_of_new_faces_is_appended_in_the_background(face_models: None) -> None:
    _fill(10)
    index_build()
    assert wait_for(_loaded_size, timeout=60, what="the first load") == 10
    _fill(2 * DELTA_BATCH + 5)  # an import: thousands of faces the index file does not hold

    gallery_for().refresh()  # a request appends one batch and hands the rest over

    background = gallery_for()._background
    assert background is not None and background.name == "index-catch-up"
    assert gallery_for().size() >= 10 + DELTA_BATCH
    total = 10 + 2 * DELTA_BATCH + 5
    assert wait_for(lambda: gallery_for().size() == total, timeout=120, what="the catch-up")
