"""Catalog tables of the alert workflow (created by Alembic revision ``0003_users_audit_alerts``)."""

from __future__ import annotations

import sqlalchemy as sa

from pipelines.audit.tables import EVENT_ID
from pipelines.storage.catalog import metadata

__all__ = ["alert_hits", "alert_transitions", "alerts", "webhook_deliveries"]

_TS = sa.DateTime(timezone=True)

# One row per alert: what was read, what it hit, and where it stands in the review.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("alert_id", sa.String(24), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),  # pending | confirmed | rejected | expired
    sa.Column("created_at", _TS, nullable=False),
    sa.Column("updated_at", _TS, nullable=False),
    # the read that raised it (the first of its hits), its image and crop
    sa.Column("read_id", sa.String(64), nullable=False),
    sa.Column("detection_id", sa.String(64), nullable=False),
    sa.Column("image_id", sa.String(40), nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("captured_at", _TS, nullable=False),
    sa.Column("capture_date", sa.Date, nullable=False),
    sa.Column("crop_key", sa.String(1024), nullable=False),  # in the lake bucket
    sa.Column("image_bucket", sa.String(63)),  # the source object, from the ledger
    sa.Column("image_key", sa.String(1024)),
    sa.Column("plate_text", sa.String(32), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("matched_text", sa.String(32), nullable=False),
    # the entry it hit, with its list and version
    sa.Column("entry_id", sa.String(64), nullable=False),
    sa.Column("list_name", sa.String(128), nullable=False),
    sa.Column("list_version", sa.Integer, nullable=False),
    sa.Column("entry_plate", sa.String(32), nullable=False),
    sa.Column("entry_state", sa.String(8)),
    sa.Column("list_code", sa.String(128)),
    sa.Column("match_kind", sa.String(16), nullable=False),  # exact | lenient
    sa.Column("state_not_read", sa.Boolean, nullable=False),
    sa.Column("seen_before_listed", sa.Boolean, nullable=False),
    sa.Column("hotlist_age_seconds", sa.Float),  # age of the active list version when raised
    sa.Column("hit_count", sa.Integer, nullable=False),
    sa.Column("first_seen_at", _TS, nullable=False),
    sa.Column("last_seen_at", _TS, nullable=False),
    sa.Column("notice", sa.Text, nullable=False),  # ALERT_NOTICE (C.1-C.3)
    sa.Column("escalated_at", _TS),
    sa.Column("entry_cleared_at", _TS),  # the entry left the list: nobody may act on it
    sa.Column("decided_at", _TS),
    sa.Column("decided_by", sa.String(64)),
    sa.Column("decision_reason", sa.Text),
    sa.Column("compared_with_record", sa.Boolean),
    sa.UniqueConstraint("read_id", "entry_id", name="uq_alerts_read_entry"),
    sa.Index("ix_alerts_state_created", "state", "created_at"),
    sa.Index("ix_alerts_entry_state", "entry_id", "state"),
)

# Every (read, entry) pair that went into an alert, the first and the merged duplicates: makes
# raising idempotent per pair, and keeps each hit's read for the evidence.
alert_hits = sa.Table(
    "alert_hits",
    metadata,
    sa.Column("read_id", sa.String(64), primary_key=True),
    sa.Column("entry_id", sa.String(64), primary_key=True),
    sa.Column("alert_id", sa.String(24), sa.ForeignKey("alerts.alert_id"), nullable=False),
    sa.Column("hits", sa.Integer, nullable=False),  # reads this row stands for (suppressed dups)
    sa.Column("first_seen_at", _TS, nullable=False),
    sa.Column("last_seen_at", _TS, nullable=False),
    sa.Column("recorded_at", _TS, nullable=False),
    sa.Index("ix_alert_hits_alert", "alert_id"),
)

# Each step of the review: state changes (confirm, reject, expire) and flags (escalate, clear).
alert_transitions = sa.Table(
    "alert_transitions",
    metadata,
    sa.Column("transition_id", EVENT_ID, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(24), sa.ForeignKey("alerts.alert_id"), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_state", sa.String(16), nullable=False),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("compared_with_record", sa.Boolean),
    sa.Column("at", _TS, nullable=False),
    sa.Column("audit_event_id", sa.BigInteger, nullable=False),
    sa.Index("ix_alert_transitions_alert", "alert_id", "at"),
)

# One row per webhook POST attempt.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("delivery_id", EVENT_ID, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(24), sa.ForeignKey("alerts.alert_id"), nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),  # host only: paths carry tokens
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("attempted_at", _TS, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("delivered_at", _TS),  # set on the attempt that was accepted (2xx)
    sa.Index("ix_webhook_deliveries_alert", "alert_id"),
)
