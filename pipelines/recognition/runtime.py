"""OpenVINO on the CPU, configured the same way for the detector and the OCR."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["MIN_IMAGE_SIZE", "PINNING", "PRECISIONS", "compile_openvino", "resolve_precision"]

# "auto": bfloat16 where the CPU computes it natively (AVX512-BF16 or AMX), else float32. On such
# CPUs bfloat16 runs faster with the same detections (docs/recognition.md, detector table);
# without native support OpenVINO would emulate it, slower than float32.
PRECISIONS = ("auto", "f32", "bf16")
PINNING = "ENABLE_CPU_PINNING"  # the CPU plugin property, off for every model
# The smallest detector input long side (recognition.image_size) accepted. The detector's INT8 IR
# crashes the process (segfault; OpenVINO 2026.4 on a CPU with AMX) on an input whose two sides are
# both 64 px or less; every view has the image size as its long side, so none can be that small.
MIN_IMAGE_SIZE = 128


def _core() -> Any:
    os.environ.setdefault("OPENVINO_TELEMETRY_DISABLE", "1")
    import openvino as ov

    return ov.Core()


def resolve_precision(precision: str, core: Any | None = None) -> str:
    """``"f32"`` or ``"bf16"`` for a configured precision (``"auto"`` asks the CPU)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r}; valid values: {list(PRECISIONS)}")
    if precision != "auto":
        return precision
    capabilities = (core or _core()).get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return "bf16" if "BF16" in capabilities else "f32"


def compile_openvino(
    path: str | Path, threads: int | None, precision: str, streams: int = 1
) -> tuple[Any, Any]:
    """The model at ``path`` (OpenVINO IR or ONNX) compiled for the CPU, and the model read.

    ``threads`` caps the inference threads of one request (None: OpenVINO's choice).
    ``streams`` is how many requests may run at once: one stream serialises the requests of
    every worker thread that shares the model, so a model shared by N workers needs N streams.
    """
    if streams <= 0:
        raise ValueError(f"streams={streams} must be positive")
    core = _core()
    model = core.read_model(str(path))
    config: dict[str, Any] = {
        "INFERENCE_PRECISION_HINT": resolve_precision(precision, core),
        # Pinned, every single-threaded model compiled in a process lands on the same core: two
        # recognition workers then ran no faster than one (112 vs 106 ms a frame, 2 cores).
        PINNING: False,
    }
    if streams == 1:
        config["PERFORMANCE_HINT"] = "LATENCY"
    else:
        config["NUM_STREAMS"] = streams
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads * streams
    return core.compile_model(model, "CPU", config), model
