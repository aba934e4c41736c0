"""Face quality: cheap signals that say whether an embedding can be trusted.

Every signal comes from the detection (score, box, landmarks) or the aligned chip (blur), so
quality costs well under a millisecond per face. Gates are configurable because sprite tiles
need different limits than uploaded portraits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from recognition.engine.types import Detection, FaceQuality, ImageBGR

# Sharpness is measured on the chip shrunk to 64 px, so that the softness of upscaling a
# 50 px face (LFW) does not count as blur while real defocus or motion blur still does. On the
# dev photos the Laplacian variance at 64 px was >= 178 for every face and <= 127 for every
# face blurred by a 4 px Gaussian at chip scale; `blur` maps it to 0 (sharp) .. 1 (no detail).
# The gates hold for both profiles' chips (dev set, first two photos of each identity): blur of
# sharp faces <= 0.36 (dlib's 150 px padded chip) and <= 0.32 (ArcFace's 112 px chip), blurred
# ones >= 0.44 and >= 0.59; the other gates read the detection only.
_BLUR_MEASURE_SIZE = 64
_BLUR_HALF_POINT = 100.0


@dataclass(frozen=True)
class QualityGates:
    """Limits below which a face is flagged `passed=False` (it is still returned)."""

    min_det_score: float = 0.5
    min_face_size: float = 24.0
    max_blur: float = 0.4
    max_abs_yaw: float = 50.0


DEFAULT_GATES = QualityGates()


def estimate_yaw(detection: Detection) -> float:
    """Approximate head yaw in degrees from the 5 landmarks (0 = frontal, sign = direction).

    The nose tip sits about half an eye distance in front of the eye plane, so its sideways
    offset from the eyes' midpoint, in half eye distances, is roughly tan(yaw).
    """
    points = detection.landmarks_array()
    if points.shape[0] < 3:
        return 0.0
    left_eye, right_eye, nose = points[0], points[1], points[2]
    eye_axis = right_eye - left_eye
    half_distance = float(np.linalg.norm(eye_axis)) / 2.0
    if half_distance < 1e-6:
        return 90.0
    offset = float(np.dot(nose - (left_eye + right_eye) / 2.0, eye_axis / (2 * half_distance)))
    return math.degrees(math.atan(offset / half_distance))


def estimate_blur(chip_bgr: ImageBGR) -> float:
    """0 for a sharp aligned chip, towards 1 for one without fine detail."""
    grey = cv2.cvtColor(chip_bgr, cv2.COLOR_BGR2GRAY) if chip_bgr.ndim == 3 else chip_bgr
    grey = cv2.resize(grey, (_BLUR_MEASURE_SIZE, _BLUR_MEASURE_SIZE), interpolation=cv2.INTER_AREA)
    height, width = grey.shape[:2]
    # Only the inner face: background and hair edges would hide a blurred face.
    inner = grey[height // 5 : height - height // 10, width // 6 : width - width // 6]
    sharpness = float(cv2.Laplacian(inner, cv2.CV_64F).var())
    return _BLUR_HALF_POINT / (_BLUR_HALF_POINT + sharpness)


def assess_face(
    detection: Detection, chip_bgr: ImageBGR, gates: QualityGates = DEFAULT_GATES
) -> FaceQuality:
    """Quality signals, a 0..1 overall score and the gate verdict for one face."""
    yaw = estimate_yaw(detection)
    blur = estimate_blur(chip_bgr)
    reasons = []
    if detection.score < gates.min_det_score:
        reasons.append("low_detection_score")
    if detection.size < gates.min_face_size:
        reasons.append("small_face")
    if blur > gates.max_blur:
        reasons.append("blurred")
    if abs(yaw) > gates.max_abs_yaw:
        reasons.append("profile_view")
    overall = (
        _ramp(detection.score, 0.3, 0.8)
        * _ramp(detection.size, gates.min_face_size / 2, gates.min_face_size * 3)
        * _ramp(1.0 - blur, 0.4, 0.75)
        * _ramp(90.0 - abs(yaw), 20.0, 70.0)
    )
    return FaceQuality(
        det_score=float(detection.score),
        size=float(detection.size),
        blur=blur,
        yaw=yaw,
        overall=overall,
        passed=not reasons,
        reasons=tuple(reasons),
    )


def _ramp(value: float, low: float, high: float) -> float:
    """0 below `low`, 1 above `high`, linear between."""
    if high <= low:
        return 1.0 if value >= high else 0.0
    return min(1.0, max(0.0, (value - low) / (high - low)))
