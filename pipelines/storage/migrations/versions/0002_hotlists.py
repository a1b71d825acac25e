"""Hotlists: lists, versions with their entries and diffs, identities, agency-local entries.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "hotlist_lists",
        sa.Column("list_name", sa.String(64), primary_key=True),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("match_strategy", sa.String(8), nullable=False),
        sa.Column("active_version", sa.Integer),
        sa.Column("activated_at", _TS),
        sa.Column("created_at", _TS, nullable=False),
    )
    op.create_table(
        "hotlist_versions",
        sa.Column("list_name", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("loaded_at", _TS, nullable=False),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("skipped_junk", sa.Integer, nullable=False),
        sa.Column("skipped_unsubscribed", sa.Integer, nullable=False),
        sa.Column("merged", sa.Integer, nullable=False),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.Column("force_reason", sa.Text),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("entries_pruned", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "hotlist_entries",
        sa.Column("list_name", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.String(32), primary_key=True),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("state", sa.String(2)),
        sa.Column("match_key", sa.String(16), nullable=False),
        sa.Column("list_code", sa.Text),
        sa.Column("entry_date", sa.String(8)),
        sa.Column("description", sa.Text),
        sa.Column("details", sa.Text),
        sa.Column("expires_at", _TS),
        sa.Column("content_hash", sa.String(32), nullable=False),
    )
    op.create_table(
        "hotlist_identities",
        sa.Column("entry_id", sa.String(32), primary_key=True),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("first_listed_at", _TS, nullable=False),
    )
    op.create_index("ix_hotlist_identities_list", "hotlist_identities", ["list_name"])
    op.create_table(
        "hotlist_changes",
        sa.Column("list_name", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("entry_id", sa.String(32), primary_key=True),
        sa.Column("change", sa.String(8), nullable=False),
    )
    op.create_table(
        "hotlist_local_entries",
        sa.Column("local_id", sa.String(32), primary_key=True),
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("state", sa.String(2)),
        sa.Column("match_key", sa.String(16), nullable=False),
        sa.Column("list_code", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("removed_at", _TS),
        sa.Column("removed_by", sa.String(64)),
    )
    op.create_index("ix_hotlist_local_entries_entry", "hotlist_local_entries", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_hotlist_local_entries_entry", table_name="hotlist_local_entries")
    op.drop_table("hotlist_local_entries")
    op.drop_table("hotlist_changes")
    op.drop_index("ix_hotlist_identities_list", table_name="hotlist_identities")
    op.drop_table("hotlist_identities")
    op.drop_table("hotlist_entries")
    op.drop_table("hotlist_versions")
    op.drop_table("hotlist_lists")
