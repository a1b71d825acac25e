"""The YOLO dataset: valid label files, and real validation photos never trained on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipelines.training.dataset import (
    DEFAULT_DATA_ROOT,
    _synth_crops,
    _SynthJob,
    build_dataset,
    real_split,
)


def _check_yolo_dir(root: Path) -> dict[str, list[str]]:
    """Assert every image has a valid label file; return image stems per split."""
    stems: dict[str, list[str]] = {}
    for split in ("train", "val"):
        images = sorted((root / "images" / split).glob("*.jpg"))
        labels = sorted((root / "labels" / split).glob("*.txt"))
        assert [p.stem for p in images] == [p.stem for p in labels]
        for label in labels:
            for line in label.read_text().splitlines():
                fields = line.split()
                assert len(fields) == 5, f"{label}: {line!r}"
                assert fields[0] == "0"
                cx, cy, w, h = map(float, fields[1:])
                assert 0 < w <= 1 and 0 < h <= 1
                assert cx - w / 2 >= -1e-6 and cx + w / 2 <= 1 + 1e-6
                assert cy - h / 2 >= -1e-6 and cy + h / 2 <= 1 + 1e-6
        stems[split] = [p.stem for p in images]
    yaml = (root / "data.yaml").read_text()
    assert "train: images/train" in yaml and "val: images/val" in yaml and "0: plate" in yaml
    return stems


def test_synthetic_only_dataset(tmp_path: Path) -> None:
    summary = build_dataset(
        tmp_path / "ds", data_root=tmp_path / "absent", n_synthetic=6, n_synthetic_val=3, workers=1
    )
    stems = _check_yolo_dir(tmp_path / "ds")
    assert summary.real_train_photos == summary.real_val_photos == 0
    assert len(stems["train"]) == 6 and len(stems["val"]) == 3
    assert (tmp_path / "ds" / "val_real.txt").read_text() == ""
    with Image.open(next((tmp_path / "ds" / "images" / "train").glob("*.jpg"))) as img:
        assert img.size == (320, 320)


def test_synthetic_dataset_is_deterministic(tmp_path: Path) -> None:
    for name in ("a", "b"):
        build_dataset(
            tmp_path / name,
            data_root=tmp_path / "absent",
            n_synthetic=3,
            n_synthetic_val=1,
            workers=1,
        )
    for label in (tmp_path / "a" / "labels" / "train").glob("*.txt"):
        assert label.read_text() == (tmp_path / "b" / "labels" / "train" / label.name).read_text()


@pytest.mark.shared_data
def test_real_split_is_stable_and_disjoint() -> None:
    split = real_split()
    again = real_split()
    assert split == again
    train, val = set(split["train"]), set(split["val"])
    assert not train & val
    assert 0.1 < len(val) / (len(train) + len(val)) < 0.3
    assert all(p.is_file() for p in train | val)


@pytest.mark.shared_data
def test_real_dataset_never_trains_on_val(tmp_path: Path) -> None:
    summary = build_dataset(
        tmp_path / "ds",
        data_root=DEFAULT_DATA_ROOT,
        n_synthetic=2,
        crops_per_real=1,
        negatives_per_real=1,
        workers=2,
    )
    stems = _check_yolo_dir(tmp_path / "ds")
    val_photos = real_split()["val"]
    listed = (tmp_path / "ds" / "val_real.txt").read_text().split()
    assert sorted(DEFAULT_DATA_ROOT / rel for rel in listed) == sorted(val_photos)
    assert summary.real_val_photos == len(val_photos) == len(stems["val"])
    val_stems = {f"real_{p.parent.name}_{p.stem}" for p in val_photos}
    assert val_stems == set(stems["val"])
    train_sources = {s.rsplit("_", 1)[0] for s in stems["train"] if s.startswith("real_")}
    assert not val_stems & train_sources
    # Each real validation crop holds its one plate.
    counts = [
        len((tmp_path / "ds" / "labels" / "val" / f"{s}.txt").read_text().splitlines())
        for s in stems["val"]
    ]
    assert np.all(np.array(counts) == 1)


def test_a_third_of_the_synthetic_crops_are_lane_camera_plates_at_inference_scale() -> None:
    widths = []
    for index in range(2, 62, 3):
        ((_, image, label),) = _synth_crops(_SynthJob(index, 320, 640, 0, "train"))
        assert image.size == (320, 320)
        if label:  # a crop centred on the camera's text may leave the plate out
            (line,) = label.splitlines()
            widths.append(float(line.split()[3]) * 320)
    assert len(widths) >= 12
    # 50-130 px in 1280x720, read at 640: 25-65 px, give or take the perspective warp
    assert all(22 <= w <= 72 for w in widths), widths
