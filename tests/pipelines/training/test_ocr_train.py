"""The plate OCR's training data, calibration and training command (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipelines.recognition.ocr import PlateRead
from pipelines.recognition.plate_ocr import (
    CALIBRATION_FILE,
    INPUT_HEIGHT,
    INPUT_WIDTH,
    MODEL_FILE,
    Calibration,
    PlateOcr,
)
from pipelines.training.dataset import DEFAULT_DATA_ROOT, read_real_labels
from pipelines.training.ocr_data import (
    US_CROPS,
    augment,
    batch_tensors,
    load_real_crops,
    synthetic_plate,
    us_crop_split,
)
from pipelines.training.ocr_train import fit_isotonic, install_model, train_ocr

REAL = DEFAULT_DATA_ROOT / US_CROPS / "labels.csv"


def test_us_split_is_the_benchmarks() -> None:
    from bench.eval_ocr import split_of

    names = [f"x{i}.png" for i in range(400)]
    assert [us_crop_split(n) for n in names] == [split_of(n) for n in names]
    held = sum(us_crop_split(n) == "held-out" for n in names)
    assert 120 < held < 200  # about 40 %


@pytest.mark.skipif(not REAL.is_file(), reason="../shared/data/openalpr-us-plates is absent")
def test_real_training_crops_come_from_training_splits_only() -> None:
    crops = load_real_crops()
    us = [c for c in crops.train + crops.val if c.source == "us"]
    assert us and all(us_crop_split(c.name) == "tuning" for c in us)
    photos = read_real_labels()
    val_photos = set(photos.filter(photos["split"] == "val")["rel"])
    world = [c for c in crops.train + crops.val if c.source != "us"]
    assert world and not val_photos & {c.name for c in world}
    # The model's validation crops are never among its training crops.
    assert not {c.name for c in crops.train} & {c.name for c in crops.val}


def test_augment_gives_grey_crops_the_model_reads_and_is_deterministic() -> None:
    plate = synthetic_plate(np.random.default_rng(1), "us")
    a = augment(np.random.default_rng(5), plate.image)
    b = augment(np.random.default_rng(5), plate.image)
    assert a.dtype == np.uint8 and a.ndim == 2 and a.shape[1] <= 192
    assert np.array_equal(a, b)
    inputs, targets, lengths = batch_tensors([a, plate.image], [plate.text, plate.text])
    assert inputs.shape == (2, 1, INPUT_HEIGHT, INPUT_WIDTH)
    assert lengths.tolist() == [len(plate.text)] * 2 and len(targets) == 2 * len(plate.text)


@pytest.mark.parametrize("style", ["us", "eu", "br"])
def test_synthetic_plates_are_labelled_in_the_plate_alphabet(style: str) -> None:
    rng = np.random.default_rng(3)
    for _ in range(5):
        plate = synthetic_plate(rng, style)
        assert plate.text and plate.text.isalnum() and plate.text.upper() == plate.text
        assert plate.wide == (style != "us")


def _monotone(calibration: Calibration) -> bool:
    grid = np.linspace(0, 1, 501)
    mapped = np.array([calibration(x) for x in grid])
    return bool(np.all(np.diff(mapped) >= -1e-12) and mapped.min() >= 0 and mapped.max() <= 1)


def test_isotonic_calibration_is_monotone_and_tracks_the_exact_rate() -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(0, 1, 2000)
    exact = rng.uniform(0, 1, 2000) < raw**2  # a model over-confident at the low end
    calibration = fit_isotonic(raw.tolist(), exact.tolist())
    assert _monotone(calibration)
    for x in (0.3, 0.6, 0.9):
        assert abs(calibration(x) - x**2) < 0.08
    # Outcomes that go down with the raw score still give a monotone map (a flat one).
    flat = fit_isotonic([0.1, 0.5, 0.9], [True, True, False])
    assert _monotone(flat) and flat(0.1) == flat(0.9)


def test_calibration_refuses_knots_that_go_down() -> None:
    with pytest.raises(ValueError, match="non-decreasing"):
        Calibration((0.0, 0.5, 1.0), (0.2, 0.9, 0.8))


@pytest.mark.slow
def test_training_command_trains_exports_and_the_export_reads(tmp_path: Path) -> None:
    empty = tmp_path / "no-shared-data"
    empty.mkdir()  # synthetic only, as on a machine without ../shared/data
    result = train_ocr(
        tmp_path / "run",
        epochs=2,
        steps_per_epoch=3,
        batch_size=4,
        data_root=empty,
        bank_size=8,
        n_synthetic_val=6,
        log=lambda _: None,
    )
    assert result.epochs == 2 and result.steps == 6 and result.real_train_crops == 0
    assert result.onnx == tmp_path / "run" / MODEL_FILE and result.onnx.is_file()
    log = [
        json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()
    ]
    assert [r["epoch"] for r in log] == [1, 2]
    calibration = Calibration.from_json(
        json.loads((tmp_path / "run" / CALIBRATION_FILE).read_text())
    )
    assert _monotone(calibration)

    reader = PlateOcr.load(tmp_path / "run", backend="onnx")
    plate = synthetic_plate(np.random.default_rng(0), "us")
    reads = reader.read([plate.image, plate.image[:4]])
    assert all(isinstance(r, PlateRead) for r in reads)
    assert reads[1] == PlateRead.empty()  # too small to hold text
    probs = reader.probabilities([plate.image])[0]
    assert probs.shape == (INPUT_WIDTH // 4, 37)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)


@pytest.mark.slow
def test_training_can_start_from_an_earlier_runs_weights(tmp_path: Path) -> None:
    import torch

    empty = tmp_path / "no-shared-data"
    empty.mkdir()

    def run(name: str, seed: int, lr: float, init: Path | None = None) -> dict[str, Any]:
        train_ocr(
            tmp_path / name,
            epochs=1,
            steps_per_epoch=1,
            batch_size=2,
            lr=lr,
            seed=seed,
            data_root=empty,
            bank_size=4,
            n_synthetic_val=2,
            init=init,
            log=lambda _: None,
        )
        state: dict[str, Any] = torch.load(tmp_path / name / "last.pt", weights_only=True)["model"]
        return state

    first = run("first", seed=0, lr=3e-3)
    # No learning: the weights are where they started, the earlier run's or a fresh draw.
    tuned = run("tuned", seed=1, lr=0.0, init=tmp_path / "first" / "last.pt")
    fresh = run("fresh", seed=1, lr=0.0)
    conv = "features.0.weight"
    assert torch.equal(tuned[conv], first[conv])
    assert not torch.equal(fresh[conv], first[conv])
    # The model card says where the weights started.
    cards = {
        name: install_model(tmp_path / name, "alpr train ocr", tmp_path / f"{name}-model")
        for name in ("tuned", "fresh")
    }
    assert f"from the weights of an earlier run (`{tmp_path / 'first' / 'last.pt'}`)" in (
        cards["tuned"].read_text()
    )
    assert "Trained from scratch" in cards["fresh"].read_text()
