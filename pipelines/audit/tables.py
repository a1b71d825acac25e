"""Catalog tables of the audit domain: the users of the review workflow and the audit log;
their training records and the designated ALPR administrator (PP-9126 B.3, B.5, B.7).

Created by the Alembic revisions ``0003_users_audit_alerts`` and ``0007_training``, never by
``create_all``.
"""

from __future__ import annotations

import sqlalchemy as sa

from pipelines.storage.catalog import metadata

__all__ = [
    "OPEN_DESIGNATION_INDEX",
    "administrator_designations",
    "audit_events",
    "user_training",
    "users",
]

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

# One row per course completed (a renewal is a new row); a course counts as current from
# completed_on until the day before expires_on (pipelines/audit/training.py).
user_training = sa.Table(
    "user_training",
    metadata,
    sa.Column("training_id", EVENT_ID, primary_key=True, autoincrement=True),
    sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name"), nullable=False),
    sa.Column("course", sa.String(32), nullable=False),
    sa.Column("completed_on", sa.Date, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False),
    sa.Column("recorded_by", sa.String(128), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_user_training_user_course", "user_name", "course"),
)

# The ALPR administrator of B.7: one open designation (ended_at null) at a time; a designation
# is ended, never deleted, when another is made (pipelines/audit/designation.py).
administrator_designations = sa.Table(
    "administrator_designations",
    metadata,
    sa.Column("designation_id", EVENT_ID, primary_key=True, autoincrement=True),
    sa.Column("user_name", sa.String(64), sa.ForeignKey("users.name"), nullable=False),
    sa.Column("designated_by", sa.String(128), nullable=False),
    sa.Column("designated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("ended_by", sa.String(128)),
)
# The revision adds a unique partial index over (ended_at IS NULL) WHERE ended_at IS NULL:
# a second open designation is refused by the database itself.
OPEN_DESIGNATION_INDEX = "uq_administrator_designations_open"
