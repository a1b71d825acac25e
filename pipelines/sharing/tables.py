"""Catalog tables of sharing (created by Alembic revision ``0006_sharing``).

``sharing_agreements``: the memorandums of understanding under which ALPR data may be shared with
another agency (PP-9126 C.6): who, for which criminal-justice purposes, from when until when, and,
for a non-governmental recipient, the retention terms it agreed to. ``sharing_exports``: each
export made under one, with the hashes of what it handed over.
"""

from __future__ import annotations

import sqlalchemy as sa

from pipelines.audit.tables import EVENT_ID
from pipelines.storage.catalog import metadata

__all__ = ["sharing_agreements", "sharing_exports"]

_TS = sa.DateTime(timezone=True)

sharing_agreements = sa.Table(
    "sharing_agreements",
    metadata,
    sa.Column("mou_id", sa.String(64), primary_key=True),
    sa.Column("agency", sa.String(200), nullable=False),
    sa.Column("contact", sa.String(200), nullable=False),
    sa.Column("purposes", sa.Text, nullable=False),  # JSON list, each one of sharing.purposes
    sa.Column("valid_from", _TS, nullable=False),
    sa.Column("expires_at", _TS, nullable=False),  # exclusive: no export from this moment on
    sa.Column("non_governmental", sa.Boolean, nullable=False),
    sa.Column("retention_terms", sa.Text),  # required of a non-governmental recipient
    sa.Column("registered_at", _TS, nullable=False),
    sa.Column("registered_by", sa.String(64), nullable=False),
    sa.Column("revoked_at", _TS),
    sa.Column("revoked_by", sa.String(64)),
    sa.Column("revoke_reason", sa.Text),
)

sharing_exports = sa.Table(
    "sharing_exports",
    metadata,
    sa.Column("export_id", sa.String(40), primary_key=True),
    sa.Column("mou_id", sa.String(64), sa.ForeignKey("sharing_agreements.mou_id"), nullable=False),
    sa.Column("exported_at", _TS, nullable=False),
    sa.Column("exported_by", sa.String(64), nullable=False),
    sa.Column("purpose", sa.String(64), nullable=False),  # the reason category
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("case_number", sa.String(64), nullable=False),  # "" where none was given
    sa.Column("criteria", sa.Text, nullable=False),  # canonical JSON (Criteria.as_audit)
    sa.Column("reads", sa.Integer, nullable=False),
    sa.Column("files", sa.Text, nullable=False),  # JSON {file name: sha256} of the bundle
    sa.Column("manifest_sha256", sa.String(64), nullable=False),
    sa.Column("destination", sa.String(1024), nullable=False),  # the bundle folder written
    sa.Column("event_id", EVENT_ID, nullable=False),  # its audit entry
    sa.Index("ix_sharing_exports_mou", "mou_id", "exported_at"),
)
