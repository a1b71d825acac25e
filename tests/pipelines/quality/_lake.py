"""Tiny, consistent images/detections/reads partitions for the quality tests, as the pipelines
write them: three images of one day, a plate on each, each plate read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl

from pipelines.config import Settings
from pipelines.storage.lake import DETECTIONS, IMAGES, READS, LakeTable
from pipelines.storage.tables import conform, write_partition_batches

SHA = "ab" * 32
N = 3


def _at(day: date, i: int) -> datetime:
    return datetime.combine(day, time(8), tzinfo=UTC) + timedelta(minutes=i)


def images(day: date, cameras: tuple[str, ...] = ("cam-01",)) -> pl.DataFrame:
    rows: list[dict[str, Any]] = [
        {
            "image_id": f"img{i}",
            "bucket": "drops",
            "key": f"{cameras[i % len(cameras)]}/{day}/{i}.jpg",
            "etag": f"e{i}",
            "size_bytes": 50_000,
            "sha256": SHA,
            "image_format": "JPEG",
            "width": 1280,
            "height": 720,
            "camera_id": cameras[i % len(cameras)],
            "captured_at": _at(day, i),
            "capture_time_source": "sidecar",
            "run_id": "ingest-1",
            "registered_at": _at(day, i),
            "capture_date": day,
        }
        for i in range(N)
    ]
    return conform(pl.DataFrame(rows).with_columns(*_nulls(IMAGES, rows[0])), IMAGES.schema)


def detections(day: date) -> pl.DataFrame:
    rows = [
        {
            "detection_id": f"det{i}",
            "image_id": f"img{i}",
            "camera_id": "cam-01",
            "captured_at": _at(day, i),
            "x1": 100.0,
            "y1": 200.0,
            "x2": 260.0,
            "y2": 250.0,
            "score": 0.9,
            "detector_sha256": SHA,
            "detector_backend": "onnx",
            "crop_key": f"crops/{day}/img{i}/det{i}.jpg",
            "run_id": "rec-1",
            "capture_date": day,
        }
        for i in range(N)
    ]
    return conform(pl.DataFrame(rows), DETECTIONS.schema)


def reads(day: date, texts: tuple[str, ...] = ("ABC123", "7XYZ88", "")) -> pl.DataFrame:
    rows = [
        {
            "read_id": f"read{i}",
            "detection_id": f"det{i}",
            "image_id": f"img{i}",
            "camera_id": "cam-01",
            "captured_at": _at(day, i),
            "plate_text": texts[i],
            "confidence": 0.9 if texts[i] else 0.0,
            "char_confidences": [0.9] * len(texts[i]),
            "candidates": [{"text": texts[i], "score": 0.9}],
            "jurisdiction": None,
            "detector_sha256": SHA,
            "ocr_model": "ppocr",
            "run_id": "rec-1",
            "capture_date": day,
        }
        for i in range(N)
    ]
    return conform(pl.DataFrame(rows, infer_schema_length=None), READS.schema)


def _nulls(table: LakeTable, row: dict[str, Any]) -> list[pl.Expr]:
    return [pl.lit(None, dtype).alias(c) for c, dtype in table.schema.items() if c not in row]


def write(settings: Settings, table: LakeTable, frame: pl.DataFrame) -> None:
    day = frame.get_column("capture_date")[0]
    write_partition_batches(settings, table, day, [frame])
