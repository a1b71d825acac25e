"""The relational catalog: the object ledger, runs and partition marks (SQLAlchemy 2 Core).

The ledger is what makes ingestion exactly-once: ``(bucket, key, etag)`` is unique, so an object
is registered once whatever crashes in between. SQLite by default, PostgreSQL by URL; the schema is
created and upgraded by the Alembic migrations next to this module, never by ``create_all``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.log import InstanceLogger  # what an engine logs through when echo is on

from pipelines.errors import StorageError

__all__ = [
    "camera_objects",
    "clear_partition_mark",
    "engine_for",
    "ingest_runs",
    "insert_new",
    "mark_partitions",
    "metadata",
    "partition_marks",
    "pending_partitions",
    "upgrade_catalog",
]

metadata = sa.MetaData()

ingest_runs = sa.Table(
    "ingest_runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),  # running | succeeded | failed
    sa.Column("bucket", sa.String(63), nullable=False),
    sa.Column("prefix", sa.String(1024), nullable=False),
    sa.Column("listed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ingested", sa.Integer, nullable=False, server_default="0"),
    sa.Column("quarantined", sa.Integer, nullable=False, server_default="0"),
    sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
)

# One row per source object ever seen: ingested with its facts, or quarantined with a reason.
camera_objects = sa.Table(
    "camera_objects",
    metadata,
    sa.Column("image_id", sa.String(40), primary_key=True),
    sa.Column("bucket", sa.String(63), nullable=False),
    sa.Column("key", sa.String(1024), nullable=False),
    sa.Column("etag", sa.String(80), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),  # ingested | quarantined
    sa.Column("reason", sa.String(32)),
    sa.Column("detail", sa.Text),
    sa.Column("image_format", sa.String(8)),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("camera_id", sa.String(64)),
    sa.Column("captured_at", sa.DateTime(timezone=True)),
    sa.Column("capture_time_source", sa.String(8)),  # sidecar | key | exif
    sa.Column("capture_date", sa.Date),
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
    sa.Column("heading", sa.Float),
    sa.Column("lane", sa.Integer),
    sa.Column("sidecar_key", sa.String(1024)),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("bucket", "key", "etag", name="uq_camera_objects_source"),
    sa.Index("ix_camera_objects_capture_date", "capture_date", "status"),
    sa.Index("ix_camera_objects_bucket_key", "bucket", "key"),
)

# Table partitions whose source rows changed since they were last written. The generation makes
# clearing safe against a registration that lands while the partition is being written.
partition_marks = sa.Table(
    "partition_marks",
    metadata,
    sa.Column("table_name", sa.String(64), primary_key=True),
    sa.Column("capture_date", sa.Date, primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
)

_MIGRATIONS = Path(__file__).with_name("migrations")


class _NoRows(logging.Filter):
    """Drops SQLAlchemy's DEBUG record of each row fetched (``Row %r``): catalog rows hold plate
    texts, reasons and coordinates, which never go to a log (tests/test_log_scan.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Row %r"


_NO_ROWS = _NoRows()


@cache
def engine_for(url: str) -> sa.Engine:
    """One pooled engine per catalog URL for the whole process. Statement parameters are kept
    out of SQLAlchemy's log and of its error messages (``hide_parameters``), fetched rows out of
    its DEBUG log: both carry plate texts, reasons and coordinates."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
    else:
        engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)
    logger = engine.logger.logger if isinstance(engine.logger, InstanceLogger) else engine.logger
    if _NO_ROWS not in logger.filters:
        logger.addFilter(_NO_ROWS)
    return engine


def upgrade_catalog(url: str) -> None:
    """Bring the catalog schema to the newest Alembic revision (idempotent)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    try:
        with engine_for(url).begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")  # every branch: domains add revisions of their own
    except sa.exc.OperationalError as exc:
        raise StorageError(f"catalog database at {_safe(url)} is unreachable: {exc.orig}") from exc


def _safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def insert_new(
    conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
) -> list[Any]:
    """Insert rows, skipping those whose unique keys exist already.

    Returns the first primary-key column of the rows actually inserted, so callers know exactly
    which rows are theirs even when another run inserted the rest concurrently.
    """
    if not rows:
        return []
    dialect = conn.dialect.name
    if dialect == "postgresql":
        insert: Any = postgresql.insert
    elif dialect == "sqlite":
        insert = sqlite.insert
    else:  # pragma: no cover - only the two supported databases are tested
        raise StorageError(f"catalog dialect {dialect!r} is not supported (postgresql, sqlite)")
    key = next(iter(table.primary_key.columns))
    # executemany ("insertmanyvalues" batches): about 3x cheaper than compiling one VALUES clause
    stmt = insert(table).on_conflict_do_nothing().returning(key)
    return [row[0] for row in conn.execute(stmt, list(rows))]


def mark_partitions(
    conn: sa.Connection, table_name: str, dates: Iterable[date], now: datetime
) -> None:
    """Note that ``table_name``'s partitions for ``dates`` must be (re)written."""
    for day in sorted(set(dates)):
        updated = conn.execute(
            partition_marks.update()
            .where(
                partition_marks.c.table_name == table_name, partition_marks.c.capture_date == day
            )
            .values(generation=partition_marks.c.generation + 1, marked_at=now)
        ).rowcount
        if not updated:
            insert_new(
                conn,
                partition_marks,
                [
                    {
                        "table_name": table_name,
                        "capture_date": day,
                        "generation": 1,
                        "marked_at": now,
                    }
                ],
            )


def pending_partitions(conn: sa.Connection, table_name: str) -> dict[date, int]:
    """Partitions of ``table_name`` waiting to be written, with their generation."""
    rows = conn.execute(
        sa.select(partition_marks.c.capture_date, partition_marks.c.generation)
        .where(partition_marks.c.table_name == table_name)
        .order_by(partition_marks.c.capture_date)
    )
    return {row.capture_date: row.generation for row in rows}


def clear_partition_mark(conn: sa.Connection, table_name: str, day: date, generation: int) -> None:
    """Clear a mark, unless a newer registration bumped its generation in the meantime."""
    conn.execute(
        partition_marks.delete().where(
            partition_marks.c.table_name == table_name,
            partition_marks.c.capture_date == day,
            partition_marks.c.generation == generation,
        )
    )
