"""Catalog tables of preservation (created by Alembic revision ``0004_holds``).

``holds``: what an administrator preserved, why and for which case; retention never deletes what
an active hold selects. ``preserved_objects``: each evidence object copied for a hold, with its
hashes (the chain of custody). ``field_interview_reports``: who read preserved data older than a
year, and why (PP-9126 C.5).
"""

from __future__ import annotations

import sqlalchemy as sa

from pipelines.storage.catalog import metadata

__all__ = ["field_interview_reports", "holds", "preserved_objects"]

_TS = sa.DateTime(timezone=True)

holds = sa.Table(
    "holds",
    metadata,
    sa.Column("hold_id", sa.String(40), primary_key=True),
    # sha256 of case, basis and selection: the same request again finds its active hold
    sa.Column("request_key", sa.String(64), nullable=False),
    sa.Column("case_number", sa.String(64), nullable=False),
    sa.Column("requester", sa.String(128), nullable=False),
    sa.Column("legal_basis", sa.String(48), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("selection", sa.Text, nullable=False),  # canonical JSON (Selection.to_json)
    sa.Column("placed_at", _TS, nullable=False),
    sa.Column("placed_by", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # copying | preserved
    sa.Column("evidence_bucket", sa.String(63), nullable=False),
    sa.Column("evidence_prefix", sa.String(512), nullable=False),
    sa.Column("retain_until", _TS, nullable=False),
    sa.Column("released_at", _TS),
    sa.Column("released_by", sa.String(64)),
    sa.Column("release_reason", sa.Text),
    sa.Index("ix_holds_request_key", "request_key"),
)

preserved_objects = sa.Table(
    "preserved_objects",
    metadata,
    sa.Column("hold_id", sa.String(40), sa.ForeignKey("holds.hold_id"), primary_key=True),
    sa.Column("evidence_key", sa.String(1024), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # image | sidecar | crop | reads
    sa.Column("source", sa.String(1200), nullable=False),  # s3://bucket/key (or table:<name>)
    sa.Column("source_etag", sa.String(80)),
    sa.Column("image_id", sa.String(40)),
    sa.Column("read_id", sa.String(64)),
    sa.Column("camera_id", sa.String(64)),
    sa.Column("captured_at", _TS),
    sa.Column("sha256", sa.String(64), nullable=False),  # of the bytes read from the source
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("version_id", sa.String(128)),  # of the locked evidence object
    sa.Column("copied_at", _TS, nullable=False),
    sa.Column("verified_sha256", sa.String(64), nullable=False),  # read back from evidence
)

field_interview_reports = sa.Table(
    "field_interview_reports",
    metadata,
    sa.Column("report_id", sa.String(40), primary_key=True),
    sa.Column("hold_id", sa.String(40), sa.ForeignKey("holds.hold_id"), nullable=False),
    sa.Column("person", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("legal_basis", sa.String(48), nullable=False),
    sa.Column("filed_at", _TS, nullable=False),
    sa.Index("ix_field_interview_reports_hold", "hold_id", "person"),
)
