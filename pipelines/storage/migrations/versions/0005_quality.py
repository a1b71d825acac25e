"""Data quality: each batch's verdict, and the rows that failed a row-level expectation.

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "quality_flags",
        sa.Column("suite", sa.String(64), primary_key=True),
        sa.Column("batch", sa.String(160), primary_key=True),
        sa.Column("row_id", sa.String(64), primary_key=True),
        sa.Column("check_name", sa.String(96), primary_key=True),
        sa.Column("capture_date", sa.Date),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_quality_flags_capture_date", "quality_flags", ["capture_date"])
    op.create_table(
        "quality_verdicts",
        sa.Column("suite", sa.String(64), primary_key=True),
        sa.Column("batch", sa.String(160), primary_key=True),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("blocking", sa.Text, nullable=False),
        sa.Column("warnings", sa.Text, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("flagged_rows", sa.Integer, nullable=False),
        sa.Column("capture_date", sa.Date),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("quality_verdicts")
    op.drop_table("quality_flags")
