"""Catalog tables of retention (created by Alembic revision ``0004_holds``)."""

from __future__ import annotations

import sqlalchemy as sa

from pipelines.storage.catalog import metadata

__all__ = ["object_deletions", "retention_runs"]

_TS = sa.DateTime(timezone=True)

# One row per pass; a run killed mid-way stays "running" and the next pass completes its work.
retention_runs = sa.Table(
    "retention_runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("as_of", _TS, nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # running | succeeded
    sa.Column("started_at", _TS, nullable=False),
    sa.Column("finished_at", _TS),
    sa.Column("summary", sa.Text),  # JSON counts per data class (never plate text)
)

# When a ledger row's object was deleted. The ledger row itself keeps only bucket, key and ETag
# (status "deleted"), which is what stops the object being registered again.
object_deletions = sa.Table(
    "object_deletions",
    metadata,
    sa.Column("image_id", sa.String(40), primary_key=True),
    sa.Column("deleted_at", _TS, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=False),
)
