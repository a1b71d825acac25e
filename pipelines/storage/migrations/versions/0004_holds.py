"""Holds, preserved evidence objects, field interview reports; retention runs and deletions.

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "holds",
        sa.Column("hold_id", sa.String(40), primary_key=True),
        sa.Column("request_key", sa.String(64), nullable=False),
        sa.Column("case_number", sa.String(64), nullable=False),
        sa.Column("requester", sa.String(128), nullable=False),
        sa.Column("legal_basis", sa.String(48), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("selection", sa.Text, nullable=False),
        sa.Column("placed_at", _TS, nullable=False),
        sa.Column("placed_by", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("evidence_bucket", sa.String(63), nullable=False),
        sa.Column("evidence_prefix", sa.String(512), nullable=False),
        sa.Column("retain_until", _TS, nullable=False),
        sa.Column("released_at", _TS),
        sa.Column("released_by", sa.String(64)),
        sa.Column("release_reason", sa.Text),
    )
    op.create_index("ix_holds_request_key", "holds", ["request_key"])
    op.create_table(
        "preserved_objects",
        sa.Column("hold_id", sa.String(40), sa.ForeignKey("holds.hold_id"), primary_key=True),
        sa.Column("evidence_key", sa.String(1024), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("source", sa.String(1200), nullable=False),
        sa.Column("source_etag", sa.String(80)),
        sa.Column("image_id", sa.String(40)),
        sa.Column("read_id", sa.String(64)),
        sa.Column("camera_id", sa.String(64)),
        sa.Column("captured_at", _TS),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("version_id", sa.String(128)),
        sa.Column("copied_at", _TS, nullable=False),
        sa.Column("verified_sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "field_interview_reports",
        sa.Column("report_id", sa.String(40), primary_key=True),
        sa.Column("hold_id", sa.String(40), sa.ForeignKey("holds.hold_id"), nullable=False),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("legal_basis", sa.String(48), nullable=False),
        sa.Column("filed_at", _TS, nullable=False),
    )
    op.create_index(
        "ix_field_interview_reports_hold", "field_interview_reports", ["hold_id", "person"]
    )
    op.create_table(
        "retention_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("as_of", _TS, nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", _TS, nullable=False),
        sa.Column("finished_at", _TS),
        sa.Column("summary", sa.Text),
    )
    op.create_table(
        "object_deletions",
        sa.Column("image_id", sa.String(40), primary_key=True),
        sa.Column("deleted_at", _TS, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("object_deletions")
    op.drop_table("retention_runs")
    op.drop_index("ix_field_interview_reports_hold", table_name="field_interview_reports")
    op.drop_table("field_interview_reports")
    op.drop_table("preserved_objects")
    op.drop_index("ix_holds_request_key", table_name="holds")
    op.drop_table("holds")
