"""insightface model packs (`buffalo_l`, ...): SCRFD detector + ArcFace recogniser, cosine.

A pack is a folder `<models_dir>/models/<pack>/` of ONNX files in insightface's layout. The
two files we need are recognised by their graph signature, the way insightface routes them:
a detector has five or more outputs; a recogniser takes one square NCHW image of 112 px or
more (a multiple of 16) and returns one embedding. Landmark (192 px) and attribute (96 px)
models in the pack are ignored. insightface's pretrained weights are licensed for
non-commercial research only.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from recognition.engine.detector import ScrfdDetector
from recognition.engine.errors import ModelMissingError
from recognition.engine.fetch import sha256_of_file
from recognition.engine.profile import Profile, l2_normalize
from recognition.engine.providers import choose_providers, session_options
from recognition.engine.types import Detection, Embeddings, ImageBGR, Metric

_LANDMARK_INPUT_SIZE = 192


class InsightfacePackProfile(Profile):
    """Detection with the pack's SCRFD, ArcFace 5-point alignment, unit-norm embeddings."""

    metric: Metric = "cosine"

    def __init__(
        self,
        pack: str,
        models_dir: Path,
        *,
        threads: int,
        providers: list[str] | None = None,
    ) -> None:
        from insightface.model_zoo import get_model

        self.name = pack
        self.models_dir = models_dir
        pack_dir = models_dir / "models" / pack
        detector_path, recogniser_path = find_pack_models(pack_dir)
        chosen = choose_providers(providers)
        self._paths = {"detector": detector_path, "recogniser": recogniser_path}
        self._detector = ScrfdDetector(detector_path, providers=chosen, threads=threads)
        recogniser: Any = get_model(
            str(recogniser_path), providers=chosen, sess_options=session_options(threads)
        )
        if recogniser is None or getattr(recogniser, "taskname", None) != "recognition":
            raise ModelMissingError(f"{recogniser_path} is not a recognition model")
        recogniser.prepare(0)
        self._recogniser = recogniser
        self._chip_size = int(recogniser.input_size[0])
        batch_dimension = recogniser.input_shape[0]
        # Some exported recognisers fix the batch to 1: feed those one chip at a time.
        self._batch_fixed_to_one = isinstance(batch_dimension, int) and batch_dimension == 1
        self.dim = int(recogniser.output_shape[-1])
        self._hashes: dict[str, str] | None = None
        self._hash_lock = threading.Lock()

    @property
    def preprocessing(self) -> dict[str, Any]:
        return {
            "pack": self.name,
            "detector": self._paths["detector"].name,
            "detector_canvas": self._detector.canvas,
            "detector_threshold": self._detector.threshold,
            "alignment": "arcface_norm_crop_5_points",
            "chip_size": self._chip_size,
            "input_mean": float(self._recogniser.input_mean),
            "input_std": float(self._recogniser.input_std),
            "recogniser": self._paths["recogniser"].name,
            "normalized": True,
        }

    def model_hashes(self) -> dict[str, str]:
        with self._hash_lock:
            if self._hashes is None:
                self._hashes = {role: sha256_of_file(path) for role, path in self._paths.items()}
            return dict(self._hashes)

    def providers(self) -> list[str]:
        return self._detector.providers()

    def session_providers(self) -> dict[str, str]:
        recogniser = str(self._recogniser.session.get_providers()[0])
        return {**super().session_providers(), "recogniser": recogniser}

    def detect(self, image_bgr: ImageBGR, *, upscale_to: int | None = None) -> list[Detection]:
        return self._detector.detect(image_bgr, upscale_to=upscale_to)

    def align(self, image_bgr: ImageBGR, detections: list[Detection]) -> list[ImageBGR]:
        from insightface.utils import face_align

        return [
            np.ascontiguousarray(
                face_align.norm_crop(
                    image_bgr, landmark=detection.landmarks_array(), image_size=self._chip_size
                ),
                dtype=np.uint8,
            )
            for detection in detections
        ]

    def embed_chips(self, chips: list[ImageBGR], *, augment: bool = True) -> Embeddings:
        if not chips:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._batch_fixed_to_one:
            rows = [np.asarray(self._recogniser.get_feat(chip)).reshape(1, -1) for chip in chips]
            features = np.vstack(rows)
        else:
            features = np.asarray(self._recogniser.get_feat(list(chips)))
        return l2_normalize(features.reshape(len(chips), -1).astype(np.float32))


def find_pack_models(pack_dir: Path) -> tuple[Path, Path]:
    """(detector, recogniser) ONNX files of an insightface pack folder."""
    if not pack_dir.is_dir():
        raise ModelMissingError(
            f"model pack folder {pack_dir} does not exist: run `manage.py fetch_models` "
            "or unpack the insightface pack there"
        )
    detector: Path | None = None
    recogniser: Path | None = None
    for path in sorted(pack_dir.glob("*.onnx")):
        role = _onnx_role(path)
        if role == "detection" and detector is None:
            detector = path
        elif role == "recognition" and recogniser is None:
            recogniser = path
    if detector is None or recogniser is None:
        missing = "detector" if detector is None else "recogniser"
        raise ModelMissingError(
            f"no {missing} ONNX model in {pack_dir}: run `manage.py fetch_models`"
        )
    return detector, recogniser


def _onnx_role(path: Path) -> str | None:
    import onnx

    try:
        graph = onnx.load_model(str(path), load_external_data=False).graph
    except Exception:  # a truncated or foreign file is simply not a usable model
        return None
    if len(graph.output) >= 5:
        return "detection"
    if len(graph.input) < 1 or len(graph.output) != 1:
        return None
    dimensions = [dimension.dim_value for dimension in graph.input[0].type.tensor_type.shape.dim]
    if len(dimensions) != 4:
        return None
    height, width = dimensions[2], dimensions[3]
    if height == width and height >= 112 and height % 16 == 0 and height != _LANDMARK_INPUT_SIZE:
        return "recognition"
    return None
