"""Deleting rows of the lake's Delta tables so that nothing of them stays in the table prefix.

Three steps: remove the rows (a partition dropped, or rewritten with its held rows only), vacuum
with zero retention (the removed Parquet files are deleted), then checkpoint and drop the older
log files (the commits that added removed files carry their column statistics). The tables also
get ``delta.dataSkippingStatsColumns`` limited to ids and times, so that new commits never carry
plate text or coordinates in their statistics at all.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable

from pipelines.config import Settings
from pipelines.storage.lake import PARTITION_COLUMN, LakeTable
from pipelines.storage.objects import delta_storage_options
from pipelines.storage.tables import scan_table, table_exists, write_partition_batches

__all__ = ["STATS_COLUMNS", "delete_rows", "partitions_before", "purge_history"]

# Columns whose min/max the log may keep: ids, camera and time, never plate text or positions.
STATS_COLUMNS = ("capture_date", "captured_at", "camera_id", "image_id", "detection_id", "read_id")
_PROPERTIES = {
    "delta.logRetentionDuration": "interval 0 days",
    "delta.deletedFileRetentionDuration": "interval 0 days",
}


def _table(settings: Settings, table: LakeTable) -> DeltaTable:
    return DeltaTable(table.uri(settings.s3), storage_options=delta_storage_options(settings.s3))


def partitions_before(settings: Settings, table: LakeTable, bound: date) -> set[date]:
    """Capture dates of ``table`` before ``bound`` that hold data files."""
    if not table_exists(settings, table):
        return set()
    # pyarrow reads the add actions' Arrow stream as a table (polars' from_arrow made one
    # struct column of it, so no partition was ever found here)
    actions = pl.DataFrame(pa.table(_table(settings, table).get_add_actions(flatten=True)))
    column = f"partition.{PARTITION_COLUMN}"
    if column not in actions.columns or not actions.height:
        return set()
    days = actions.get_column(column).cast(pl.Date)
    return set(days.filter(days < bound).unique().to_list())


def delete_rows(
    settings: Settings,
    table: LakeTable,
    day: date,
    doomed: pl.Expr,
    *,
    dry_run: bool,
) -> pl.DataFrame:
    """Delete the rows of partition ``day`` for which ``doomed`` is true; returns them (their
    ``camera_id`` if the table has one, for the report). Nothing to delete: nothing written."""
    if not table_exists(settings, table):
        return pl.DataFrame()
    part = scan_table(settings, table, day)
    schema = part.collect_schema()
    camera = [pl.col("camera_id")] if "camera_id" in schema else [pl.lit(None, pl.String)]
    gone = part.filter(doomed).select(*camera).collect()
    if dry_run or not gone.height:
        return gone
    kept = part.filter(~doomed).collect()
    if kept.height:
        write_partition_batches(settings, table, day, [kept])
    else:
        _table(settings, table).delete(f"{PARTITION_COLUMN} = '{day.isoformat()}'")
    return gone


def purge_history(settings: Settings, table: LakeTable) -> list[str]:
    """Vacuum ``table`` with zero retention and drop the log before a fresh checkpoint; returns
    the data files deleted. Safe to repeat: a pass killed before it is completed by the next."""
    if not table_exists(settings, table):
        return []
    dt = _table(settings, table)
    names = {f.name for f in dt.schema().fields}
    wanted = dict(_PROPERTIES)
    wanted["delta.dataSkippingStatsColumns"] = ",".join(c for c in STATS_COLUMNS if c in names)
    current = dt.metadata().configuration
    if any(current.get(k) != v for k, v in wanted.items()):
        dt.alter.set_table_properties(wanted)
        dt = _table(settings, table)
    removed = dt.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False)
    dt.create_checkpoint()
    dt.cleanup_metadata()
    return list(removed)
