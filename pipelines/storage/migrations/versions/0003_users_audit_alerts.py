"""Users, the append-only audit log, alerts with their hits, transitions and webhook deliveries.

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"

_TS = sa.DateTime(timezone=True)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_APPEND_ONLY = "audit_events is append-only"


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed_since", _TS),
        sa.Column("locked_until", _TS),
        sa.Column("last_login_at", _TS),
    )
    op.create_table(
        "audit_events",
        sa.Column("event_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("occurred_at", _TS, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("prev_hash", name="uq_audit_events_prev_hash"),
        sa.UniqueConstraint("entry_hash", name="uq_audit_events_entry_hash"),
    )
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])
    op.create_index("ix_audit_events_actor", "audit_events", ["actor", "occurred_at"])
    _append_only_triggers()
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(24), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("read_id", sa.String(64), nullable=False),
        sa.Column("detection_id", sa.String(64), nullable=False),
        sa.Column("image_id", sa.String(40), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("captured_at", _TS, nullable=False),
        sa.Column("capture_date", sa.Date, nullable=False),
        sa.Column("crop_key", sa.String(1024), nullable=False),
        sa.Column("image_bucket", sa.String(63)),
        sa.Column("image_key", sa.String(1024)),
        sa.Column("plate_text", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("matched_text", sa.String(32), nullable=False),
        sa.Column("entry_id", sa.String(64), nullable=False),
        sa.Column("list_name", sa.String(128), nullable=False),
        sa.Column("list_version", sa.Integer, nullable=False),
        sa.Column("entry_plate", sa.String(32), nullable=False),
        sa.Column("entry_state", sa.String(8)),
        sa.Column("list_code", sa.String(128)),
        sa.Column("match_kind", sa.String(16), nullable=False),
        sa.Column("state_not_read", sa.Boolean, nullable=False),
        sa.Column("seen_before_listed", sa.Boolean, nullable=False),
        sa.Column("hotlist_age_seconds", sa.Float),
        sa.Column("hit_count", sa.Integer, nullable=False),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("notice", sa.Text, nullable=False),
        sa.Column("escalated_at", _TS),
        sa.Column("entry_cleared_at", _TS),
        sa.Column("decided_at", _TS),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decision_reason", sa.Text),
        sa.Column("compared_with_record", sa.Boolean),
        sa.UniqueConstraint("read_id", "entry_id", name="uq_alerts_read_entry"),
    )
    op.create_index("ix_alerts_state_created", "alerts", ["state", "created_at"])
    op.create_index("ix_alerts_entry_state", "alerts", ["entry_id", "state"])
    op.create_table(
        "alert_hits",
        sa.Column("read_id", sa.String(64), primary_key=True),
        sa.Column("entry_id", sa.String(64), primary_key=True),
        sa.Column("alert_id", sa.String(24), sa.ForeignKey("alerts.alert_id"), nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("first_seen_at", _TS, nullable=False),
        sa.Column("last_seen_at", _TS, nullable=False),
        sa.Column("recorded_at", _TS, nullable=False),
    )
    op.create_index("ix_alert_hits_alert", "alert_hits", ["alert_id"])
    op.create_table(
        "alert_transitions",
        sa.Column("transition_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(24), sa.ForeignKey("alerts.alert_id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("compared_with_record", sa.Boolean),
        sa.Column("at", _TS, nullable=False),
        sa.Column("audit_event_id", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_alert_transitions_alert", "alert_transitions", ["alert_id", "at"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", _ID, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(24), sa.ForeignKey("alerts.alert_id"), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("attempted_at", _TS, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("delivered_at", _TS),
    )
    op.create_index("ix_webhook_deliveries_alert", "webhook_deliveries", ["alert_id"])


def _append_only_triggers() -> None:
    """The database itself refuses to change or remove an audit entry."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("alert_transitions")
    op.drop_table("alert_hits")
    op.drop_table("alerts")
    op.drop_table("audit_events")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_table("users")
