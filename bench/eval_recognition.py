"""End-to-end plate recognition accuracy: detect, crop, read, compare with the labels.

    .venv/bin/python bench/eval_recognition.py --out docs/recognition.md

Real photos: the validation split of ../shared/data/openalpr-endtoend held back from training by
``dataset.read_real_labels`` (skipped when the folder is absent). Synthetic: 1280x720 scenes
rendered here with a seed the training never used, and 3840x2160 frames made of nine of them,
read with and without tiles; and 1280x720 scenes of one US plate drawn 50-130 px wide (a lane
camera's far plates), reported per width band. A plate counts as *detected* when a box has
IoU >= 0.4 with the labelled one, and as *read* when that box's text equals the label exactly
(A-Z0-9). "Folded" also accepts the look-alikes most plates print identically (O/0, I/1), the
key hotlist matching joins on.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._boxes import box_iou
from bench._report import write_section
from pipelines.config import load_settings
from pipelines.recognition.plates import match_key, normalize_plate
from pipelines.recognition.recognize import Recognizer, decode_image
from pipelines.training.dataset import read_real_labels
from pipelines.training.synth import render_scene

IOU = 0.4
SYNTHETIC_SEED = 20_261_129  # not a seed the training set uses
SMALL_PLATE_BANDS = ((50, 70), (70, 90), (90, 110), (110, 130))  # px wide in a 1280x720 frame


def _score(
    recognizer: Recognizer, frames: list[np.ndarray], truth: list[list[tuple[np.ndarray, str]]]
) -> pl.DataFrame:
    """One row per labelled plate: detected, read exactly, read folded."""
    rows = []
    for start in range(0, len(frames), 8):
        found = recognizer.read_frames(frames[start : start + 8])
        for findings, plates in zip(found, truth[start : start + 8], strict=True):
            boxes = np.array([f.detection.box for f in findings]).reshape(-1, 4)
            for box, text in plates:
                want = normalize_plate(text)
                best = None
                if findings:
                    ious = box_iou(boxes, box.reshape(1, 4))[:, 0]
                    if ious.max() >= IOU:
                        best = findings[int(ious.argmax())].read.text
                rows.append(
                    {
                        "detected": best is not None,
                        "exact": best == want,
                        "folded": best is not None and match_key(best) == match_key(want),
                    }
                )
    return pl.DataFrame(
        rows, schema={"detected": pl.Boolean, "exact": pl.Boolean, "folded": pl.Boolean}
    )


def _real(recognizer: Recognizer) -> pl.DataFrame | None:
    labels = read_real_labels().filter(pl.col("split") == "val")
    if labels.is_empty():
        return None
    frames = [decode_image(Path(p).read_bytes()) for p in labels["path"]]
    truth = [
        [(np.array([r["x1"], r["y1"], r["x2"], r["y2"]], float), r["text"])]
        for r in labels.iter_rows(named=True)
    ]
    return _score(recognizer, frames, truth)


def _synthetic(recognizer: Recognizer, n: int) -> pl.DataFrame:
    rng = np.random.default_rng(SYNTHETIC_SEED)
    frames, truth = [], []
    for _ in range(n):
        scene = render_scene(rng, size=(1280, 720), n_plates=1)
        frames.append(np.asarray(scene.image.convert("RGB")))
        truth.append([(np.array(p.box, float), p.text) for p in scene.plates])
    return _score(recognizer, frames, truth)


def _small(recognizer: Recognizer, per_band: int) -> list[pl.DataFrame]:
    """``per_band`` 1280x720 scenes of one US plate per width band of
    :data:`SMALL_PLATE_BANDS` (the width drawn before the plate's perspective warp)."""
    rng = np.random.default_rng(SYNTHETIC_SEED + 2)
    out = []
    for band in SMALL_PLATE_BANDS:
        frames, truth = [], []
        for _ in range(per_band):
            scene = render_scene(rng, size=(1280, 720), n_plates=1, plate_width=band, style="us")
            frames.append(np.asarray(scene.image.convert("RGB")))
            truth.append([(np.array(p.box, float), p.text) for p in scene.plates])
        out.append(_score(recognizer, frames, truth))
    return out


def _large(recognizers: list[Recognizer], n: int) -> list[pl.DataFrame]:
    """``n`` 3840x2160 frames, each a mosaic of nine 1280x720 scenes (the plates of a 4K camera
    at the size they have in a 1280 px frame), scored by each recognizer."""
    rng = np.random.default_rng(SYNTHETIC_SEED + 1)
    frames, truth = [], []
    for _ in range(n):
        frame = np.zeros((2160, 3840, 3), np.uint8)
        plates = []
        for k in range(9):
            scene = render_scene(rng, size=(1280, 720), n_plates=1)
            y, x = 720 * (k // 3), 1280 * (k % 3)
            frame[y : y + 720, x : x + 1280] = np.asarray(scene.image.convert("RGB"))
            offset = np.array([x, y, x, y], float)
            plates += [(np.array(p.box, float) + offset, p.text) for p in scene.plates]
        frames.append(frame)
        truth.append(plates)
    return [_score(recognizer, frames, truth) for recognizer in recognizers]


def _line(name: str, scores: pl.DataFrame | None) -> str:
    if scores is None or scores.is_empty():
        return f"| {name} | — | — | — | — |"
    rates = scores.select(pl.all().mean()).row(0)
    return f"| {name} | {scores.height} | {rates[0]:.3f} | {rates[1]:.3f} | {rates[2]:.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--synthetic", type=int, default=100)
    parser.add_argument("--large", type=int, default=8, help="3840x2160 frames of nine scenes")
    parser.add_argument("--small", type=int, default=50, help="small-plate scenes per width band")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = load_settings().recognition
    recognizer = Recognizer.load(settings)
    started = time.perf_counter()
    real = _real(recognizer)
    synthetic = _synthetic(recognizer, args.synthetic)
    whole_only = Recognizer.load(dataclasses.replace(settings, tile_size=0))
    tiled, whole = _large([recognizer, whole_only], args.large)
    small = _small(recognizer, args.small)
    versions = recognizer.model_versions
    text = "\n".join(
        [
            "## End-to-end recognition accuracy",
            "",
            f"`python bench/eval_recognition.py --synthetic {args.synthetic} --large "
            f"{args.large} --small {args.small}`, "
            f"{datetime.now(UTC):%Y-%m-%d}, detector `{versions['detector_sha256'][:12]}` on "
            f"{versions['detector_backend']}, OCR `{versions['ocr_model'][:40]}`, "
            f"{time.perf_counter() - started:.0f} s.",
            "",
            "| set | plates | detection recall (IoU ≥ 0.4) | exact read | folded read (O/0, I/1) |",
            "|---|---:|---:|---:|---:|",
            _line("real validation photos (EU + BR, never trained on)", real),
            _line("synthetic 1280x720 scenes", synthetic),
            _line(f"synthetic 3840x2160 frames, tiles of {settings.tile_size} px", tiled),
            _line("synthetic 3840x2160 frames, whole frame only", whole),
            "",
            "A 3840x2160 frame here is a mosaic of nine 1280x720 scenes: its plates are as small "
            "as a 4K camera sees them. Tiles read them as the 1280x720 scenes are read; the whole "
            "frame alone, resized to the detector's input, loses the small ones.",
            "",
            "Small US plates, one a 1280x720 scene, by the width the plate was drawn at:",
            "",
            "| plate width (px) | plates | detection recall (IoU ≥ 0.4) | exact read "
            "| folded read (O/0, I/1) |",
            "|---|---:|---:|---:|---:|",
            *(
                _line(f"{lo}-{hi}", scores)
                for (lo, hi), scores in zip(SMALL_PLATE_BANDS, small, strict=True)
            ),
            "",
        ]
    )
    print(text)
    if args.out:
        write_section(args.out, "## End-to-end recognition accuracy", text)


if __name__ == "__main__":
    main()
