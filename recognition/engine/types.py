"""The value types every face profile produces (see `profile.Profile` for the interface)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Metric = Literal["l2", "cosine"]
ImageBGR = npt.NDArray[np.uint8]
Embeddings = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Detection:
    """One detected face: box corners and 5 landmarks in the source image's pixels.

    Landmarks are SCRFD's order: left eye, right eye, nose tip, left and right mouth corner
    (left/right as seen in the image).
    """

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    landmarks: tuple[tuple[float, float], ...]

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def size(self) -> float:
        """The face's short side in pixels: what limits recognisability."""
        return min(self.width, self.height)

    def landmarks_array(self) -> npt.NDArray[np.float32]:
        return np.asarray(self.landmarks, dtype=np.float32).reshape(-1, 2)

    def box_xywh(self) -> dict[str, int]:
        """The box as the REST API reports it."""
        return {
            "x": round(self.x1),
            "y": round(self.y1),
            "w": round(self.width),
            "h": round(self.height),
        }


@dataclass(frozen=True)
class FaceQuality:
    """How usable a face is for identification; `passed` is False when any gate failed."""

    det_score: float
    size: float
    blur: float
    yaw: float
    overall: float
    passed: bool
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "det_score": round(self.det_score, 4),
            "size": round(self.size, 1),
            "blur": round(self.blur, 4),
            "yaw": round(self.yaw, 1),
            "overall": round(self.overall, 4),
            "passed": self.passed,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class AnalyzedFace:
    """A detected face with its quality, its embedding and a JPEG of the aligned chip."""

    detection: Detection
    quality: FaceQuality
    embedding: npt.NDArray[np.float32]
    crop_jpeg: bytes = field(repr=False)
