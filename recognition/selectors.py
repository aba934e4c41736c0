"""Reads for recognition."""

from __future__ import annotations

from typing import Any


def active_index_summary() -> dict[str, Any] | None:
    """The index the server searches, or None when none is built yet."""
    return None


def inference_providers() -> list[str]:
    import onnxruntime

    return list(onnxruntime.get_available_providers())
