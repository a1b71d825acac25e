"""Tiny images/reads frames for the camera-health tests, with the lake tables' schemas: a camera's
day as so many frames, so many with a plate detected, so many of those read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from pipelines.storage.lake import IMAGES, READS
from pipelines.storage.tables import conform

SHA = "ab" * 32


@dataclass(frozen=True)
class CameraDay:
    camera: str
    day: date
    images: int = 10
    plates: int = 8  # the first ``plates`` frames hold one plate each
    read: int = 8  # ... of which the first ``read`` were read
    confidence: float = 0.75  # exact in float32, so boundaries compare exactly
    first_at: time = time(8)  # the frames are a minute apart from here

    def at(self, i: int) -> datetime:
        return datetime.combine(self.day, self.first_at, UTC) + timedelta(minutes=i)


def history(camera: str, day: date, days: int = 7, **figures: Any) -> list[CameraDay]:
    """``days`` identical days of ``camera`` before ``day``."""
    return [CameraDay(camera, day - timedelta(days=d), **figures) for d in range(1, days + 1)]


def frames(camera_days: Iterable[CameraDay]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``images`` and ``reads`` rows of these camera-days."""
    images: list[dict[str, object]] = []
    reads: list[dict[str, object]] = []
    for cd in camera_days:
        for i in range(cd.images):
            image_id = f"{cd.camera}-{cd.day}-{i}"
            images.append(
                {
                    "image_id": image_id,
                    "bucket": "drops",
                    "key": f"{cd.camera}/{cd.day}/{i}.jpg",
                    "etag": f"e{i}",
                    "size_bytes": 50_000,
                    "sha256": SHA,
                    "image_format": "JPEG",
                    "width": 1280,
                    "height": 720,
                    "camera_id": cd.camera,
                    "captured_at": cd.at(i),
                    "capture_time_source": "sidecar",
                    "run_id": "ingest-1",
                    "registered_at": cd.at(i),
                    "capture_date": cd.day,
                }
            )
            if i >= cd.plates:
                continue
            text = "ABC123" if i < cd.read else ""
            reads.append(
                {
                    "read_id": f"{image_id}-r",
                    "detection_id": f"{image_id}-r",
                    "image_id": image_id,
                    "camera_id": cd.camera,
                    "captured_at": cd.at(i),
                    "plate_text": text,
                    "confidence": cd.confidence if text else 0.0,
                    "char_confidences": [cd.confidence] * len(text),
                    "candidates": [{"text": text, "score": cd.confidence}],
                    "detector_sha256": SHA,
                    "ocr_model": "ppocr",
                    "run_id": "rec-1",
                    "capture_date": cd.day,
                }
            )
    return _conformed(images, IMAGES.schema), _conformed(reads, READS.schema)


def _conformed(rows: list[dict[str, object]], schema: pl.Schema) -> pl.DataFrame:
    if not rows:
        return pl.DataFrame(schema=schema)
    frame = pl.DataFrame(rows, infer_schema_length=None)
    missing = [pl.lit(None, dtype).alias(c) for c, dtype in schema.items() if c not in frame]
    return conform(frame.with_columns(missing), schema)
