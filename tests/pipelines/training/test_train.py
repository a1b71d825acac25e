"""The committed training command runs end to end on the CPU, from data the project generates."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from bench._boxes import box_iou
from pipelines.config import PROJECT_ROOT
from pipelines.recognition.detector import PlateDetector
from pipelines.training.synth import render_scene
from pipelines.training.train import (
    DEFAULT_MODEL_DIR,
    _final_metrics,
    finalize_detector,
    relative_to_root,
    train_detector,
)


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
        evaluate=False,  # a one-epoch model's full-photo figures would mean nothing
        calibration=4,
    )

    assert result.sha256 == hashlib.sha256(result.weights.read_bytes()).hexdigest()
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text()
    assert result.sha256 in card and "(not measured)" in card
    check_exports_agree(result.weights, result.sha256)


@pytest.mark.slow
def test_training_from_given_weights_keeps_what_they_learnt(tmp_path: Path) -> None:
    shipped = DEFAULT_MODEL_DIR / "plate-detector.pt"
    scene = render_scene(np.random.default_rng(5), size=(1280, 720), n_plates=1)
    frame = np.asarray(scene.image)
    (plate,) = scene.plates
    empty = tmp_path / "no-shared-data"
    empty.mkdir()

    result = train_detector(
        tmp_path / "run",
        epochs=1,
        imgsz=160,
        data_root=empty,
        n_synthetic=12,
        model_dir=tmp_path / "model",
        batch=4,
        export_imgsz=320,
        evaluate=False,
        calibration=4,
        init=shipped,
    )

    # one epoch from scratch finds nothing (the test above); from the shipped weights it still
    # finds the plate
    (found,) = PlateDetector.load(result.weights, backend="pytorch", confidence=0.2).detect([frame])
    assert any(box_iou(np.array([d.box]), np.array([plate.box]))[0, 0] >= 0.4 for d in found)
    card = (tmp_path / "model" / "MODEL_CARD.md").read_text()
    assert "fine-tuned from `plate-detector.pt`" in card


def check_exports_agree(weights: Path, sha256: str) -> None:
    """The four backends load the exports and name the weights' hash; the f32 ones compute the
    same model (the INT8 one rounds it: test_detector's test_backends_agree bounds that on the
    shipped model).

    One epoch on twelve frames finds no plate yet and its few boxes tie in score, so the raw
    outputs (every anchor's box and score) are compared, on a frame with a plate: measured, the
    exports are within 2e-4 px and 1e-7 of PyTorch; an ONNX export with its weights halved is
    refused. Such a model hardly depends on its input, so this checks the exported weights;
    test_detector's test_backends_agree checks the shipped exports on frames.
    """
    scene = render_scene(np.random.default_rng(7), size=(320, 240), n_plates=1)
    frame = np.asarray(scene.image)
    batch = np.full((1, 256, 320, 3), 114, np.uint8)  # what the detector feeds the model at 320
    batch[0, :240] = frame
    tensor = np.ascontiguousarray(batch.transpose(0, 3, 1, 2), np.float32) / 255.0
    raw = {}
    for backend in ("openvino-int8", "openvino", "onnx", "pytorch"):
        detector = PlateDetector.load(
            weights, backend=backend, imgsz=320, confidence=0.01, precision="f32"
        )
        assert (detector.backend, detector.model_sha256) == (backend, sha256)
        raw[backend] = detector._run(tensor)
        assert raw[backend].shape == (1, 5, (256 * 320) * 21 // 1024)  # anchors of strides 8-32
        (found,) = detector.detect([frame])
        for d in found:  # well-formed whatever the model has learnt: inside the frame, best first
            x1, y1, x2, y2 = d.box
            assert 0 <= x1 < x2 <= 320 and 0 <= y1 < y2 <= 240 and 0.01 <= d.score <= 1
        assert [d.score for d in found] == sorted((d.score for d in found), reverse=True)
    for backend in ("openvino", "onnx"):
        np.testing.assert_allclose(raw[backend][:, :4], raw["pytorch"][:, :4], atol=0.01)
        np.testing.assert_allclose(raw[backend][:, 4], raw["pytorch"][:, 4], atol=1e-4)


def test_the_card_reports_the_metrics_of_the_epoch_shipped(tmp_path: Path) -> None:
    (tmp_path / "results.csv").write_text(
        "epoch,metrics/recall(B),metrics/mAP50-95(B)\n1,0.90,0.70\n2,0.99,0.84\n3,1.00,0.83\n"
    )
    assert _final_metrics(tmp_path) == {"epoch": 2.0, "metrics/recall(B)": 0.99,
                                        "metrics/mAP50-95(B)": 0.84}  # fmt: skip
    assert _final_metrics(tmp_path, last=True)["epoch"] == 3.0


def test_finalizing_an_unknown_pick_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pick='first'; valid values: \\['best', 'last'\\]"):
        finalize_detector(tmp_path, pick="first")


def test_paths_under_the_root_are_made_relative(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    args = {"data": f"{root}/var/data.yaml", "runs": [str(root), "/elsewhere/x"], "epochs": 3}
    assert relative_to_root(args, root) == {
        "data": "var/data.yaml",
        "runs": [".", "/elsewhere/x"],
        "epochs": 3,
    }


def test_shipped_model_files_name_no_path_of_the_machine_that_trained_them() -> None:
    files = [p for p in DEFAULT_MODEL_DIR.rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert str(PROJECT_ROOT).encode() not in path.read_bytes(), path
