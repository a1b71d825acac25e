"""Delta Lake tables in the object store, partitioned by ``capture_date`` (UTC).

A write replaces exactly one partition, so writing the same partition twice leaves the table as
after the first write: re-runs never duplicate rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import date

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError

from pipelines.config import Settings
from pipelines.storage.lake import LakeTable
from pipelines.storage.objects import bucket_exists, delta_storage_options, ensure_bucket

__all__ = ["arrow_schema", "conform", "scan_table", "table_exists", "write_partition_batches"]

# The Delta writer holds a whole data file in memory until it uploads it: capping the file size
# (and the row group) keeps a partition write's memory flat however many rows the day has.
_TARGET_FILE_BYTES = 16 * 2**20
_ROW_GROUP_ROWS = 16_384


def conform(frame: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """Select and cast ``frame`` to ``schema``; naive datetimes are taken as UTC."""
    exprs = []
    for name, dtype in schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            current = frame.schema[name]
            if isinstance(current, pl.Datetime) and current.time_zone is None:
                col = col.dt.replace_time_zone("UTC")
        exprs.append(col.cast(dtype).alias(name))
    return frame.select(exprs)


def table_exists(settings: Settings, table: LakeTable) -> bool:
    """Whether ``table`` has been written; False too before the lake bucket exists (a fresh
    install), where delta-rs would raise."""
    if not bucket_exists(settings.s3, settings.s3.lake_bucket):
        return False
    return DeltaTable.is_deltatable(
        table.uri(settings.s3), storage_options=delta_storage_options(settings.s3)
    )


def arrow_schema(schema: pl.Schema) -> pa.Schema:
    """The Arrow schema that frames of ``schema`` are written with."""
    return pl.DataFrame(schema=schema).to_arrow().schema


def write_partition_batches(
    settings: Settings, table: LakeTable, day: date, batches: Iterable[pl.DataFrame]
) -> int:
    """Replace partition ``day`` of ``table`` by the rows of ``batches``, streamed: memory holds
    one batch, whatever the partition's size. Every batch must have the table's schema."""
    target = arrow_schema(table.schema)
    rows = 0

    def arrow_batches() -> Iterator[pa.RecordBatch]:
        nonlocal rows
        for batch in batches:
            if batch.height and batch.get_column(table.partition_column).ne(day).any():
                raise ValueError(
                    f"rows outside partition {day} given to write_partition_batches({table.name!r})"
                )
            rows += batch.height
            yield from batch.to_arrow().cast(target).to_batches()

    stream = arrow_batches()
    first = next(stream, None)
    if first is None and not table_exists(settings, table):
        return 0  # nothing to replace and nothing to create
    ensure_bucket(settings.s3, settings.s3.lake_bucket)
    leading = [first] if first is not None else []
    write_deltalake(
        table.uri(settings.s3),
        pa.RecordBatchReader.from_batches(target, itertools.chain(leading, stream)),
        mode="overwrite",
        partition_by=[table.partition_column],
        predicate=f"{table.partition_column} = '{day.isoformat()}'",
        storage_options=delta_storage_options(settings.s3),
        target_file_size=_TARGET_FILE_BYTES,
        writer_properties=WriterProperties(max_row_group_size=_ROW_GROUP_ROWS),
    )
    return rows


def scan_table(settings: Settings, table: LakeTable, day: date | None = None) -> pl.LazyFrame:
    """A lazy scan of ``table``, optionally of one partition; empty-handed tables raise."""
    try:
        scan = pl.scan_delta(
            table.uri(settings.s3), storage_options=delta_storage_options(settings.s3)
        )
    except TableNotFoundError as exc:
        raise FileNotFoundError(f"Delta table {table.name!r} does not exist yet") from exc
    if day is not None:
        scan = scan.filter(pl.col(table.partition_column) == day)
    return scan
