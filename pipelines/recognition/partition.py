"""Recognition of one capture date: ``images`` partition in; ``detections``, ``reads`` and
``recognition_errors`` partitions and plate crops out.

Every output of the day is replaced as a whole (tables by partition, crops by prefix), so a re-run
gives exactly the same result and a crashed run leaves nothing that the next run keeps. Output rows
are spilled batch by batch to local Parquet files and the partitions replaced from them at the
end, so memory holds a few batches however many images the day has.
An image that cannot be fetched or decoded is recorded with its error; the batch goes on.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from queue import Queue
from typing import Any

import numpy as np
import polars as pl
import pyarrow.parquet as pq
from PIL import Image

from pipelines.config import Settings
from pipelines.errors import RecognitionError
from pipelines.quality.gate import require_partition_passed
from pipelines.recognition.recognize import PlateFinding, Recognizer, decode_image
from pipelines.search.index import index_days
from pipelines.storage.lake import DETECTIONS, IMAGES, READS, RECOGNITION_ERRORS, LakeTable
from pipelines.storage.objects import s3_client
from pipelines.storage.tables import (
    arrow_schema,
    conform,
    scan_table,
    write_partition_batches,
)

__all__ = [
    "RecognitionReport",
    "crop_key",
    "recognize_partition",
]


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


_OUTPUTS = (DETECTIONS, READS, RECOGNITION_ERRORS)
_READ_BACK_ROWS = 5_000  # rows handed at a time from a spill file to the Delta writer


class _Spill:
    """A day's output rows in local Parquet files, one per table, appended batch by batch."""

    def __init__(self, folder: Path, day: date) -> None:
        self._folder = folder
        self._day = day
        self._writers: dict[str, pq.ParquetWriter] = {}

    def add(self, table: LakeTable, rows: list[dict[str, Any]]) -> pl.DataFrame:
        schema = table.schema
        if not rows:
            return pl.DataFrame(schema=schema)
        data = pl.DataFrame(rows, infer_schema_length=None)
        frame = conform(data.with_columns(pl.lit(self._day).alias("capture_date")), schema)
        arrow = frame.to_arrow().cast(arrow_schema(schema))
        if table.name not in self._writers:
            path = self._folder / f"{table.name}.parquet"
            self._writers[table.name] = pq.ParquetWriter(path, arrow.schema)
        self._writers[table.name].write_table(arrow)
        return frame

    def scan(self, table: LakeTable) -> pl.LazyFrame:
        """All rows of ``table`` (no more can be added)."""
        self._finish(table)
        path = self._folder / f"{table.name}.parquet"
        return pl.scan_parquet(path) if path.exists() else pl.LazyFrame(schema=table.schema)

    def frames(self, table: LakeTable) -> Iterator[pl.DataFrame]:
        """The rows of ``table`` in order, a bounded number at a time (none if it had none)."""
        self._finish(table)
        path = self._folder / f"{table.name}.parquet"
        if not path.exists():
            return
        for batch in pq.ParquetFile(path).iter_batches(batch_size=_READ_BACK_ROWS):
            yield pl.DataFrame(pl.from_arrow(batch))

    def _finish(self, table: LakeTable) -> None:
        writer = self._writers.pop(table.name, None)
        if writer is not None:
            writer.close()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()


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
    require_partition_passed(settings, IMAGES, day)  # images that failed their suite stop here
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
        scan_table(settings, IMAGES, day)
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

    uploads: deque[Future[None]] = deque()
    in_flight: deque[Future[_BatchOutput]] = deque()
    batch_size = settings.recognition.batch_size
    plates = read = failed = 0
    confidence_sum = 0.0

    def keep(out: _BatchOutput) -> None:
        nonlocal plates, read, failed, confidence_sum
        spill.add(DETECTIONS, out.detections)
        reads = spill.add(READS, out.reads)
        failed += spill.add(RECOGNITION_ERRORS, out.errors).height
        texts = reads.filter(pl.col("plate_text") != "")
        plates += reads.height
        read += texts.height
        confidence_sum += float(texts.get_column("confidence").sum() or 0.0)
        while uploads and uploads[0].done():  # surface upload errors early, keep the deque short
            uploads.popleft().result()

    with (
        tempfile.TemporaryDirectory(prefix="alpr-recognize-") as spill_dir,
        ThreadPoolExecutor(8, thread_name_prefix="recognize-io") as io_pool,
        ThreadPoolExecutor(len(recognizers), thread_name_prefix="recognize") as batch_pool,
    ):
        spill = _Spill(Path(spill_dir), day)
        try:
            # Images of the next batches are fetched and decoded while the current ones are
            # recognized, so no worker waits on storage; the bound keeps that many frames in
            # memory.
            for batch in _batches(images, batch_size):
                rows = batch.to_dicts()
                fetches = [io_pool.submit(fetch, row) for row in rows]
                in_flight.append(batch_pool.submit(process, rows, fetches))
                while len(in_flight) > len(recognizers) + 1:
                    keep(in_flight.popleft().result())
            while in_flight:
                keep(in_flight.popleft().result())
            for upload in uploads:
                upload.result()
            written = spill.scan(DETECTIONS).select("crop_key")
            _drop_stale_crops(client, lake, day, written)
            for table in _OUTPUTS:
                write_partition_batches(settings, table, day, spill.frames(table))
            index_days(settings, [day])  # the search's plate index of the day's reads
        finally:
            spill.close()
    return RecognitionReport(
        capture_date=day,
        images=images.height,
        failed=failed,
        plates=plates,
        read=read,
        mean_confidence=confidence_sum / read if read else 0.0,
        seconds=time.perf_counter() - started,
        model_versions=versions,
    )


def _put_crop(client: Any, bucket: str, key: str, finding: PlateFinding) -> None:
    client.put_object(Bucket=bucket, Key=key, Body=_jpeg(finding.crop), ContentType="image/jpeg")


def _drop_stale_crops(client: Any, bucket: str, day: date, written: pl.LazyFrame) -> None:
    """Delete crops of ``day`` that this run did not write (e.g. from an older model).

    ``written`` holds this run's ``crop_key`` column; each listed page is checked against it, so
    memory holds a page of keys, not the day's.
    """
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"crops/{day.isoformat()}/"
    )
    for page in pages:
        listed = [o["Key"] for o in page.get("Contents", [])]
        if not listed:
            continue
        kept = written.filter(pl.col("crop_key").is_in(listed)).collect().get_column("crop_key")
        stale = sorted(set(listed) - set(kept))
        if stale:  # at most 1,000 keys a page: what one delete_objects call takes
            client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale]})


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
