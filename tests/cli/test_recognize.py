"""The ``alpr recognize`` contract: one JSON object per image file, boxes in original pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from cli.main import cli
from pipelines.recognition.synth import render_plate, render_scene


def _run(*args: str) -> list[dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["recognize", *args, "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_frames_and_directories(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    folder = tmp_path / "drop"
    folder.mkdir()
    sizes = {}
    for i, size in enumerate([(1280, 720), (960, 540)]):
        scene = render_scene(rng, size=size, n_plates=1)
        scene.image.save(folder / f"frame{i}.jpg")
        sizes[f"frame{i}.jpg"] = size
    (folder / "notes.txt").write_text("not an image, skipped by the walk")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")

    records = _run(str(folder), str(tmp_path / "broken.jpg"))

    assert [r["image"] for r in records] == [
        str(folder / "frame0.jpg"),
        str(folder / "frame1.jpg"),
        str(tmp_path / "broken.jpg"),
    ]
    for record in records[:2]:
        width, height = sizes[Path(record["image"]).name]
        assert set(record) == {"image", "plates"}
        assert record["plates"], "a generated frame with a plate must give a detection"
        for plate in record["plates"]:
            assert set(plate) == {"text", "confidence", "box"}
            assert plate["text"] == "" or (plate["text"].isalnum() and plate["text"].isupper())
            assert 0.0 <= plate["confidence"] <= 1.0
            x1, y1, x2, y2 = plate["box"]
            assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
    assert records[2]["plates"] == [] and "unreadable" in records[2]["error"]


def test_plate_crops_are_read_whole(tmp_path: Path) -> None:
    image, text = render_plate(np.random.default_rng(3), text="ABC1234", style=None)
    path = tmp_path / "crop.png"
    image.save(path)

    (record,) = _run(str(path), "--plate-crops")

    (plate,) = record["plates"]
    assert plate["box"] == [0.0, 0.0, float(image.width), float(image.height)]
    assert plate["text"] == text
