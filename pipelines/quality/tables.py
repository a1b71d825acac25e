"""Catalog tables of data quality (created by Alembic revision ``0005_quality``).

``quality_verdicts``: the latest verdict of each validated batch; a step refuses a batch whose
suite failed (``pipelines.quality.gate``).

``quality_flags``: each row of a validated batch that failed a row-level expectation, by its key;
the row itself stays where it was written. Re-validating a batch replaces its flags.
"""

from __future__ import annotations

import sqlalchemy as sa

from pipelines.storage.catalog import metadata

__all__ = ["quality_flags", "quality_verdicts"]

quality_flags = sa.Table(
    "quality_flags",
    metadata,
    sa.Column("suite", sa.String(64), primary_key=True),
    sa.Column("batch", sa.String(160), primary_key=True),  # capture date, list@version
    sa.Column("row_id", sa.String(64), primary_key=True),  # the table's key column
    sa.Column("check_name", sa.String(96), primary_key=True),  # the expectation's name
    sa.Column("capture_date", sa.Date, index=True),  # retention deletes flags with their day
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
)

quality_verdicts = sa.Table(
    "quality_verdicts",
    metadata,
    sa.Column("suite", sa.String(64), primary_key=True),
    sa.Column("batch", sa.String(160), primary_key=True),
    sa.Column("passed", sa.Boolean, nullable=False),  # no critical expectation failed
    sa.Column("blocking", sa.Text, nullable=False),  # JSON list of failed critical expectations
    sa.Column("warnings", sa.Text, nullable=False),  # JSON list of failed warnings
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("flagged_rows", sa.Integer, nullable=False),
    sa.Column("capture_date", sa.Date),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
)
