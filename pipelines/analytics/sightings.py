"""The ``sightings`` table: each capture date's reads with plates pseudonymized (PP-9126 B.8).

What a sighting keeps of its read: a pseudonym of the plate, the camera, the capture time and its
local hour, the jurisdiction read and the confidence; and the version and fingerprint of the key
that made the pseudonym. What it drops: the plate text, the read, detection and image ids, image
keys and the capture position (the camera id places a read well enough for analysis, exact
coordinates over time are personal). A build replaces the day's partition, so re-runs change
nothing; a day whose reads are gone (retention) is emptied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.analytics._key import AnalyticsKey, AnalyticsKeyError, analytics_key
from pipelines.config import Settings
from pipelines.storage.lake import READS, SIGHTINGS
from pipelines.storage.tables import conform, scan_table, table_exists, write_partition_batches

__all__ = ["SightingsReport", "build_sightings", "pseudonymize", "stale_days"]

_READ_COLUMNS = ("read_id", "plate_text", "camera_id", "captured_at", "jurisdiction", "confidence")


@dataclass(frozen=True)
class SightingsReport:
    capture_date: date
    rows: int
    key_version: int


def pseudonymize(reads: pl.DataFrame, key: AnalyticsKey, timezone: str) -> pl.DataFrame:
    """``reads`` (at least ``_READ_COLUMNS`` and ``capture_date``) as ``sightings`` rows; reads
    without plate text are left out. Each distinct plate is hashed once, then joined."""
    read = reads.filter(pl.col("plate_text").is_not_null() & (pl.col("plate_text") != ""))
    plates = read.get_column("plate_text").unique()
    lookup = pl.DataFrame([plates, key.pseudonyms(plates)])
    return conform(
        read.join(lookup, on="plate_text", how="left").with_columns(
            key.sighting_ids(read.get_column("read_id")),
            pl.lit(key.version, pl.Int32).alias("key_version"),
            pl.lit(key.key_id).alias("key_id"),
            pl.col("captured_at").dt.convert_time_zone(timezone).dt.hour().alias("hour_of_day"),
        ),
        SIGHTINGS.schema,
    ).sort("captured_at", "sighting_id")


def stale_days(settings: Settings, key: AnalyticsKey) -> list[date]:
    """Capture dates of ``sightings`` holding pseudonyms of another key than ``key``; refused
    when a key other than ``key`` carries its version (the key changed, its version did not)."""
    if not table_exists(settings, SIGHTINGS):
        return []
    keys = (
        scan_table(settings, SIGHTINGS)
        .select("capture_date", "key_version", "key_id")
        .unique()
        .collect()
    )
    clash = keys.filter((pl.col("key_version") == key.version) & (pl.col("key_id") != key.key_id))
    if clash.height:
        raise AnalyticsKeyError(
            f"sightings hold pseudonyms of another key with version {key.version}: a new key "
            "needs a new analytics.key_version (then alpr analytics rotate-key)"
        )
    stale = keys.filter(pl.col("key_id") != key.key_id).get_column("capture_date")
    return sorted(stale.unique().to_list())


def build_sightings(
    settings: Settings, day: date, key: AnalyticsKey | None = None
) -> SightingsReport:
    """Replace partition ``day`` of ``sightings`` with the day's reads, pseudonymized under the
    key in force (``analytics.key`` / ``analytics.key_file``)."""
    key = key or analytics_key(settings.analytics)
    stale_days(settings, key)  # refuses a changed key under an unchanged version
    if table_exists(settings, READS):
        reads = scan_table(settings, READS, day).select(*_READ_COLUMNS, "capture_date").collect()
    else:
        reads = pl.DataFrame(schema={c: READS.schema[c] for c in (*_READ_COLUMNS, "capture_date")})
    rows = pseudonymize(reads, key, settings.analytics.timezone)
    written = write_partition_batches(settings, SIGHTINGS, day, [rows])
    return SightingsReport(day, written, key.version)
