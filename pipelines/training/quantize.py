"""Quantize the plate detector's OpenVINO model to INT8 (NNCF post-training quantization).

    alpr train detector --quantize-only      # models/plate-detector: f32 IR in, INT8 IR beside it

On a CPU without native bfloat16 (AVX2 only) the f32 IR runs in float32; the INT8 one detects
faster at the same recall (figures in docs/recognition.md), and ``PlateDetector.load`` prefers it
there (``detector.auto_order``). Where bfloat16 is native, the f32 IR run in it is faster still.

Calibration uses frames of the kind the detector trained on, never its validation photos: the
training split of the real photos (``dataset.read_real_labels``) and synthetic scenes, half of
them with the 50-130 px plates of a lane camera. They are fed as :meth:`PlateDetector.detect
<pipelines.recognition.detector.PlateDetector.detect>` feeds them (whole frame and tiles). The
head's decoding (its Sigmoid and the Multiply/Subtract/Divide of the box arithmetic) stays in
floating point, as ultralytics' own INT8 export keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.config import RecognitionSettings
from pipelines.recognition.detector import INT8_SUFFIX, PlateDetector
from pipelines.recognition.recognize import decode_image
from pipelines.training.dataset import read_real_labels
from pipelines.training.synth import SMALL_PLATES, render_scene

__all__ = ["CALIBRATION_SEED", "calibration_frames", "quantize_detector"]

log = logging.getLogger(__name__)

CALIBRATION_SEED = 777  # not a seed of the evaluation scenes (bench/eval_*.py)


def calibration_frames(
    data_root: Path | None = None, *, real: int = 150, synthetic: int = 150
) -> list[np.ndarray]:
    """Up to ``real`` training-split photos (none without ``../shared/data``) and ``synthetic``
    1280x720 scenes, RGB."""
    labels = read_real_labels(data_root)
    paths: list[str] = (
        [] if labels.is_empty() else labels.filter(pl.col("split") == "train")["path"].to_list()
    )
    frames = [decode_image(Path(p).read_bytes()) for p in paths[:real]]
    rng = np.random.default_rng(CALIBRATION_SEED)
    for i in range(synthetic):
        scene = render_scene(rng, (1280, 720), plate_width=SMALL_PLATES if i % 2 else None)
        frames.append(np.asarray(scene.image.convert("RGB")))
    return frames


def quantize_detector(detector_xml: Path, frames: Sequence[np.ndarray]) -> Path:
    """Quantize the f32 IR at ``detector_xml`` on ``frames``; write the INT8 IR into the
    ``*_int8_openvino_model`` folder beside it and return its ``.xml``."""
    import nncf
    import openvino as ov

    if not frames:
        raise ValueError("no calibration frames")
    stem = detector_xml.stem
    out = detector_xml.parent.parent / f"{stem}{INT8_SUFFIX}" / f"{stem}.xml"
    views = RecognitionSettings()  # the tiling the pipeline reads frames with
    detector = PlateDetector.load(
        detector_xml,
        backend="openvino",
        threads=1,
        tile=views.tile_size,
        overlap=views.tile_overlap,
    )
    inputs = [batch for frame in frames for batch in detector.model_inputs(frame)]
    model = ov.Core().read_model(str(detector_xml))
    quantized = nncf.quantize(
        model,
        nncf.Dataset(inputs),
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(inputs),
        ignored_scope=nncf.IgnoredScope(
            types=["Sigmoid", "Multiply", "Subtract", "Divide"], validate=False
        ),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(out))  # weights stored as INT8, so no fp16 compression
    log.info("INT8 detector: %s, calibrated on %d inputs", out, len(inputs))
    return out
