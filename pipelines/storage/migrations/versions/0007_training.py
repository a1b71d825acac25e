"""Training records of users and the designated ALPR administrator (PP-9126 B.3, B.5, B.7).

Revision ID: 0007
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0003"

_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OPEN = "uq_administrator_designations_open"


def upgrade() -> None:
    op.create_table(
        "user_training",
        sa.Column("training_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("course", sa.String(32), nullable=False),
        sa.Column("completed_on", sa.Date, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
    )
    op.create_index("ix_user_training_user_course", "user_training", ["user_name", "course"])
    op.create_table(
        "administrator_designations",
        sa.Column("designation_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name"), nullable=False),
        sa.Column("designated_by", sa.String(128), nullable=False),
        sa.Column("designated_at", _TS, nullable=False),
        sa.Column("ended_at", _TS),
        sa.Column("ended_by", sa.String(128)),
    )
    # At most one open designation: the indexed value is the same for every open row.
    op.execute(
        f"CREATE UNIQUE INDEX {_OPEN} ON administrator_designations ((ended_at IS NULL)) "
        "WHERE ended_at IS NULL"
    )


def downgrade() -> None:
    op.drop_table("administrator_designations")  # its index goes with it
    op.drop_table("user_training")
