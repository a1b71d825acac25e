"""Object ledger, ingest runs and partition marks.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "ingest_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bucket", sa.String(63), nullable=False),
        sa.Column("prefix", sa.String(1024), nullable=False),
        sa.Column("listed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("ingested", sa.Integer, nullable=False, server_default="0"),
        sa.Column("quarantined", sa.Integer, nullable=False, server_default="0"),
        sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "camera_objects",
        sa.Column("image_id", sa.String(40), primary_key=True),
        sa.Column("bucket", sa.String(63), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("detail", sa.Text),
        sa.Column("image_format", sa.String(8)),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("camera_id", sa.String(64)),
        sa.Column("captured_at", sa.DateTime(timezone=True)),
        sa.Column("capture_time_source", sa.String(8)),
        sa.Column("capture_date", sa.Date),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("heading", sa.Float),
        sa.Column("lane", sa.Integer),
        sa.Column("sidecar_key", sa.String(1024)),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("bucket", "key", "etag", name="uq_camera_objects_source"),
    )
    op.create_index("ix_camera_objects_capture_date", "camera_objects", ["capture_date", "status"])
    op.create_index("ix_camera_objects_bucket_key", "camera_objects", ["bucket", "key"])
    op.create_table(
        "partition_marks",
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("capture_date", sa.Date, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("partition_marks")
    op.drop_index("ix_camera_objects_bucket_key", table_name="camera_objects")
    op.drop_index("ix_camera_objects_capture_date", table_name="camera_objects")
    op.drop_table("camera_objects")
    op.drop_table("ingest_runs")
