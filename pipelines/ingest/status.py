"""What ingestion has done so far, from the ledger: counts by outcome and reason, latest runs."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from pipelines.config import Settings
from pipelines.storage.catalog import camera_objects, engine_for, ingest_runs, upgrade_catalog

__all__ = ["ingest_counts", "recent_runs"]


def ingest_counts(settings: Settings) -> pl.DataFrame:
    """Objects and bytes per bucket, status and quarantine reason."""
    upgrade_catalog(settings.catalog_url)
    query = (
        sa.select(
            camera_objects.c.bucket,
            camera_objects.c.status,
            sa.func.coalesce(camera_objects.c.reason, "").label("reason"),
            sa.func.count().label("objects"),
            sa.func.coalesce(sa.func.sum(camera_objects.c.size_bytes), 0).label("bytes"),
        )
        .group_by(camera_objects.c.bucket, camera_objects.c.status, camera_objects.c.reason)
        .order_by(camera_objects.c.bucket, camera_objects.c.status, "reason")
    )
    with engine_for(settings.catalog_url).connect() as conn:
        frame = pl.read_database(query, conn)
    return frame.with_columns(pl.col("objects", "bytes").cast(pl.Int64))


def recent_runs(settings: Settings, limit: int = 5) -> pl.DataFrame:
    upgrade_catalog(settings.catalog_url)
    query = sa.select(ingest_runs).order_by(ingest_runs.c.started_at.desc()).limit(limit)
    with engine_for(settings.catalog_url).connect() as conn:
        return pl.read_database(query, conn)
