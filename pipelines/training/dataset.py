"""Build the YOLO plate-detection dataset from the real benchmark photos and synthetic scenes.

The model is small and trained on CPU, so it learns from 320 px crops around plates rather than
whole photos: each crop is cut from the photo rescaled the way inference will see it (long side to
``infer_size``) times a random zoom, so plate sizes in training match plate sizes at inference.

Real photos are split by a hash of their relative path; the validation part is never cropped into
the training set, and is listed in ``val_real.txt`` so that evaluation measures exactly it.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from PIL import Image

from pipelines.training.synth import SMALL_PLATES, render_scene

__all__ = [
    "DEFAULT_DATA_ROOT",
    "DatasetSummary",
    "build_dataset",
    "read_real_labels",
    "real_split",
]

DEFAULT_DATA_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "data"
_ENDTOEND = "openalpr-endtoend"
_REGIONS = ("eu", "br")
_PAD = 114  # ultralytics' letterbox grey


@dataclass(frozen=True)
class DatasetSummary:
    data_yaml: Path
    train_images: int
    val_images: int
    real_train_photos: int
    real_val_photos: int
    synthetic_scenes: int


def _is_val(rel: str, val_percent: int) -> bool:
    digest = hashlib.sha256(rel.encode()).hexdigest()
    return int(digest[:8], 16) % 100 < val_percent


def read_real_labels(data_root: Path | None = None, val_percent: int = 20) -> pl.DataFrame:
    """One row per real photo: ``rel, path, x1, y1, x2, y2, text, split`` (empty when absent).

    ``rel`` is the path under ``openalpr-endtoend`` (``eu/eu1.jpg``); ``split`` is ``train`` or
    ``val`` by a hash of ``rel``, so it never changes when photos are added.
    """
    root = (data_root or DEFAULT_DATA_ROOT) / _ENDTOEND
    schema = {"rel": pl.String, "path": pl.String, "x1": pl.Int64, "y1": pl.Int64,
              "x2": pl.Int64, "y2": pl.Int64, "text": pl.String, "split": pl.String}  # fmt: skip
    frames = []
    for region in _REGIONS:
        files = sorted((root / region).glob("*.txt"))
        if not files:
            continue
        raw = pl.concat(
            [
                pl.read_csv(
                    f,
                    separator="\t",
                    has_header=False,
                    new_columns=["name", "x", "y", "w", "h", "text"],
                    schema_overrides={"text": pl.String, "name": pl.String},
                    quote_char=None,
                )
                for f in files
            ]
        )
        frames.append(
            raw.with_columns(
                rel=pl.lit(f"{region}/") + pl.col("name"),
                path=pl.lit(f"{root / region}/") + pl.col("name"),
                x1=pl.col("x"),
                y1=pl.col("y"),
                x2=pl.col("x") + pl.col("w"),
                y2=pl.col("y") + pl.col("h"),
            )
        )
    if not frames:
        return pl.DataFrame(schema=schema)
    df = pl.concat(frames).sort("rel")
    split = pl.Series([("val" if _is_val(r, val_percent) else "train") for r in df["rel"]])
    return df.with_columns(split=split).select(list(schema))


def real_split(data_root: Path | None = None, val_percent: int = 20) -> dict[str, list[Path]]:
    """``{"train": [...], "val": [...]}``: paths of the real benchmark photos (empty if absent)."""
    df = read_real_labels(data_root, val_percent)
    return {
        split: [Path(p) for p in df.filter(pl.col("split") == split)["path"]]
        for split in ("train", "val")
    }


# --- crops --------------------------------------------------------------------------------------


def _crop(
    img: Image.Image,
    boxes: np.ndarray,
    scale: float,
    center: tuple[float, float],
    crop: int,
) -> tuple[Image.Image, np.ndarray]:
    """Rescale ``img`` by ``scale`` and cut a ``crop`` square centred at ``center`` (scaled px).

    Returns the crop and its boxes (clipped, in crop pixels); boxes less than 40 % visible are
    dropped: the model should not learn a sliver as a plate.
    """
    w, h = img.size
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    scaled = img.resize((sw, sh), Image.Resampling.BILINEAR)
    x0 = round(center[0] - crop / 2)
    y0 = round(center[1] - crop / 2)
    canvas = Image.new("RGB", (crop, crop), (_PAD, _PAD, _PAD))
    canvas.paste(scaled, (-x0, -y0))
    if len(boxes) == 0:
        return canvas, np.zeros((0, 4))
    b = boxes * scale - np.array([x0, y0, x0, y0])
    clipped = np.clip(b, 0, crop)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    visible = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    keep = visible >= 0.4 * np.maximum(area, 1e-6)
    return canvas, clipped[keep]


def _yolo_lines(boxes: np.ndarray, crop: int) -> str:
    if len(boxes) == 0:
        return ""
    cx = (boxes[:, 0] + boxes[:, 2]) / 2 / crop
    cy = (boxes[:, 1] + boxes[:, 3]) / 2 / crop
    bw = (boxes[:, 2] - boxes[:, 0]) / crop
    bh = (boxes[:, 3] - boxes[:, 1]) / crop
    return "".join(
        f"0 {a:.6f} {b:.6f} {c:.6f} {d:.6f}\n" for a, b, c, d in zip(cx, cy, bw, bh, strict=True)
    )


def _positive_center(
    rng: np.random.Generator, box: np.ndarray, scale: float, crop: int
) -> tuple[float, float]:
    """A crop centre that keeps the scaled plate inside the crop at a random position."""
    x1, y1, x2, y2 = box * scale
    margin_x = max(0.0, (crop - (x2 - x1)) / 2 - 4)
    margin_y = max(0.0, (crop - (y2 - y1)) / 2 - 4)
    return (
        (x1 + x2) / 2 + rng.uniform(-margin_x, margin_x),
        (y1 + y2) / 2 + rng.uniform(-margin_y, margin_y),
    )


def _negative_center(
    rng: np.random.Generator, size: tuple[int, int], box: np.ndarray, scale: float, crop: int
) -> tuple[float, float] | None:
    """A crop centre whose window misses the plate, or None if the photo has no such place."""
    w, h = size[0] * scale, size[1] * scale
    bx1, by1, bx2, by2 = box * scale
    for _ in range(20):
        cx = rng.uniform(crop / 2, max(crop / 2 + 1, w - crop / 2))
        cy = rng.uniform(crop / 2, max(crop / 2 + 1, h - crop / 2))
        if cx + crop / 2 < bx1 or cx - crop / 2 > bx2 or cy + crop / 2 < by1 or cy - crop / 2 > by2:
            return cx, cy
    return None


def _zoom(rng: np.random.Generator, lo: float = 0.7, hi: float = 1.5) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


@dataclass(frozen=True)
class _RealJob:
    path: str
    rel: str
    box: tuple[int, int, int, int]
    split: str
    crops: int
    negatives: int
    crop: int
    infer_size: int
    seed: int


@dataclass(frozen=True)
class _SynthJob:
    index: int
    crop: int
    infer_size: int
    seed: int
    split: str


def _real_crops(job: _RealJob) -> list[tuple[str, Image.Image, str]]:
    rng = np.random.default_rng(
        [job.seed, int(hashlib.sha256(job.rel.encode()).hexdigest()[:8], 16)]
    )
    img = Image.open(job.path).convert("RGB")
    base = job.infer_size / max(img.size)
    box = np.array([job.box], dtype=float)
    stem = job.rel.replace("/", "_").rsplit(".", 1)[0]
    out = []
    if job.split == "val":  # one crop at exactly the inference scale
        center = _positive_center(rng, box[0], base, job.crop)
        canvas, boxes = _crop(img, box, base, center, job.crop)
        return [(f"real_{stem}", canvas, _yolo_lines(boxes, job.crop))]
    for k in range(job.crops):
        scale = base * _zoom(rng)
        canvas, boxes = _crop(
            img, box, scale, _positive_center(rng, box[0], scale, job.crop), job.crop
        )
        out.append((f"real_{stem}_{k}", canvas, _yolo_lines(boxes, job.crop)))
    for k in range(job.negatives):
        scale = base * _zoom(rng)
        negative = _negative_center(rng, img.size, box[0], scale, job.crop)
        if negative is not None:
            canvas, _ = _crop(img, box, scale, negative, job.crop)
            out.append((f"real_{stem}_neg{k}", canvas, ""))
    return out


def _synth_crops(job: _SynthJob) -> list[tuple[str, Image.Image, str]]:
    rng = np.random.default_rng([job.seed, 7, job.index])
    # A third of the scenes are a lane camera's: one US plate 50-130 px wide in 1280x720.
    small = job.index % 3 == 2
    scene = (
        render_scene(rng, n_plates=1, plate_width=SMALL_PLATES, style="us")
        if small
        else (render_scene(rng))
    )
    boxes = np.array([p.box for p in scene.plates], dtype=float).reshape(-1, 4)
    scale = job.infer_size / max(scene.image.size) * (1.0 if small else _zoom(rng))
    if scene.overlays and rng.random() < 0.35:  # centred on the camera's text: a hard negative
        text_box = np.array(scene.overlays[int(rng.integers(len(scene.overlays)))], float)
        center = _positive_center(rng, text_box, scale, job.crop)
    elif len(boxes):
        target = boxes[int(rng.integers(len(boxes)))]
        center = _positive_center(rng, target, scale, job.crop)
    else:
        w, h = scene.image.size
        center = (rng.uniform(0, w * scale), rng.uniform(0, h * scale))
    canvas, kept = _crop(scene.image, boxes, scale, center, job.crop)
    return [(f"synth_{job.index:06d}", canvas, _yolo_lines(kept, job.crop))]


def _run(job: _RealJob | _SynthJob) -> tuple[str, list[tuple[str, Image.Image, str]]]:
    crops = _real_crops(job) if isinstance(job, _RealJob) else _synth_crops(job)
    return job.split, crops


def build_dataset(
    out_dir: Path,
    data_root: Path | None = None,
    n_synthetic: int = 800,
    n_synthetic_val: int = 100,
    crops_per_real: int = 4,
    negatives_per_real: int = 1,
    crop: int = 320,
    infer_size: int = 640,
    val_percent: int = 20,
    workers: int = 2,
    seed: int = 0,
) -> DatasetSummary:
    """Write ``images/{train,val}``, ``labels/{train,val}``, ``data.yaml`` and ``val_real.txt``.

    ``out_dir`` is replaced. Validation is the real validation photos (one crop each at inference
    scale) when ``data_root`` has them, otherwise ``n_synthetic_val`` synthetic crops. The same
    arguments give the same files.
    """
    labels = read_real_labels(data_root, val_percent)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    for split in ("train", "val"):
        (out_dir / "images" / split).mkdir(parents=True)
        (out_dir / "labels" / split).mkdir(parents=True)
    jobs: list[_RealJob | _SynthJob] = [
        _RealJob(
            path=row["path"],
            rel=row["rel"],
            box=(row["x1"], row["y1"], row["x2"], row["y2"]),
            split=row["split"],
            crops=crops_per_real,
            negatives=negatives_per_real,
            crop=crop,
            infer_size=infer_size,
            seed=seed,
        )
        for row in labels.iter_rows(named=True)
    ]
    jobs += [_SynthJob(i, crop, infer_size, seed, "train") for i in range(n_synthetic)]
    has_real_val = labels.filter(pl.col("split") == "val").height > 0
    if not has_real_val:
        jobs += [
            _SynthJob(n_synthetic + i, crop, infer_size, seed + 1, "val")
            for i in range(n_synthetic_val)
        ]
    counts = {"train": 0, "val": 0}
    for split, crops in _map(jobs, workers):
        for name, image, text in crops:
            image.save(out_dir / "images" / split / f"{name}.jpg", quality=92)
            (out_dir / "labels" / split / f"{name}.txt").write_text(text)
            counts[split] += 1
    val_rel = labels.filter(pl.col("split") == "val")["rel"].to_list()
    (out_dir / "val_real.txt").write_text("".join(f"{_ENDTOEND}/{r}\n" for r in val_rel))
    data_yaml = out_dir / "data.yaml"
    data_yaml.write_text(
        f"path: {out_dir.resolve()}\ntrain: images/train\nval: images/val\nnames:\n  0: plate\n"
    )
    return DatasetSummary(
        data_yaml=data_yaml,
        train_images=counts["train"],
        val_images=counts["val"],
        real_train_photos=labels.filter(pl.col("split") == "train").height,
        real_val_photos=len(val_rel),
        synthetic_scenes=n_synthetic + (0 if has_real_val else n_synthetic_val),
    )


def _map(
    jobs: list[_RealJob | _SynthJob], workers: int
) -> Iterator[tuple[str, list[tuple[str, Image.Image, str]]]]:
    if workers <= 1:
        yield from map(_run, jobs)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(_run, jobs, chunksize=8)
