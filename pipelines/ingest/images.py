"""The ``images`` Delta table: one partition per capture date, projected from the ledger.

The ledger decides what was ingested; this step only rewrites a partition from it, so it can run
any number of times (after a crash, twice in parallel, as a backfill) and give the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl
import sqlalchemy as sa

from pipelines.config import Settings
from pipelines.ingest.register import IngestReport, register_drops
from pipelines.storage.catalog import (
    camera_objects,
    clear_partition_mark,
    engine_for,
    pending_partitions,
    upgrade_catalog,
)
from pipelines.storage.lake import IMAGES
from pipelines.storage.tables import conform, write_partition_batches

__all__ = ["PartitionWrite", "pending_image_partitions", "write_images_partition"]


# Rows read from the ledger and handed to the Delta writer at a time: a partition write holds
# about one batch (some 5 KB a row on the way through Python, polars and Arrow), whatever the day.
_BATCH_ROWS = 5_000


@dataclass(frozen=True)
class PartitionWrite:
    table: str
    capture_date: date
    rows: int
    bytes: int
    cameras: int


def pending_image_partitions(settings: Settings) -> dict[date, int]:
    """Capture dates whose ``images`` partition is behind the ledger, with their generation."""
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).connect() as conn:
        return pending_partitions(conn, IMAGES.name)


def write_images_partition(settings: Settings, day: date) -> PartitionWrite:
    """Rewrite partition ``day`` of ``images`` from the ledger's ingested objects of that day."""
    upgrade_catalog(settings.catalog_url)
    engine = engine_for(settings.catalog_url)
    rows = size = 0
    cameras: set[str] = set()

    def batches(conn: sa.Connection) -> Iterator[pl.DataFrame]:
        nonlocal rows, size
        query = (
            sa.select(*(camera_objects.c[name] for name in IMAGES.schema.names()))
            .where(camera_objects.c.capture_date == day, camera_objects.c.status == "ingested")
            .order_by(camera_objects.c.captured_at, camera_objects.c.image_id)
        )
        for raw in pl.read_database(
            query, conn, iter_batches=True, batch_size=_BATCH_ROWS, infer_schema_length=None
        ):
            frame = conform(raw, IMAGES.schema)
            rows += frame.height
            size += int(frame.get_column("size_bytes").sum() or 0)
            cameras.update(frame.get_column("camera_id").drop_nulls().unique())
            yield frame

    with engine.connect() as conn:
        generation = pending_partitions(conn, IMAGES.name).get(day)
        streaming = conn.execution_options(stream_results=True, max_row_buffer=_BATCH_ROWS)
        write_partition_batches(settings, IMAGES, day, batches(streaming))
    if generation is not None:
        with engine.begin() as conn:
            clear_partition_mark(conn, IMAGES.name, day, generation)
    return PartitionWrite(
        table=IMAGES.name, capture_date=day, rows=rows, bytes=size, cameras=len(cameras)
    )


def ingest_drops(
    settings: Settings,
    run_id: str,
    as_of: datetime,
    progress: Callable[[int], None] | None = None,
) -> tuple[IngestReport, list[PartitionWrite]]:
    """Register new objects, then rewrite every ``images`` partition behind the ledger.

    The whole ingestion in one call, for the CLI and scripts; the orchestrators run the two
    steps as separate assets/tasks so that partitions show up one by one.
    """
    report = register_drops(settings, run_id, as_of, progress=progress)
    written = [write_images_partition(settings, day) for day in pending_image_partitions(settings)]
    return report, written
