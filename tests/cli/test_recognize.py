"""The ``alpr recognize`` contract: one JSON object per image file, boxes in original pixels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bench._boxes import box_iou
from cli.main import cli
from pipelines.training.synth import render_plate, render_scene


def _run(*args: str) -> list[dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["recognize", *args, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


# Shares of the generated plates (4: two frames of two) that the CLI must give, measured with the
# shipped models: all 4 found (IoU 0.84-0.97) and all 4 read exactly. A broken detector, OCR or
# box mapping gives none; the bounds allow one miss.
MIN_FOUND_SHARE = 0.75
MIN_EXACT_SHARE = 0.75
MAX_FALSE_BOXES = 1


def test_frames_and_directories(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    folder = tmp_path / "drop"
    folder.mkdir()
    sizes, truth = {}, {}
    for i, size in enumerate([(1280, 720), (960, 540)]):
        scene = render_scene(rng, size=size, n_plates=2)
        scene.image.save(folder / f"frame{i}.jpg")
        sizes[f"frame{i}.jpg"] = size
        truth[f"frame{i}.jpg"] = scene.plates
    (folder / "notes.txt").write_text("not an image, skipped by the walk")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")

    records = _run(str(folder), str(tmp_path / "broken.jpg"))

    assert [r["image"] for r in records] == [
        str(folder / "frame0.jpg"),
        str(folder / "frame1.jpg"),
        str(tmp_path / "broken.jpg"),
    ]
    found = exact = false_boxes = 0
    for record in records[:2]:
        name = Path(record["image"]).name
        width, height = sizes[name]
        assert set(record) == {"image", "plates"}
        for plate in record["plates"]:
            assert set(plate) == {"text", "confidence", "box"}
            assert re.fullmatch("[A-Z0-9]*", plate["text"]), plate  # 123456 is a plate too
            assert 0.0 <= plate["confidence"] <= 1.0
            x1, y1, x2, y2 = plate["box"]
            assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        # Each drawn plate against the box that overlaps it most, in the original pixels.
        boxes = np.array([p["box"] for p in record["plates"]], float).reshape(-1, 4)
        ious = box_iou(boxes, np.array([p.box for p in truth[name]], float))
        for j, drawn in enumerate(truth[name]):
            best = int(ious[:, j].argmax()) if len(boxes) else -1
            if best >= 0 and ious[best, j] >= 0.5:
                found += 1
                exact += record["plates"][best]["text"] == drawn.text
        false_boxes += int((ious.max(axis=1, initial=0.0) < 0.5).sum())
    assert found >= MIN_FOUND_SHARE * 4, f"{found} of 4 generated plates found"
    assert exact >= MIN_EXACT_SHARE * 4, f"{exact} of 4 generated plates read exactly"
    assert false_boxes <= MAX_FALSE_BOXES
    assert records[2]["plates"] == [] and "unreadable" in records[2]["error"]


@pytest.mark.parametrize("drawn", ["ABC1234", "123456"])
def test_plate_crops_are_read_whole(tmp_path: Path, drawn: str) -> None:
    image, text = render_plate(np.random.default_rng(3), text=drawn, style=None)
    path = tmp_path / "crop.png"
    image.save(path)

    (record,) = _run(str(path), "--plate-crops")

    (plate,) = record["plates"]
    assert plate["box"] == [0.0, 0.0, float(image.width), float(image.height)]
    assert plate["text"] == text
