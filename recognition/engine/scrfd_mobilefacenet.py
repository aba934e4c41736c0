"""The `scrfd-mobilefacenet` profile: SCRFD-2.5G boxes and keypoints, ArcFace 5-point
alignment to 112x112, MobileFaceNet 192-d embeddings compared by cosine."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from recognition.engine.errors import ModelFetchError
from recognition.engine.fetch import scrfd_model_path
from recognition.engine.mobilefacenet_fetch import (
    CHIP_SIZE,
    EMBEDDING_DIM,
    INPUT_NAME,
    OUTPUT_NAME,
    onnx_model_path,
    tflite_model_path,
)
from recognition.engine.profile import l2_normalize
from recognition.engine.providers import session_options
from recognition.engine.scrfd_profile import ScrfdProfile
from recognition.engine.types import Detection, Embeddings, ImageBGR, Metric

# insightface's norm_crop calls scikit-image's deprecated SimilarityTransform.estimate; the
# result is the same, and a warning per face would flood the logs.
warnings.filterwarnings("ignore", category=FutureWarning, module="insightface.utils.face_align")


class MobileFaceNetEmbedder:
    """The converted MobileFaceNet under onnxruntime; `compute` is safe from several threads."""

    def __init__(self, model_path: Path, *, providers: list[str], threads: int) -> None:
        import onnxruntime

        try:
            self._session = onnxruntime.InferenceSession(
                str(model_path), session_options(threads), providers=providers
            )
        except Exception as error:  # onnxruntime's errors share no base class but Exception
            raise ModelFetchError(f"cannot load {model_path}: {error}") from error

    @property
    def provider(self) -> str:
        """The execution provider the session runs on (onnxruntime's fallback included)."""
        return str(self._session.get_providers()[0])

    def compute(self, chips_rgb: np.ndarray) -> Embeddings:
        """Unit-length embeddings (n, 192) of uint8 RGB chips (n, 112, 112, 3)."""
        batch = (chips_rgb.astype(np.float32) - 127.5) / 127.5
        raw = self._session.run([OUTPUT_NAME], {INPUT_NAME: batch.transpose(0, 3, 1, 2)})[0]
        return l2_normalize(raw)


class ScrfdMobileFaceNetProfile(ScrfdProfile):
    """SCRFD finds faces and their five keypoints; the ArcFace similarity transform maps the
    keypoints onto a fixed 112x112 template (insightface's `norm_crop`); MobileFaceNet embeds.

    Alignment is what this network needs: on the package's own unaligned box crops it names
    a fifth of what it names aligned. The embedding of the chip is averaged with that of its
    mirror image (flip test-time augmentation) and normalised again.
    """

    name = "scrfd-mobilefacenet"
    dim = EMBEDDING_DIM
    metric: Metric = "cosine"

    def __init__(
        self,
        models_dir: Path,
        *,
        threads: int,
        providers: list[str] | None = None,
        flip_average: bool = True,
    ) -> None:
        self.flip_average = flip_average
        paths = {
            "detector": scrfd_model_path(models_dir),
            "recogniser": onnx_model_path(models_dir),
            "recogniser_original": tflite_model_path(models_dir),
        }
        chosen = self._load_detector(models_dir, paths, threads=threads, providers=providers)
        self._embedder = MobileFaceNetEmbedder(
            paths["recogniser"], providers=chosen, threads=threads
        )

    def session_providers(self) -> dict[str, str]:
        return {**super().session_providers(), "recogniser": self._embedder.provider}

    @property
    def preprocessing(self) -> dict[str, Any]:
        return {
            **self._detector_preprocessing(),
            "alignment": "arcface_5_point_similarity",
            "chip_size": CHIP_SIZE,
            "input_scale": "rgb_minus_127.5_over_127.5",
            "embedder": "mobilefacenet_192",
            "flip_average": self.flip_average,
        }

    def align(self, image_bgr: ImageBGR, detections: list[Detection]) -> list[ImageBGR]:
        from insightface.utils.face_align import norm_crop

        return [
            np.ascontiguousarray(
                norm_crop(image_bgr, detection.landmarks_array(), image_size=CHIP_SIZE),
                dtype=np.uint8,
            )
            for detection in detections
        ]

    def embed_chips(self, chips: list[ImageBGR], *, augment: bool = True) -> Embeddings:
        if not chips:
            return np.zeros((0, self.dim), dtype=np.float32)
        batch = np.stack([cv2.cvtColor(chip, cv2.COLOR_BGR2RGB) for chip in chips])
        if not (self.flip_average and augment):
            return self._embedder.compute(batch)
        both = self._embedder.compute(np.concatenate([batch, batch[:, :, ::-1]]))
        count = len(chips)
        return l2_normalize(both[:count] + both[count:])
