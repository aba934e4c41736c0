"""The profile interface: detect → align → embed, with a shared `analyze`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from recognition.engine.quality import DEFAULT_GATES, QualityGates, assess_face
from recognition.engine.types import AnalyzedFace, Detection, Embeddings, ImageBGR, Metric

CROP_JPEG_QUALITY = 90


class Profile(ABC):
    """A detector + aligner + embedder with fixed preprocessing (see MISSION.md, "profile").

    Embeddings from different profiles are never comparable; an index records its profile
    name, `preprocessing` and `model_hashes()`. Instances are shared by every thread of a
    process (see `get_profile`), so implementations must be thread-safe.
    """

    name: str
    dim: int
    metric: Metric
    models_dir: Path

    @property
    @abstractmethod
    def preprocessing(self) -> dict[str, Any]:
        """Everything that changes embeddings, for index and bundle manifests (JSON-able)."""

    @abstractmethod
    def model_hashes(self) -> dict[str, str]:
        """sha256 of every model file, keyed by role (detector, recogniser, ...)."""

    @abstractmethod
    def providers(self) -> list[str]:
        """The onnxruntime execution providers in use."""

    def session_providers(self) -> dict[str, str]:
        """The provider each model really runs on, by role (detector, recogniser).

        onnxruntime drops a GPU provider whose CUDA or cuDNN libraries fail to load and runs
        on the CPU: only the session's own list says which one it got.
        """
        return {"detector": self.providers()[0]}

    @abstractmethod
    def detect(self, image_bgr: ImageBGR, *, upscale_to: int | None = None) -> list[Detection]:
        """Faces sorted by detection score; boxes in `image_bgr`'s own pixels.

        `upscale_to` enlarges an image whose long side is shorter than it before detection
        (sprite tiles are 160x90 with 10-40 px faces).
        """

    @abstractmethod
    def align(self, image_bgr: ImageBGR, detections: list[Detection]) -> list[ImageBGR]:
        """One aligned BGR face chip per detection, in the embedder's expected geometry."""

    @abstractmethod
    def embed_chips(self, chips: list[ImageBGR], *, augment: bool = True) -> Embeddings:
        """Embeddings (n, dim) float32 of chips made by `align`.

        `augment=False` skips test-time augmentation (mirror averaging) where a profile has
        it: half the time, slightly noisier vectors. Scenes use it; gallery faces never do.
        """

    def embed(self, image_bgr: ImageBGR, detections: list[Detection]) -> Embeddings:
        """One embedding row per detection, shape (n, dim), float32."""
        return self.embed_chips(self.align(image_bgr, detections))

    def analyze(
        self,
        image_bgr: ImageBGR,
        *,
        upscale_to: int | None = None,
        max_faces: int | None = None,
        gates: QualityGates = DEFAULT_GATES,
    ) -> list[AnalyzedFace]:
        """Detect, assess, align and embed every face, largest first (at most `max_faces`).

        Faces failing a quality gate are returned with `quality.passed == False`; the caller
        decides whether to drop them.
        """
        detections = self.detect(image_bgr, upscale_to=upscale_to)
        detections.sort(key=lambda detection: detection.width * detection.height, reverse=True)
        if max_faces is not None:
            detections = detections[: max(0, max_faces)]
        if not detections:
            return []
        chips = self.align(image_bgr, detections)
        embeddings = self.embed_chips(chips)
        return [
            AnalyzedFace(
                detection=detection,
                quality=assess_face(detection, chip, gates),
                embedding=embeddings[index],
                crop_jpeg=encode_jpeg(chip),
            )
            for index, (detection, chip) in enumerate(zip(detections, chips, strict=True))
        ]

    def describe(self) -> dict[str, Any]:
        """What an index or bundle manifest records about the profile."""
        return {
            "name": self.name,
            "dim": self.dim,
            "metric": self.metric,
            "preprocessing": self.preprocessing,
            "model_hashes": self.model_hashes(),
        }


def encode_jpeg(chip_bgr: ImageBGR) -> bytes:
    ok, buffer = cv2.imencode(".jpg", chip_bgr, [cv2.IMWRITE_JPEG_QUALITY, CROP_JPEG_QUALITY])
    if not ok:
        raise ValueError("could not encode a face chip as JPEG")
    return bytes(buffer.tobytes())


def l2_normalize(embeddings: np.ndarray) -> Embeddings:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    return np.asarray(embeddings / np.maximum(norms, 1e-12), dtype=np.float32)
