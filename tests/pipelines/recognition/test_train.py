"""The committed training command runs end to end on the CPU, from data the project generates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipelines.recognition.detector import PlateDetector
from pipelines.recognition.train import train_detector


@pytest.mark.slow
def test_training_exports_a_loadable_detector_and_a_model_card(tmp_path: Path) -> None:
    empty = tmp_path / "no-shared-data"
    empty.mkdir()  # synthetic only, as on a machine without ../shared/data

    result = train_detector(
        tmp_path / "run",
        epochs=1,
        imgsz=160,
        data_root=empty,
        n_synthetic=12,
        model_dir=tmp_path / "model",
        batch=4,
        export_imgsz=320,
        command="test",
    )

    assert result.weights.is_file() and len(result.sha256) == 64
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text()
    assert result.sha256 in card
    for backend in ("openvino", "onnx", "pytorch"):
        detector = PlateDetector.load(result.weights, backend=backend, imgsz=320)
        assert detector.backend == backend
        assert len(detector.detect([np.zeros((240, 320, 3), np.uint8)])) == 1
