"""The pure part of retention: when a data class expires, and which rows a pass deletes.

Age is counted from capture time (UTC), one way everywhere: a capture date expires as a whole
once its first instant is ``period`` days old, i.e. a row is expired when it was captured before
``expiry_bound(as_of, period)`` (a UTC midnight). Rows older than the period therefore never
survive a pass, and partitions, crops prefixes and ledger dates are cut at the same line.
Quarantined objects without a capture time age from their registration.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

import polars as pl

from pipelines.config import Settings
from pipelines.preservation.selection import held_expr

__all__ = ["ITEMS_SCHEMA", "DataClass", "expiry_bound", "periods", "plan_deletions"]


class DataClass(StrEnum):
    IMAGES = "images"  # source objects and sidecars, images rows, ledger facts, plate crops
    READS = "reads"  # reads, detections, recognition_errors, sightings
    QUARANTINE = "quarantine"  # quarantined source objects and their lake copies
    ALERTS = "alerts"  # alerts and their copies of reads


_UTC = pl.Datetime("us", "UTC")
# What a pass judges: one row per item (an alert may have several rows, one per read it holds).
ITEMS_SCHEMA = pl.Schema(
    {  # type: ignore[arg-type]  # polars' stubs do not type a dict of dtype instances
        "data_class": pl.String,
        "item_id": pl.String,  # image id, read id, "error:<image id>" or alert id
        "image_id": pl.String,
        "read_id": pl.String,  # null for rows that are not about one read
        "plate_key": pl.String,
        "camera_id": pl.String,
        "captured_at": _UTC,
    }
)


def expiry_bound(as_of: datetime, days: int) -> datetime:
    """Rows captured before this instant are expired: the UTC midnight after the capture date
    whose first instant is ``days`` days before ``as_of``."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    last_expired = (as_of.astimezone(UTC) - timedelta(days=days)).date()
    return datetime.combine(last_expired + timedelta(days=1), time(), tzinfo=UTC)


def periods(settings: Settings) -> dict[DataClass, int]:
    return {
        DataClass.IMAGES: settings.retention_days("images_days"),
        DataClass.READS: settings.retention_days("reads_days"),
        DataClass.QUARANTINE: settings.retention_days("quarantine_days"),
        DataClass.ALERTS: settings.retention_days("alerts_days"),
    }


def plan_deletions(
    items: pl.LazyFrame,
    holds: pl.DataFrame,
    as_of: datetime,
    period_days: Mapping[DataClass, int],
) -> pl.LazyFrame:
    """``items`` with ``expired``, ``held`` and ``delete`` (expired and not held).

    A row is held when an active hold selects it, or when it is not about one read (an image, a
    quarantined object, an error row) and a held read of its image is among ``items``: a held
    plate keeps its image. An item with several rows (an alert) is held if any of them is.
    """
    bounds = pl.DataFrame(
        {
            "data_class": [c.value for c in period_days],
            "_bound": [expiry_bound(as_of, d) for d in period_days.values()],
        },
        schema={"data_class": pl.String, "_bound": _UTC},
    ).lazy()
    judged = items.with_columns(held_expr(holds).alias("_direct"))
    held_images = (
        judged.filter(pl.col("_direct") & pl.col("read_id").is_not_null())
        .select("image_id", pl.lit(True).alias("_image_held"))
        .unique("image_id")
    )
    return (
        judged.join(bounds, on="data_class", how="left")
        .join(held_images, on="image_id", how="left", nulls_equal=False)
        .with_columns(
            expired=(pl.col("captured_at") < pl.col("_bound")).fill_null(False),
            held=(
                pl.col("_direct")
                | (pl.col("read_id").is_null() & pl.col("_image_held").fill_null(False))
            )
            .any()
            .over("data_class", "item_id"),
        )
        .with_columns(delete=pl.col("expired") & ~pl.col("held"))
        .drop("_direct", "_bound", "_image_held")
    )
