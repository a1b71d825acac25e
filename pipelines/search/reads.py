"""The reads a search finds, read in two passes so that a year of reads is not read whole.

Pass one reads only the columns the criteria test (and the partition column) and counts the hits
per capture date: a time window prunes the partitions to the dates it covers, and Delta's file
statistics skip the files whose times or cameras cannot match. Pass two reads the whole rows, but
only of the dates that hold hits, up to the limit. On a year of 10 M reads, a plate read once
is found in 2.2 s where one pass over every column takes 5.6 s; a plate read every day costs
more than that one pass, pass one being wasted (docs/benchmarks.md, Search). The images of the
reads returned give the capture's location and source object.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines.config import Settings
from pipelines.search.criteria import Criteria
from pipelines.storage.lake import IMAGES, PARTITION_COLUMN, READS
from pipelines.storage.tables import scan_table

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
    """The reads matching ``criteria`` (the first ``limit`` by capture time) and their count."""
    try:
        reads = scan_table(settings, READS)
    except FileNotFoundError:  # no reads recognized yet
        return Found(_empty(), 0)
    where = criteria.filters()
    per_day = (
        reads.filter(*where)
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
        reads.filter(pl.col(PARTITION_COLUMN).is_in(days), *where)
        .select(_READ_COLUMNS)
        .sort("captured_at", "read_id")
        .head(limit)
        .collect()
    )
    return Found(_with_images(settings, rows, days), total)


def _with_images(settings: Settings, rows: pl.DataFrame, days: pl.Series) -> pl.DataFrame:
    """``rows`` with the source object and location of their images (null where none)."""
    try:
        scan = scan_table(settings, IMAGES)
    except FileNotFoundError:
        return rows.with_columns(_null_image_columns()).select(RESULT_COLUMNS)
    images = (
        scan.filter(
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
    return rows.join(images, on="image_id", how="left", maintain_order="left").select(
        RESULT_COLUMNS
    )


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
