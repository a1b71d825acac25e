"""INT8 quantization of the detector: calibrated on training-kind frames, it still finds plates."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bench._boxes import match_boxes
from pipelines.recognition.detector import DEFAULT_WEIGHTS, PlateDetector, backend_files
from pipelines.training.quantize import calibration_frames, quantize_detector
from pipelines.training.synth import render_scene


def test_calibration_frames_without_shared_data_are_synthetic_half_with_small_plates(
    tmp_path: Path,
) -> None:
    frames = calibration_frames(tmp_path, real=5, synthetic=4)
    assert len(frames) == 4
    assert all(f.shape == (720, 1280, 3) and f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[0], frames[1])


@pytest.mark.slow  # quantizes the shipped model: 15 s
def test_quantized_detector_finds_the_plates_the_f32_one_finds(tmp_path: Path) -> None:
    f32 = backend_files(DEFAULT_WEIGHTS)["openvino"]
    ir = tmp_path / f32.parent.name / f32.name
    shutil.copytree(f32.parent, ir.parent)
    frames = calibration_frames(tmp_path / "no-shared-data", synthetic=8)
    out = quantize_detector(ir, frames)
    assert out == tmp_path / "plate-detector_int8_openvino_model" / "plate-detector.xml"
    int8 = PlateDetector.load(out, backend="openvino-int8", confidence=0.2)
    reference = PlateDetector.load(backend="openvino", confidence=0.2)
    rng = np.random.default_rng(99)
    scenes = [render_scene(rng, (1280, 720), n_plates=2) for _ in range(6)]
    images = [np.asarray(s.image) for s in scenes]
    for want, got in zip(reference.detect(images), int8.detect(images), strict=True):
        ref = np.array([d.box for d in want]).reshape(-1, 4)
        boxes = np.array([d.box for d in got]).reshape(-1, 4)
        assert len(ref), "the f32 detector found nothing: a useless scene"
        assert match_boxes(boxes, ref, 0.7)[1:] == (0, 0)


def test_quantizing_without_frames_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no calibration frames"):
        quantize_detector(tmp_path / "m_openvino_model" / "m.xml", [])
