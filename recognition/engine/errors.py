"""Errors raised by the face engine; the web layer maps them to 4xx/5xx answers."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every face-engine error."""


class ModelMissingError(EngineError):
    """A profile's model files are not on disk (run `manage.py fetch_models`)."""


class ModelFetchError(EngineError):
    """Downloading or verifying a model file failed."""


class ImageError(EngineError):
    """An uploaded image cannot be used; `code` is a stable machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
