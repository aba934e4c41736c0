"""SCRFD face detection through insightface's model zoo, with upscaling for small images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from recognition.engine.providers import session_options
from recognition.engine.types import Detection, ImageBGR

DEFAULT_CANVAS = 640
DEFAULT_DETECTION_THRESHOLD = 0.5
DEFAULT_NMS_THRESHOLD = 0.4
STRIDE = 32


class ScrfdDetector:
    """One SCRFD ONNX session; `detect` is safe to call from several threads at once."""

    def __init__(
        self,
        model_path: Path,
        *,
        providers: list[str],
        threads: int,
        canvas: int = DEFAULT_CANVAS,
        threshold: float = DEFAULT_DETECTION_THRESHOLD,
    ) -> None:
        from insightface.model_zoo import get_model

        self.model_path = model_path
        self.canvas = canvas
        self.threshold = threshold
        # insightface would build one more onnxruntime session per input size it sees (a
        # fixed-shape copy); with canvases shaped like the images that is up to ~40 sessions
        # (19 sizes grew a process by 713 MB), for no measurable gain (640x640: 43.2 vs 43.7 ms).
        # Every size runs on the one size-free session instead.
        model: Any = get_model(
            str(model_path),
            providers=providers,
            sess_options=session_options(threads),
            static_shape_sessions=False,
        )
        if model is None or getattr(model, "taskname", None) != "detection":
            raise ValueError(f"{model_path} is not an SCRFD detection model")
        # ctx_id >= 0 keeps the providers given above; a negative one would force the CPU.
        model.prepare(0, input_size=(canvas, canvas), det_thresh=threshold)
        model.nms_thresh = DEFAULT_NMS_THRESHOLD
        self._model = model
        # A model whose input height and width are free (scrfd_dynamic) gets a canvas shaped
        # like the image; a fixed one always gets the square.
        input_shape = model.session.get_inputs()[0].shape
        self.size_free = not all(isinstance(dim, int) for dim in input_shape[2:4])

    def providers(self) -> list[str]:
        return list(self._model.session.get_providers())

    def detect(self, image_bgr: ImageBGR, *, upscale_to: int | None = None) -> list[Detection]:
        """Faces sorted by detection score, coordinates in `image_bgr`'s pixels.

        With `upscale_to`, an image whose long side is shorter is enlarged to it first
        (bicubic), which is what lets 10-40 px faces in 160x90 sprite tiles be found. Beyond
        the detector's canvas (640) an enlargement would only be shrunk again, so it is capped.
        """
        scale = 1.0
        work = image_bgr
        long_side = max(image_bgr.shape[:2])
        target = min(upscale_to, self.canvas) if upscale_to is not None else 0
        if 0 < long_side < target:
            scale = target / long_side
            resized = cv2.resize(image_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
            work = np.asarray(resized, dtype=np.uint8)
        boxes, keypoints = self._model.detect(work, input_size=self.input_size(work.shape))
        return _to_detections(boxes, keypoints, scale, image_bgr.shape[1], image_bgr.shape[0])

    def input_size(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """(width, height) of the detector input for an image of `shape`.

        A fixed model always gets the square canvas. A size-free one gets a canvas shaped
        like the image: the long side maps to the canvas as before, so faces are seen at the
        same scale, and the short side takes only the room the scaled image needs.
        (Enlarging small images less was tried: capped at 2.5x, 150 px photos were detected
        3x faster but faces-open's TAR at 1 % FAR fell from 0.914 to 0.889.)
        """
        if not self.size_free:
            return (self.canvas, self.canvas)
        height, width = shape[:2]
        scale = self.canvas / max(height, width)
        return (
            min(self.canvas, _round_up(width * scale)),
            min(self.canvas, _round_up(height * scale)),
        )


def _round_up(length: float) -> int:
    return max(STRIDE, -(-int(length) // STRIDE) * STRIDE)


def _to_detections(
    boxes: np.ndarray, keypoints: np.ndarray | None, scale: float, width: int, height: int
) -> list[Detection]:
    detections = []
    for index in range(boxes.shape[0]):
        x1, y1, x2, y2, score = (float(value) for value in boxes[index])
        points = keypoints[index] / scale if keypoints is not None else np.zeros((5, 2), np.float32)
        detections.append(
            Detection(
                x1=max(0.0, x1 / scale),
                y1=max(0.0, y1 / scale),
                x2=min(float(width), x2 / scale),
                y2=min(float(height), y2 / scale),
                score=score,
                landmarks=tuple((float(x), float(y)) for x, y in points),
            )
        )
    detections.sort(key=lambda detection: detection.score, reverse=True)
    return detections


def primary_face_index(detections: list[Detection], width: int, height: int) -> int | None:
    """The face a portrait is "of": large and central (other people sit at the edges)."""
    if not detections:
        return None
    best_index, best_value = 0, -np.inf
    for index, detection in enumerate(detections):
        offset_x = (detection.x1 + detection.x2) / 2 - width / 2
        offset_y = (detection.y1 + detection.y2) / 2 - height / 2
        value = detection.width * detection.height - 2.0 * (offset_x**2 + offset_y**2)
        if value > best_value:
            best_index, best_value = index, value
    return best_index
