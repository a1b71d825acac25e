"""Reads and their images written straight into the lake tables, for the search tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from pipelines.config import Settings
from pipelines.storage.lake import IMAGES, READS
from pipelines.storage.tables import conform, write_partition_batches


def write_reads(settings: Settings, reads: Sequence[tuple[str, str, str, datetime]]) -> None:
    """(read id, plate text, camera, captured at) rows, each with an image at a known place
    (``img-<read id>``, latitude 39.7 + i / 1000), one partition per capture date."""
    frame = pl.DataFrame(
        {
            "read_id": [r[0] for r in reads],
            "plate_text": [r[1] for r in reads],
            "camera_id": [r[2] for r in reads],
            "captured_at": [r[3] for r in reads],
        },
        schema_overrides={"captured_at": pl.Datetime("us", "UTC")},
    ).with_columns(
        image_id=pl.format("img-{}", "read_id"),
        detection_id=pl.format("det-{}", "read_id"),
        capture_date=pl.col("captured_at").dt.date(),
        confidence=pl.lit(0.9),
        jurisdiction=pl.lit("co"),
        detector_sha256=pl.lit("d" * 64),
        ocr_model=pl.lit("ppocr"),
        run_id=pl.lit("rec-1"),
        char_confidences=pl.lit(None, pl.List(pl.Float32)),
        candidates=pl.lit(None, READS.schema["candidates"]),
    )
    images = frame.with_row_index("i").with_columns(
        bucket=pl.lit(settings.s3.drops_bucket),
        key=pl.format("{}/{}.jpg", "camera_id", "read_id"),
        etag=pl.lit("e"),
        size_bytes=pl.lit(1000),
        sha256=pl.lit("s" * 64),
        image_format=pl.lit("JPEG"),
        width=pl.lit(640),
        height=pl.lit(480),
        capture_time_source=pl.lit("sidecar"),
        latitude=39.7 + pl.col("i") / 1000,
        longitude=pl.lit(-105.08),
        heading=pl.lit(270.0),
        lane=pl.lit(1),
        sidecar_key=pl.lit(None, pl.String),
        registered_at=pl.col("captured_at"),
    )
    for day in frame["capture_date"].unique().sort():
        write_partition_batches(
            settings,
            READS,
            day,
            [conform(frame.filter(pl.col("capture_date") == day), READS.schema)],
        )
        write_partition_batches(
            settings,
            IMAGES,
            day,
            [conform(images.filter(pl.col("capture_date") == day), IMAGES.schema)],
        )
