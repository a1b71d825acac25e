"""Measure the plate detector: recall and precision at IoU >= 0.4, and speed, per backend.

    .venv/bin/python bench/eval_detector.py                      # all backends, imgsz 640
    .venv/bin/python bench/eval_detector.py --imgsz 480 640 800 --backends openvino
    .venv/bin/python bench/eval_detector.py --out bench/results/detector.md --json /tmp/d.json

Accuracy is measured on the real validation split (the photos ``dataset.real_split`` holds back;
skipped when ../shared/data is absent) and on synthetic 1280x720 scenes the script renders itself.
The confidence threshold is calibrated on the real photos only: the highest threshold that loses no
plate the detector finds at 0.05. Speed is the median wall time per 1280x720 frame, batch 1 and 8.
Real photos may show other vehicles' unlabelled plates, so real precision is a lower bound.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._boxes import match_boxes
from bench._report import cpu_description, write_section
from pipelines.config import RecognitionSettings
from pipelines.recognition.detector import (
    BACKENDS,
    DEFAULT_WEIGHTS,
    Detection,
    PlateDetector,
)
from pipelines.training.dataset import read_real_labels
from pipelines.training.synth import SMALL_PLATES, render_scene

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 0.951, 0.05))
FLOOR = 0.05


def _load_real(data_root: Path | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    df = read_real_labels(data_root).filter(pl.col("split") == "val")
    images, truths = [], []
    for row in df.iter_rows(named=True):
        bgr = cv2.imread(row["path"], cv2.IMREAD_COLOR)
        if bgr is None:
            raise OSError(f"cannot read {row['path']}")
        images.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        truths.append(np.array([[row["x1"], row["y1"], row["x2"], row["y2"]]], dtype=float))
    return images, truths


def _load_synthetic(
    n: int, seed: int, small: bool = False
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Images, plate boxes and camera-text boxes of ``n`` scenes; ``small``: a lane camera's, one
    US plate 50-130 px wide in each."""
    images, truths, texts = [], [], []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        scene = (
            render_scene(rng, n_plates=1, plate_width=SMALL_PLATES, style="us")
            if small
            else render_scene(rng)
        )
        images.append(np.asarray(scene.image))
        truths.append(np.array([p.box for p in scene.plates], dtype=float).reshape(-1, 4))
        texts.append(np.array(scene.overlays, dtype=float).reshape(-1, 4))
    return images, truths, texts


def _text_alarms(preds: list[list[Detection]], texts: list[np.ndarray], threshold: float) -> int:
    """Detections at ``threshold`` lying mostly (half their area or more) on camera text."""
    alarms = 0
    for dets, lines in zip(preds, texts, strict=True):
        boxes = np.array([d.box for d in dets if d.score >= threshold]).reshape(-1, 4)
        if len(boxes) and len(lines):
            lt = np.maximum(boxes[:, None, :2], lines[None, :, :2])
            rb = np.minimum(boxes[:, None, 2:], lines[None, :, 2:])
            inter = np.prod(np.clip(rb - lt, 0, None), axis=2).max(axis=1)
            alarms += int((inter >= 0.5 * np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)).sum())
    return alarms


def _counts(
    preds: list[list[Detection]], truths: list[np.ndarray], threshold: float, iou: float
) -> dict[str, float]:
    tp = fp = fn = 0
    for dets, truth in zip(preds, truths, strict=True):
        boxes = np.array([d.box for d in dets if d.score >= threshold]).reshape(-1, 4)
        t, f, n = match_boxes(boxes, truth, iou)
        tp, fp, fn = tp + t, fp + f, fn + n
    return {
        "recall": tp / max(tp + fn, 1),
        "precision": tp / max(tp + fp, 1) if tp + fp else 1.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def _missed(
    preds: list[list[Detection]], truths: list[np.ndarray], threshold: float, iou: float
) -> list[int]:
    """Indices of the images with a plate not found at ``threshold``, to look at them."""
    return [
        i
        for i, (dets, truth) in enumerate(zip(preds, truths, strict=True))
        if _counts([dets], [truth], threshold, iou)["fn"]
    ]


def calibrate(preds: list[list[Detection]], truths: list[np.ndarray], iou: float) -> float:
    """The highest threshold whose recall equals the recall at the floor threshold."""
    floor = _counts(preds, truths, FLOOR, iou)["recall"]
    ok = [t for t in THRESHOLDS if _counts(preds, truths, t, iou)["recall"] >= floor]
    return max(ok)


def _detect_all(det: PlateDetector, images: list[np.ndarray]) -> list[list[Detection]]:
    return [det.detect([img])[0] for img in images]


def _speed(det: PlateDetector, frame: np.ndarray, batch: int, repeats: int) -> float:
    frames = [frame] * batch
    det.detect(frames)  # warm-up: first call compiles kernels
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        det.detect(frames)
        times.append((time.perf_counter() - t0) / batch)
    return statistics.median(times) * 1000


def evaluate(
    weights: Path = DEFAULT_WEIGHTS,
    backends: tuple[str, ...] = BACKENDS,
    sizes: tuple[int, ...] = (640,),
    data_root: Path | None = None,
    n_synthetic: int = 60,
    iou: float = 0.4,
    confidence: float | None = None,
    repeats: int = 10,
    threads: int | None = None,
    tile: int = RecognitionSettings.tile_size,
) -> dict[str, Any]:
    """Rows of metrics per (backend, imgsz) and the calibrated threshold, plus a markdown table."""
    real = _load_real(data_root)
    synth = _load_synthetic(n_synthetic, seed=424242)
    lane = _load_synthetic(n_synthetic, seed=434343, small=True)
    n_text = sum(len(t) for t in synth[2] + lane[2])
    frame = synth[0][0]
    rows: list[dict[str, Any]] = []
    calibrated: dict[str, float] = {}
    variants = [
        (backend, precision)
        for backend in backends
        for precision in (("f32", "bf16") if backend.startswith("openvino") else ("f32",))
    ]
    for backend, precision in variants:
        for size in sizes:
            try:
                det = PlateDetector.load(
                    weights,
                    backend=backend,
                    confidence=FLOOR,
                    imgsz=size,
                    threads=threads,
                    precision=precision,
                    tile=tile,
                )
            except Exception as exc:  # noqa: BLE001 - report and move on to the next backend
                print(f"skipping {backend}@{size}: {exc}", file=sys.stderr)
                continue
            real_preds = _detect_all(det, real[0]) if real[0] else []
            synth_preds = _detect_all(det, synth[0])
            lane_preds = _detect_all(det, lane[0])
            key = f"{backend}-{precision}@{size}"
            if confidence is not None:
                calibrated[key] = confidence
            elif real_preds:
                calibrated[key] = calibrate(real_preds, real[1], iou)
            else:
                calibrated[key] = 0.25
            thr = calibrated[key]
            row: dict[str, Any] = {
                "backend": backend,
                "precision": precision,
                "imgsz": size,
                "threshold": thr,
            }
            if real_preds:
                r = _counts(real_preds, real[1], thr, iou)
                floor = _counts(real_preds, real[1], FLOOR, iou)
                row |= {
                    "real_recall": r["recall"],
                    "real_precision": r["precision"],
                    "real_recall_at_0.05": floor["recall"],
                    "real_n": len(real[0]),
                    "real_missed": _missed(real_preds, real[1], thr, iou),
                    "real_curve": [
                        {"threshold": t, **_counts(real_preds, real[1], t, iou)} for t in THRESHOLDS
                    ],
                }
            s = _counts(synth_preds, synth[1], thr, iou)
            row |= {"synth_recall": s["recall"], "synth_precision": s["precision"],
                    "synth_n": len(synth[0]),
                    "lane_recall": _counts(lane_preds, lane[1], thr, iou)["recall"],
                    "text_alarms": _text_alarms(synth_preds + lane_preds, synth[2] + lane[2], thr),
                    "text_lines": n_text}  # fmt: skip
            row["ms_b1"] = _speed(det, frame, 1, repeats)
            row["ms_b8"] = _speed(det, frame, 8, max(2, repeats // 4))
            rows.append(row)
            brief = {k: v for k, v in row.items() if k not in ("real_missed", "real_curve")}
            print(json.dumps(brief), file=sys.stderr)
    return {"rows": rows, "calibrated": calibrated, "markdown": _markdown(rows, iou, tile, threads)}


def _markdown(rows: list[dict[str, Any]], iou: float, tile: int, threads: int | None) -> str:
    def f(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v))

    head = (
        f"| backend | precision | imgsz | conf | real recall (IoU>={iou}) | real precision | synth recall "
        "| synth precision | lane-camera recall | on camera text | ms/frame b=1 | ms/frame b=8 |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| {r['backend']} | {r['precision']} | {r['imgsz']} | {r['threshold']:.2f} | {f(r.get('real_recall'))} "
        f"| {f(r.get('real_precision'))} | {f(r['synth_recall'])} | {f(r['synth_precision'])} "
        f"| {f(r['lane_recall'])} | {r['text_alarms']} | {r['ms_b1']:.1f} | {r['ms_b8']:.1f} |\n"
        for r in rows
    )
    n_real = next((r.get("real_n") for r in rows if r.get("real_n")), 0)
    n_synth = rows[0]["synth_n"] if rows else 0
    note = (
        f"\n{n_real} real validation photos (openalpr eu+br, held out), {n_synth} synthetic "
        f"1280x720 scenes and as many lane-camera scenes (one US plate 50-130 px wide); "
        f"'on camera text': detections lying on the {rows[0]['text_lines'] if rows else 0} lines "
        "of burned-in camera text (timestamps, camera names) of both sets; speed on one 1280x720 frame, median, this machine "
        f"({cpu_description()}), threads: {threads or 'the backend default'}; the INT8 rows run what was "
        f"not quantized in their precision. Frames longer than {tile} px are also read in tiles "
        "of that size (0: never).\n"
    )
    return head + body + note


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--imgsz", nargs="+", type=int, default=[640])
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--synthetic", type=int, default=60, help="synthetic scenes to render")
    parser.add_argument("--iou", type=float, default=0.4)
    parser.add_argument("--conf", type=float, default=None, help="fixed threshold (no calibration)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--tile",
        type=int,
        default=RecognitionSettings.tile_size,
        help="tile size (0: whole frames)",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the markdown table here")
    parser.add_argument("--json", type=Path, default=None, help="also write all numbers here")
    args = parser.parse_args(argv)
    result = evaluate(
        args.weights,
        backends=tuple(args.backends),
        sizes=tuple(args.imgsz),
        data_root=args.data_root,
        n_synthetic=args.synthetic,
        iou=args.iou,
        confidence=args.conf,
        repeats=args.repeats,
        threads=args.threads,
        tile=args.tile,
    )
    print(result["markdown"])
    if args.out:
        write_section(args.out, "## Plate detector", "## Plate detector\n\n" + result["markdown"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
