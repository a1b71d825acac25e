"""The reads a search finds: from the plate index where it holds the day, else from ``reads`` in
two passes so that a year of reads is not read whole.

A plate search takes the days that the plate index (``pipelines/search/index.py``) holds as
``reads`` and ``images`` hold them now from the index: a file a month, sorted by the plate's
look-alike fold. Every other day, and every search without a plate, is read from ``reads``.
Pass one reads only the columns the criteria test (and the partition column) and counts the hits
per capture date: a time window prunes the partitions to the dates it covers, and Delta's file
statistics skip the files whose times or cameras cannot match. Pass two reads the whole rows, but
only of the dates that hold hits, up to the limit; the images of the reads returned give the
capture's location and source object. Figures: docs/benchmarks.md, Search."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import polars as pl
from deltalake import DeltaTable

from pipelines.config import Settings
from pipelines.search.criteria import Criteria
from pipelines.search.index import day_sources, lookup, open_table
from pipelines.storage.lake import IMAGES, PARTITION_COLUMN, READS
from pipelines.storage.objects import delta_storage_options

__all__ = ["RESULT_COLUMNS", "Found", "find_reads"]

# What a search returns of each read, in this order: the read, then its image and location.
_READ_COLUMNS = (
    "read_id",
    "captured_at",
    "camera_id",
    "plate_text",
    "jurisdiction",
    "confidence",
    "image_id",
    "detection_id",
    PARTITION_COLUMN,
)
_IMAGE_COLUMNS = ("image_bucket", "image_key", "latitude", "longitude", "heading")
RESULT_COLUMNS = (*_READ_COLUMNS, *_IMAGE_COLUMNS)


@dataclass(frozen=True)
class Found:
    rows: pl.DataFrame  # RESULT_COLUMNS, by capture time then read id; at most the limit
    total: int  # every read that matches, returned or not


def find_reads(settings: Settings, criteria: Criteria, limit: int) -> Found:
    """The reads matching ``criteria`` (the first ``limit`` by capture time) and their count.

    With a plate criterion, the days that the plate index holds as they are now come from it
    (``pipelines.search.index``), the other days from ``reads``: the same reads either way."""
    reads = open_table(settings, READS)
    if reads is None:  # no reads recognized yet
        return Found(_empty(), 0)
    images = functools.cache(lambda: open_table(settings, IMAGES))  # loaded when needed
    where = criteria.filters()
    indexed = lookup(settings, criteria, reads, images()) if criteria.plate else None
    if indexed is None:
        return _scan_reads(settings, reads, images, where, limit)
    rest = sorted(set(day_sources(reads, None)) - indexed.covered)
    if criteria.start is not None and criteria.end is not None:
        last = (criteria.end - timedelta(microseconds=1)).date()
        rest = [d for d in rest if criteria.start.date() <= d <= last]
    scanned = (
        _scan_reads(settings, reads, images, [*where, pl.col(PARTITION_COLUMN).is_in(rest)], limit)
        if rest
        else Found(_empty(), 0)
    )
    rows = (
        pl.concat([indexed.rows.select(RESULT_COLUMNS), scanned.rows])
        .sort("captured_at", "read_id")
        .head(limit)
    )
    return Found(rows, indexed.rows.height + scanned.total)


def _scan_reads(
    settings: Settings,
    reads: DeltaTable,
    images: Callable[[], DeltaTable | None],
    where: list[pl.Expr],
    limit: int,
) -> Found:
    """The two passes over ``reads``: hits per capture date, then the rows of the dates needed."""
    scan = pl.scan_delta(reads, storage_options=delta_storage_options(settings.s3))
    per_day = (
        scan.filter(*where)
        .group_by(PARTITION_COLUMN)
        .agg(pl.len().alias("hits"))
        .sort(PARTITION_COLUMN)
        .collect()
    )
    total = int(per_day["hits"].sum())
    if total == 0:
        return Found(_empty(), 0)
    # The earliest dates whose hits reach the limit: later dates cannot be returned.
    needed = per_day.filter(pl.col("hits").cum_sum().shift(1, fill_value=0) < limit)
    days = needed[PARTITION_COLUMN].implode()
    rows = (
        scan.filter(pl.col(PARTITION_COLUMN).is_in(days), *where)
        .select(_READ_COLUMNS)
        .sort("captured_at", "read_id")
        .head(limit)
        .collect()
    )
    return Found(_with_images(settings, rows, days, images()), total)


def _with_images(
    settings: Settings, rows: pl.DataFrame, days: pl.Series, images: DeltaTable | None
) -> pl.DataFrame:
    """``rows`` with the source object and location of their images (null where none)."""
    if images is None:
        return rows.with_columns(_null_image_columns()).select(RESULT_COLUMNS)
    found = (
        pl.scan_delta(images, storage_options=delta_storage_options(settings.s3))
        .filter(
            pl.col(PARTITION_COLUMN).is_in(days),
            pl.col("image_id").is_in(rows["image_id"].unique().implode()),
        )
        .select(
            "image_id",
            image_bucket="bucket",
            image_key="key",
            latitude="latitude",
            longitude="longitude",
            heading="heading",
        )
        .unique("image_id")
        .collect()
    )
    return rows.join(found, on="image_id", how="left", maintain_order="left").select(RESULT_COLUMNS)


def _null_image_columns() -> list[pl.Expr]:
    return [
        pl.lit(None, pl.String).alias("image_bucket"),
        pl.lit(None, pl.String).alias("image_key"),
        pl.lit(None, pl.Float64).alias("latitude"),
        pl.lit(None, pl.Float64).alias("longitude"),
        pl.lit(None, pl.Float64).alias("heading"),
    ]


def _empty() -> pl.DataFrame:
    reads = pl.DataFrame(schema={c: READS.schema[c] for c in _READ_COLUMNS})
    return reads.with_columns(_null_image_columns())
