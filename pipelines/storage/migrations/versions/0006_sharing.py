"""Sharing with other agencies (PP-9126 C.6): agreements (MOUs) and the exports made under them.

Revision ID: 0006
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"

_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sharing_agreements",
        sa.Column("mou_id", sa.String(64), primary_key=True),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(200), nullable=False),
        sa.Column("purposes", sa.Text, nullable=False),
        sa.Column("valid_from", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("non_governmental", sa.Boolean, nullable=False),
        sa.Column("retention_terms", sa.Text),
        sa.Column("registered_at", _TS, nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("revoked_at", _TS),
        sa.Column("revoked_by", sa.String(64)),
        sa.Column("revoke_reason", sa.Text),
    )
    op.create_table(
        "sharing_exports",
        sa.Column("export_id", sa.String(40), primary_key=True),
        sa.Column(
            "mou_id",
            sa.String(64),
            sa.ForeignKey("sharing_agreements.mou_id"),
            nullable=False,
        ),
        sa.Column("exported_at", _TS, nullable=False),
        sa.Column("exported_by", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("case_number", sa.String(64), nullable=False),
        sa.Column("criteria", sa.Text, nullable=False),
        sa.Column("reads", sa.Integer, nullable=False),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("destination", sa.String(1024), nullable=False),
        sa.Column("event_id", _ID, nullable=False),
    )
    op.create_index("ix_sharing_exports_mou", "sharing_exports", ["mou_id", "exported_at"])


def downgrade() -> None:
    op.drop_index("ix_sharing_exports_mou", table_name="sharing_exports")
    op.drop_table("sharing_exports")
    op.drop_table("sharing_agreements")
