"""Pick onnxruntime execution providers and session options for this machine."""

from __future__ import annotations

from typing import Any

# Best first. TensorRT compiles engines per input shape on first use (minutes); it is still
# preferred when present because servers that install it want it.
_PREFERRED = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")


def available_providers() -> list[str]:
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def choose_providers(requested: list[str] | None = None) -> list[str]:
    """Providers to pass to onnxruntime: the requested ones that exist, else the best present.

    CPU is always last so a session can fall back when a GPU kernel is missing.
    """
    present = available_providers()
    if "CUDAExecutionProvider" in present:
        preload_gpu_libraries()
    candidates = requested if requested else list(_PREFERRED)
    chosen = [name for name in candidates if name in present and name != "CPUExecutionProvider"]
    chosen.append("CPUExecutionProvider")
    return chosen


def session_options(threads: int) -> Any:
    """SessionOptions with an explicit intra-op thread count (0 lets onnxruntime decide)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(0, int(threads))
    # One model call at a time per session: inter-op parallelism only adds threads to contend.
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # Idle intra-op threads spin by default. On a host whose cores are shared with web and
    # Celery workers, spinning threads fight the busy ones: with 2 threads on 2 loaded cores
    # SCRFD took a median 179 ms spinning and 95 ms not spinning.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


_gpu_libraries_loaded = False


def preload_gpu_libraries() -> None:
    """Load the CUDA and cuDNN libraries that `onnxruntime-gpu[cuda,cudnn]` installs as pip
    packages (nvidia-*-cu12): the dynamic loader does not look in site-packages, so without
    this every CUDA session would quietly fall back to the CPU. Harmless where the libraries
    come from the system (an nvidia/cuda base image) instead."""
    global _gpu_libraries_loaded
    if _gpu_libraries_loaded:
        return
    _gpu_libraries_loaded = True
    import onnxruntime

    preload = getattr(onnxruntime, "preload_dlls", None)
    if preload is not None:
        preload()
