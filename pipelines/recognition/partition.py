"""Recognition of one capture date: ``images`` partition in; ``detections``, ``reads`` and
``recognition_errors`` partitions and plate crops out.

Every output of the day is replaced as a whole (tables by partition, crops by prefix), so a re-run
gives exactly the same result and a crashed run leaves nothing that the next run keeps.
An image that cannot be fetched or decoded is recorded with its error; the batch goes on.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from queue import Queue
from typing import Any

import numpy as np
import polars as pl
from PIL import Image

from pipelines.config import Settings
from pipelines.errors import RecognitionError
from pipelines.recognition.recognize import PlateFinding, Recognizer, decode_image
from pipelines.storage.objects import s3_client
from pipelines.storage.tables import conform, scan_table, write_partition

__all__ = [
    "DETECTIONS_SCHEMA",
    "READS_SCHEMA",
    "RECOGNITION_ERRORS_SCHEMA",
    "RecognitionReport",
    "crop_key",
    "recognize_partition",
]

_UTC = pl.Datetime("us", "UTC")
DETECTIONS_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]  # polars' stubs do not type a dict of dtype instances
        "detection_id": pl.String,
        "image_id": pl.String,
        "camera_id": pl.String,
        "captured_at": _UTC,
        "x1": pl.Float32,
        "y1": pl.Float32,
        "x2": pl.Float32,
        "y2": pl.Float32,
        "score": pl.Float32,
        "detector_sha256": pl.String,
        "detector_backend": pl.String,
        "crop_key": pl.String,
        "run_id": pl.String,
        "capture_date": pl.Date,
    }
)
READS_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]
        "read_id": pl.String,
        "detection_id": pl.String,
        "image_id": pl.String,
        "camera_id": pl.String,
        "captured_at": _UTC,
        "plate_text": pl.String,
        "confidence": pl.Float32,
        "char_confidences": pl.List(pl.Float32),
        "candidates": pl.List(pl.Struct({"text": pl.String, "score": pl.Float32})),
        "jurisdiction": pl.String,
        "detector_sha256": pl.String,
        "ocr_model": pl.String,
        "run_id": pl.String,
        "capture_date": pl.Date,
    }
)
RECOGNITION_ERRORS_SCHEMA = pl.Schema(
    {
        "image_id": pl.String,
        "key": pl.String,
        "error": pl.String,
        "run_id": pl.String,
        "capture_date": pl.Date,
    }
)


@dataclass(frozen=True)
class RecognitionReport:
    capture_date: date
    images: int
    failed: int
    plates: int
    read: int  # plates with non-empty text
    mean_confidence: float
    seconds: float
    model_versions: dict[str, str]

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds else 0.0


def crop_key(capture_date: date, image_id: str, detection_id: str) -> str:
    """Where a plate crop is stored in the lake bucket (derivable from a detection row)."""
    return f"crops/{capture_date.isoformat()}/{image_id}/{detection_id}.jpg"


def _detection_id(image_id: str, detector_sha256: str, rank: int) -> str:
    raw = f"{image_id}:{detector_sha256}:{rank}"
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


def _jpeg(crop: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(crop).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def _batches(frame: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    for offset in range(0, frame.height, size):
        yield frame.slice(offset, size)


@dataclass
class _BatchOutput:
    detections: list[dict[str, Any]]
    reads: list[dict[str, Any]]
    errors: list[dict[str, Any]]


def recognize_partition(
    settings: Settings,
    day: date,
    run_id: str,
    recognizers: Sequence[Recognizer] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RecognitionReport:
    """Detect and read the plates of every image captured on ``day``; replace that day's output.

    Batches run in parallel, one per recognizer (``recognition.workers`` of them by default, each
    with single-threaded models): on a small CPU that keeps every core busy with a whole batch
    rather than splitting each model call across cores.
    """
    started = time.perf_counter()
    if not recognizers:
        workers = settings.recognition.workers
        recognizers = Recognizer.load_workers(settings.recognition, workers, threads=1)
    versions = recognizers[0].model_versions
    idle: Queue[Recognizer] = Queue()
    for recognizer in recognizers:
        idle.put(recognizer)
    client = s3_client(settings.s3)
    lake = settings.s3.lake_bucket
    images = (
        scan_table(settings, "images", day)
        .select("image_id", "bucket", "key", "camera_id", "captured_at")
        .sort("captured_at", "image_id")
        .collect()
    )

    def fetch(row: dict[str, Any]) -> np.ndarray | str:
        try:
            body = client.get_object(Bucket=row["bucket"], Key=row["key"])["Body"].read()
            return decode_image(body)
        except RecognitionError as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - recorded per image, never stops the batch
            return f"{type(exc).__name__}: {exc}"

    def error(row: dict[str, Any], message: str) -> dict[str, Any]:
        return {"image_id": row["image_id"], "key": row["key"], "error": message, "run_id": run_id}

    def process(
        rows: list[dict[str, Any]], fetches: list[Future[np.ndarray | str]]
    ) -> _BatchOutput:
        fetched = [f.result() for f in fetches]
        out = _BatchOutput([], [], [])
        out.errors += [
            error(r, f) for r, f in zip(rows, fetched, strict=True) if isinstance(f, str)
        ]
        good = [(r, f) for r, f in zip(rows, fetched, strict=True) if not isinstance(f, str)]
        recognizer = idle.get()
        try:
            findings = recognizer.read_frames([frame for _, frame in good])
        except RecognitionError as exc:  # a model failure on this batch: record, go on
            out.errors += [error(r, str(exc)) for r, _ in good]
            return out
        finally:
            idle.put(recognizer)
        for (row, _), plates in zip(good, findings, strict=True):
            for rank, finding in enumerate(plates):
                det_id = _detection_id(row["image_id"], versions["detector_sha256"], rank)
                key = crop_key(day, row["image_id"], det_id)
                uploads.append(io_pool.submit(_put_crop, client, lake, key, finding))
                out.detections.append(_detection_row(row, finding, det_id, key, versions, run_id))
                out.reads.append(_read_row(row, finding, det_id, versions, run_id))
        if progress:
            progress(len(rows))
        return out

    uploads: list[Future[None]] = []
    outputs: list[_BatchOutput] = []
    in_flight: deque[Future[_BatchOutput]] = deque()
    batch_size = settings.recognition.batch_size
    with (
        ThreadPoolExecutor(8, thread_name_prefix="recognize-io") as io_pool,
        ThreadPoolExecutor(len(recognizers), thread_name_prefix="recognize") as batch_pool,
    ):
        # Images of the next batches are fetched and decoded while the current ones are
        # recognised, so no worker waits on storage; the bound keeps that many frames in memory.
        for batch in _batches(images, batch_size):
            rows = batch.to_dicts()
            fetches = [io_pool.submit(fetch, row) for row in rows]
            in_flight.append(batch_pool.submit(process, rows, fetches))
            while len(in_flight) > len(recognizers) + 1:
                outputs.append(in_flight.popleft().result())
        outputs += [future.result() for future in in_flight]
        for upload in uploads:
            upload.result()
    detections = [row for out in outputs for row in out.detections]
    reads = [row for out in outputs for row in out.reads]
    errors = [row for out in outputs for row in out.errors]
    _drop_stale_crops(client, lake, day, {row["crop_key"] for row in detections})

    def frame(rows: list[dict[str, Any]], schema: pl.Schema) -> pl.DataFrame:
        data = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame(schema=schema)
        return conform(data.with_columns(pl.lit(day).alias("capture_date")), schema)

    reads_frame = frame(reads, READS_SCHEMA)
    write_partition(settings, "detections", day, frame(detections, DETECTIONS_SCHEMA))
    write_partition(settings, "reads", day, reads_frame)
    write_partition(settings, "recognition_errors", day, frame(errors, RECOGNITION_ERRORS_SCHEMA))
    read_texts = reads_frame.filter(pl.col("plate_text") != "")
    return RecognitionReport(
        capture_date=day,
        images=images.height,
        failed=len(errors),
        plates=reads_frame.height,
        read=read_texts.height,
        mean_confidence=float(read_texts.get_column("confidence").mean() or 0.0),  # type: ignore[arg-type]
        seconds=time.perf_counter() - started,
        model_versions=versions,
    )


def _put_crop(client: Any, bucket: str, key: str, finding: PlateFinding) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=_jpeg(finding.crop), ContentType="image/jpeg")


def _drop_stale_crops(client: Any, bucket: str, day: date, keep: set[str]) -> None:
    """Delete crops of ``day`` that this run did not write (e.g. from an older model)."""
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"crops/{day.isoformat()}/"
    )
    stale = [o["Key"] for p in pages for o in p.get("Contents", []) if o["Key"] not in keep]
    for offset in range(0, len(stale), 1000):
        chunk = stale[offset : offset + 1000]
        client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk]})


def _detection_row(
    row: dict[str, Any],
    finding: PlateFinding,
    detection_id: str,
    key: str,
    versions: dict[str, str],
    run_id: str,
) -> dict[str, Any]:
    x1, y1, x2, y2 = finding.detection.box
    return {
        "detection_id": detection_id,
        "image_id": row["image_id"],
        "camera_id": row["camera_id"],
        "captured_at": row["captured_at"],
        "x1": x1,
        "y1": y1,
        "x2": x2,
        "y2": y2,
        "score": finding.detection.score,
        "detector_sha256": versions["detector_sha256"],
        "detector_backend": versions["detector_backend"],
        "crop_key": key,
        "run_id": run_id,
    }


def _read_row(
    row: dict[str, Any],
    finding: PlateFinding,
    detection_id: str,
    versions: dict[str, str],
    run_id: str,
) -> dict[str, Any]:
    read = finding.read
    return {
        "read_id": detection_id,  # one read per detection
        "detection_id": detection_id,
        "image_id": row["image_id"],
        "camera_id": row["camera_id"],
        "captured_at": row["captured_at"],
        "plate_text": read.text,
        "confidence": read.confidence,
        "char_confidences": list(read.char_confidences),
        "candidates": [{"text": t, "score": s} for t, s in read.candidates],
        "jurisdiction": read.jurisdiction,
        "detector_sha256": versions["detector_sha256"],
        "ocr_model": versions["ocr_model"],
        "run_id": run_id,
    }
