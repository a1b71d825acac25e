"""The plate index: what a plate search returns, clustered by the look-alike fold of the plate.

``reads`` has a partition a day, so a plate searched over a year opens 365 files of ``reads``
(and of ``images`` for the places): 2.2 to 12 s on 10 M reads (docs/benchmarks.md, Search). The
index (``PLATE_INDEX``, ``search/plate_index``) holds the same result columns for every read with
a plate text, its image's bucket, key and place joined, sorted by ``plate_key`` (the fold of
``pipelines/matching/_keys.py``) in one partition a month: a plate search opens a file a month,
and Parquet's row-group statistics of ``plate_key`` leave one row group of it to read.

The index is derived data and never trusted blindly. Each indexed day has a coverage row
(``plate_key`` "", ``source`` the digest of the ``reads`` and ``images`` files of the day it was
made from). A search takes a day from the index only while those files are still the day's
files, and reads ``reads`` for every other day (not indexed yet, re-recognized, rewritten by
retention), so its results are those of a scan of ``reads`` whatever the index's state. Reads
without a plate text are not indexed: no plate criterion matches them.

What the index serves: an exact plate (``plate_key`` equal to the query's fold) and a partial
plate whose first characters are literal (``B0S1*``: the keys between the folded prefix and its
successor). A partial plate that starts with a wildcard (``*123``) reads every row group of the
index, still a file a month instead of a day. Searches without a plate never use it.

Written by recognition for each day it writes (``index_days``), removed by retention with the day
(``drop_days``); a day's rows replace that day's rows of its month, and a month rewritten by two
writers at once is retried (Delta refuses the second commit).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
import pyarrow as pa
from deltalake import DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, TableNotFoundError

from pipelines.config import Settings
from pipelines.matching._keys import lookalike_key, lookalike_key_expr
from pipelines.search.criteria import WILDCARDS, Criteria
from pipelines.storage.lake import IMAGES, PARTITION_COLUMN, PLATE_INDEX, READS, LakeTable
from pipelines.storage.objects import delta_storage_options, ensure_bucket
from pipelines.storage.tables import arrow_schema, table_exists

__all__ = [
    "COVERAGE_KEY",
    "Indexed",
    "day_sources",
    "drop_days",
    "index_days",
    "index_month",
    "lookup",
    "open_table",
]

COVERAGE_KEY = ""  # plate_key of a day's coverage row (no indexed read has an empty plate)
MONTH = PLATE_INDEX.partition_column
# Columns copied from each read and its image (all of the index but its own three).
ROW_COLUMNS = tuple(c for c in PLATE_INDEX.schema if c not in ("plate_key", "source", MONTH))
# The unit that plate_key's statistics let a search skip: a plate search reads one of them a
# month (about 0.5 MB compressed of 10 M reads a year), and the coverage rows' columns of another.
_ROW_GROUP_ROWS = 4_096
_TARGET_FILE_BYTES = 256 * 2**20  # a month in one file: a year is 12 objects to open
_ATTEMPTS = 5  # commits of a month lost to a concurrent writer, retried with fresh reads


def index_month(day: date) -> date:
    """The partition of ``day``: the first day of its month."""
    return day.replace(day=1)


def open_table(settings: Settings, table: LakeTable) -> DeltaTable | None:
    """``table``'s Delta table at its latest version, or None before it is written (one load of
    its log, no existence check first: a search pays for each round trip)."""
    try:
        return DeltaTable(
            table.uri(settings.s3), storage_options=delta_storage_options(settings.s3)
        )
    except TableNotFoundError:
        return None
    except OSError:  # delta-rs before the lake bucket exists (a fresh install); else a failure
        if not table_exists(settings, table):
            return None
        raise


def _scan(settings: Settings, table: DeltaTable) -> pl.LazyFrame:
    return pl.scan_delta(table, storage_options=delta_storage_options(settings.s3))


def day_sources(reads: DeltaTable | None, images: DeltaTable | None) -> dict[date, str]:
    """Per capture date of ``reads``: a digest of the ``reads`` and ``images`` files it holds now.

    Every write of a partition adds files of new names, so a day re-recognized, re-ingested or
    rewritten by retention gets a new digest."""
    files: dict[date, list[str]] = defaultdict(list)
    for name, table in (("reads", reads), ("images", images)):
        if table is None:
            continue
        actions = pl.DataFrame(pa.table(table.get_add_actions(flatten=True)))
        column = f"partition.{PARTITION_COLUMN}"
        if not actions.height or column not in actions.columns:
            continue
        days = actions.get_column(column).cast(pl.Date)
        for day, path in zip(days.to_list(), actions.get_column("path").to_list(), strict=True):
            files[day].append(f"{name}/{path}")
    in_reads = {k for k, paths in files.items() if any(p.startswith("reads/") for p in paths)}
    return {
        day: hashlib.sha256("\n".join(sorted(files[day])).encode()).hexdigest()[:32]
        for day in in_reads
    }


def _day_rows(
    settings: Settings,
    reads: DeltaTable,
    images: DeltaTable | None,
    days: list[date],
    month: date,
) -> pl.LazyFrame:
    """The index rows of ``days`` (one month) from ``reads`` and ``images`` at their versions."""
    of_days = pl.col(PARTITION_COLUMN).is_in(days)
    rows = (
        _scan(settings, reads)
        .filter(of_days, pl.col("plate_text").is_not_null(), pl.col("plate_text") != "")
        .select(c for c in ROW_COLUMNS if c in READS.schema)
    )
    if images is None:
        place = pl.LazyFrame(schema={"image_id": pl.String})
    else:
        place = (
            _scan(settings, images)
            .filter(of_days)
            .select(
                "image_id",
                image_bucket="bucket",
                image_key="key",
                latitude="latitude",
                longitude="longitude",
                heading="heading",
            )
            .unique("image_id")
        )
    return (
        rows.join(place, on="image_id", how="left")
        .with_columns(
            plate_key=lookalike_key_expr("plate_text"),
            source=pl.lit(None, pl.String),
            **{MONTH: pl.lit(month, pl.Date)},
        )
        .with_columns(pl.lit(None, dtype).alias(c) for c, dtype in _missing(place))
        .select(PLATE_INDEX.schema.names())
        .cast(PLATE_INDEX.schema)
    )


def _missing(place: pl.LazyFrame) -> list[tuple[str, pl.DataType]]:
    have = place.collect_schema().names()
    return [
        (c, PLATE_INDEX.schema[c]) for c in ROW_COLUMNS if c not in READS.schema and c not in have
    ]


def _coverage(sources: dict[date, str], days: list[date], month: date) -> pl.DataFrame:
    covered = [d for d in days if d in sources]
    return pl.DataFrame(
        {
            "plate_key": [COVERAGE_KEY] * len(covered),
            PARTITION_COLUMN: covered,
            "source": [sources[d] for d in covered],
            MONTH: [month] * len(covered),
        },
        schema={
            "plate_key": pl.String,
            PARTITION_COLUMN: pl.Date,
            "source": pl.String,
            MONTH: pl.Date,
        },
    )


def _by_month(days: Iterable[date]) -> dict[date, list[date]]:
    months: dict[date, list[date]] = defaultdict(list)
    for day in sorted(set(days)):
        months[index_month(day)].append(day)
    return months


def _rewrite(settings: Settings, month: date, frame: pl.DataFrame) -> None:
    """Replace partition ``month`` of the index by ``frame``, sorted by plate key."""
    ensure_bucket(settings.s3, settings.s3.lake_bucket)
    ordered = frame.sort("plate_key", "captured_at", "read_id", nulls_last=False)
    write_deltalake(
        PLATE_INDEX.uri(settings.s3),
        ordered.to_arrow().cast(arrow_schema(PLATE_INDEX.schema)),
        mode="overwrite",
        partition_by=[MONTH],
        predicate=f"{MONTH} = '{month.isoformat()}'",
        storage_options=delta_storage_options(settings.s3),
        target_file_size=_TARGET_FILE_BYTES,
        writer_properties=WriterProperties(max_row_group_size=_ROW_GROUP_ROWS, compression="ZSTD"),
    )


def _others(settings: Settings, month: date, days: list[date]) -> pl.DataFrame:
    """The index rows of ``month`` outside ``days``, as the index holds them now."""
    index = open_table(settings, PLATE_INDEX)
    if index is None:
        return pl.DataFrame(schema=PLATE_INDEX.schema)
    return (
        _scan(settings, index)
        .filter(pl.col(MONTH) == month, ~pl.col(PARTITION_COLUMN).is_in(days))
        .select(PLATE_INDEX.schema.names())
        .collect()
    )


def index_days(settings: Settings, days: Iterable[date]) -> int:
    """(Re)write the index rows of ``days`` from ``reads`` and ``images`` as they are now; returns
    the reads indexed. A day without reads leaves no rows (and none of an earlier index)."""
    indexed = 0
    for month, of_month in _by_month(days).items():
        for attempt in range(_ATTEMPTS):
            reads = open_table(settings, READS)
            if reads is None:
                return indexed
            images = open_table(settings, IMAGES)
            sources = day_sources(reads, images)
            rows = _day_rows(settings, reads, images, of_month, month).collect()
            frame = pl.concat(
                [_others(settings, month, of_month), rows, _coverage(sources, of_month, month)],
                how="diagonal_relaxed",
            ).select(PLATE_INDEX.schema.names())
            try:
                _rewrite(settings, month, frame.cast(PLATE_INDEX.schema))
            except CommitFailedError:
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            indexed += rows.height
            break
    return indexed


def drop_days(settings: Settings, days: Iterable[date], *, dry_run: bool) -> int:
    """Remove the index rows of ``days`` (their coverage rows too: a search then reads those
    days in ``reads``); returns the reads' rows removed (or, with ``dry_run``, to remove)."""
    removed = 0
    for month, of_month in _by_month(days).items():
        for attempt in range(_ATTEMPTS):
            index = open_table(settings, PLATE_INDEX)
            if index is None:
                return removed
            month_rows = _scan(settings, index).filter(pl.col(MONTH) == month)
            doomed = month_rows.filter(pl.col(PARTITION_COLUMN).is_in(of_month))
            counts = doomed.select(
                rows=pl.len(), reads=(pl.col("plate_key") != COVERAGE_KEY).sum()
            ).collect()
            if dry_run or not counts["rows"].item():
                removed += int(counts["reads"].item())
                break
            kept = month_rows.filter(~pl.col(PARTITION_COLUMN).is_in(of_month)).collect()
            try:
                if kept.height:
                    _rewrite(settings, month, kept)
                else:
                    index.delete(f"{MONTH} = '{month.isoformat()}'")
            except CommitFailedError:
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            removed += int(counts["reads"].item())
            break
    return removed


@dataclass(frozen=True)
class Indexed:
    rows: pl.DataFrame  # every indexed read of ``covered`` that matches (the index's columns)
    covered: frozenset[date]  # days answered by the index; the others are read in ``reads``


def _key_range(query: str) -> pl.Expr:
    """A predicate on ``plate_key`` that every read matching ``query`` satisfies (for the
    row-group statistics): the fold of an exact plate, or the keys of a literal prefix."""
    key = pl.col("plate_key")
    if not any(w in query for w in WILDCARDS):
        return key == lookalike_key(query)
    cut = min(query.index(w) for w in WILDCARDS if w in query)
    prefix = lookalike_key(query[:cut])
    if not prefix:
        return key != COVERAGE_KEY
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (key >= prefix) & (key < upper)


def lookup(
    settings: Settings,
    criteria: Criteria,
    reads: DeltaTable,
    images: DeltaTable | None,
) -> Indexed | None:
    """The reads matching ``criteria`` (a plate criterion among them) on the days that the index
    holds as ``reads`` and ``images`` hold them now; None without an index."""
    index = open_table(settings, PLATE_INDEX)
    if index is None or not criteria.plate:
        return None
    months: list[pl.Expr] = []
    days: list[pl.Expr] = []
    if criteria.start is not None and criteria.end is not None:
        last = criteria.end - timedelta(microseconds=1)
        months.append(pl.col(MONTH).is_between(index_month(criteria.start.date()), last.date()))
        days.append(pl.col(PARTITION_COLUMN).is_between(criteria.start.date(), last.date()))
    scan = _scan(settings, index)
    # two reads of the month files: the coverage rows' three columns (the first row group), and
    # the row groups of the plate's keys
    coverage = (
        scan.filter(pl.col("plate_key") == COVERAGE_KEY, *months, *days)
        .select(PARTITION_COLUMN, "source")
        .collect()
    )
    found = (
        scan.filter(_key_range(criteria.plate), *months, *criteria.filters())
        .filter(pl.col("plate_key") != COVERAGE_KEY)
        .collect()
    )
    current = day_sources(reads, images)
    once = coverage.group_by(PARTITION_COLUMN).agg(pl.len(), pl.col("source").first())
    covered = frozenset(
        day
        for day, count, source in once.select(PARTITION_COLUMN, "len", "source").iter_rows()
        if count == 1 and current.get(day) == source
    )
    rows = found.filter(pl.col(PARTITION_COLUMN).is_in(list(covered)))
    return Indexed(rows.unique("read_id", keep="first", maintain_order=True), covered)
