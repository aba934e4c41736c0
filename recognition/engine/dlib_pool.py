"""dlib descriptors computed in worker processes.

dlib's recogniser runs on one core and holds the GIL for the whole call, so in-process
embedding of a scene's 50-100 faces would both use half the machine and stall every other
thread of the web server. A small pool of processes, each with its own copy of the network,
embeds the chunks of a batch in parallel while the calling thread waits with the GIL free.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

_recogniser: Any = None  # one per worker process


def _load(model_path: str) -> None:
    global _recogniser
    import dlib

    _recogniser = dlib.face_recognition_model_v1(model_path)


def _descriptors(chips_rgb: list[np.ndarray]) -> np.ndarray:
    return np.asarray(_recogniser.compute_face_descriptor(chips_rgb), dtype=np.float32)


class DescriptorPool:
    """`workers` processes that compute dlib descriptors of RGB chips; started on first use."""

    def __init__(self, model_path: Path, workers: int) -> None:
        self.model_path = model_path
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                # spawn, not fork: the parent is a threaded server holding sockets and sessions.
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_load,
                    initargs=(str(self.model_path),),
                )
            return self._executor

    def compute(self, chips_rgb: list[np.ndarray]) -> np.ndarray:
        """Descriptors (n, 128) in input order."""
        size = -(-len(chips_rgb) // self.workers)
        chunks = [chips_rgb[start : start + size] for start in range(0, len(chips_rgb), size)]
        futures = [self._pool().submit(_descriptors, chunk) for chunk in chunks]
        return np.concatenate([future.result().reshape(-1, 128) for future in futures])

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
