"""Catalog tables of the hotlists domain (created by migration 0002, never by ``create_all``).

A list has versions; each version holds its full snapshot of entries, keyed by the entry id
(a stable hash of list, plate and state). ``hotlist_lists.active_version`` is the one pointer an
activation flips. ``hotlist_identities`` remembers when each identity was first listed, across
versions, for retro-matching; ``hotlist_changes`` is each version's diff against the one before.
"""

from __future__ import annotations

import sqlalchemy as sa

from pipelines.storage.catalog import metadata

__all__ = [
    "hotlist_changes",
    "hotlist_entries",
    "hotlist_identities",
    "hotlist_lists",
    "hotlist_local_entries",
    "hotlist_versions",
]

_TS = sa.DateTime(timezone=True)

hotlist_lists = sa.Table(
    "hotlist_lists",
    metadata,
    sa.Column("list_name", sa.String(64), primary_key=True),
    sa.Column("format", sa.String(8), nullable=False),  # ncic | ccic | csv
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("match_strategy", sa.String(8), nullable=False),  # exact | lenient
    sa.Column("active_version", sa.Integer),  # null until a first version is activated
    sa.Column("activated_at", _TS),
    sa.Column("created_at", _TS, nullable=False),
)

hotlist_versions = sa.Table(
    "hotlist_versions",
    metadata,
    sa.Column("list_name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("sha256", sa.String(64), nullable=False),  # of the source file's bytes
    sa.Column("source", sa.String(1024), nullable=False),  # file name, key or URL it came from
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

hotlist_entries = sa.Table(
    "hotlist_entries",
    metadata,
    sa.Column("list_name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("entry_id", sa.String(32), primary_key=True),
    sa.Column("plate", sa.String(16), nullable=False),
    sa.Column("state", sa.String(2)),
    sa.Column("match_key", sa.String(16), nullable=False),
    sa.Column("list_code", sa.Text),
    sa.Column("entry_date", sa.String(8)),
    sa.Column("description", sa.Text),
    sa.Column("details", sa.Text),  # JSON of the format's other fields
    sa.Column("expires_at", _TS),
    sa.Column("content_hash", sa.String(32), nullable=False),  # what "changed" compares
)

hotlist_identities = sa.Table(
    "hotlist_identities",
    metadata,
    sa.Column("entry_id", sa.String(32), primary_key=True),
    sa.Column("list_name", sa.String(64), nullable=False),
    sa.Column("first_listed_at", _TS, nullable=False),
    sa.Index("ix_hotlist_identities_list", "list_name"),
)

hotlist_changes = sa.Table(
    "hotlist_changes",
    metadata,
    sa.Column("list_name", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("entry_id", sa.String(32), primary_key=True),
    sa.Column("change", sa.String(8), nullable=False),  # added | removed | changed
)

hotlist_local_entries = sa.Table(
    "hotlist_local_entries",
    metadata,
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
    sa.Index("ix_hotlist_local_entries_entry", "entry_id"),
)
