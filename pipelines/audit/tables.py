"""Catalog tables of the audit domain: the users of the review workflow and the audit log.

Created by the Alembic revision ``0003_users_audit_alerts``, never by ``create_all``.
"""

from __future__ import annotations

import sqlalchemy as sa

from pipelines.storage.catalog import metadata

__all__ = ["audit_events", "users"]

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

users = sa.Table(
    "users",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255)),  # argon2id; null: cannot log in (service)
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    # Throttling: failures counted from failed_since; locked_until refuses every password.
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed_since", sa.DateTime(timezone=True)),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
)

# Append-only (database triggers refuse UPDATE and DELETE). Each entry's entry_hash is sha256 over
# the previous entry's hash and the entry's canonical JSON; prev_hash is unique, so two writers
# can never fork the chain.
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("event_id", EVENT_ID, primary_key=True, autoincrement=True),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(256), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("details", sa.Text, nullable=False),  # canonical JSON, exactly as hashed
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("prev_hash", name="uq_audit_events_prev_hash"),
    sa.UniqueConstraint("entry_hash", name="uq_audit_events_entry_hash"),
    sa.Index("ix_audit_events_subject", "subject"),
    sa.Index("ix_audit_events_actor", "actor", "occurred_at"),
)
