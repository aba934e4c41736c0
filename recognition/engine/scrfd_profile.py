"""What the profiles that find faces with SCRFD-2.5G share: model checks, detection, hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recognition.engine.detector import ScrfdDetector
from recognition.engine.errors import ModelMissingError
from recognition.engine.fetch import sha256_of_file
from recognition.engine.profile import Profile
from recognition.engine.providers import choose_providers
from recognition.engine.scrfd_dynamic import detector_model
from recognition.engine.types import Detection, ImageBGR


class ScrfdProfile(Profile):
    """A profile whose detector is SCRFD-2.5G; subclasses align and embed."""

    _paths: dict[str, Path]
    _detector: ScrfdDetector
    _hashes: dict[str, str] | None

    def _load_detector(
        self,
        models_dir: Path,
        paths: dict[str, Path],
        *,
        threads: int,
        providers: list[str] | None,
    ) -> list[str]:
        """Check every model file (role → path, "detector" among them), load SCRFD, and return
        the providers chosen for the profile's other sessions."""
        for path in paths.values():
            if not path.is_file():
                raise ModelMissingError(
                    f"model file {path} is missing for profile {self.name}: "
                    "run `manage.py fetch_models`"
                )
        self.models_dir = models_dir
        self._paths = paths
        self._hashes = None
        chosen = choose_providers(providers)
        self._detector = ScrfdDetector(
            detector_model(paths["detector"]), providers=chosen, threads=threads
        )
        return chosen

    def _detector_preprocessing(self) -> dict[str, Any]:
        return {
            "detector": "scrfd_2.5g_kps",
            "detector_canvas": self._detector.canvas,
            "detector_threshold": self._detector.threshold,
        }

    def model_hashes(self) -> dict[str, str]:
        # Computing twice from two threads is harmless; the files are small.
        if self._hashes is None:
            self._hashes = {role: sha256_of_file(path) for role, path in self._paths.items()}
        return dict(self._hashes)

    def providers(self) -> list[str]:
        return self._detector.providers()

    def detect(self, image_bgr: ImageBGR, *, upscale_to: int | None = None) -> list[Detection]:
        return self._detector.detect(image_bgr, upscale_to=upscale_to)
