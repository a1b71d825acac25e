"""Tiny matches frames, users and ledger rows for the alert tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.audit.users import User, add_user
from pipelines.config import Settings
from pipelines.storage.catalog import camera_objects
from tests._users import PASSWORD

T0 = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # capture time of the first read
RAISED = T0 + timedelta(minutes=2)  # when the first alerts are raised
_UTC = pl.Datetime("us", "UTC")
MATCH_DTYPES: dict[str, Any] = {
    "read_id": pl.String,
    "detection_id": pl.String,
    "image_id": pl.String,
    "camera_id": pl.String,
    "captured_at": _UTC,
    "capture_date": pl.Date,
    "plate_text": pl.String,
    "confidence": pl.Float32,
    "matched_text": pl.String,
    "entry_id": pl.String,
    "list_name": pl.String,
    "list_version": pl.Int64,
    "entry_plate": pl.String,
    "entry_state": pl.String,
    "list_code": pl.String,
    "match_kind": pl.String,
    "state_not_read": pl.Boolean,
    "seen_before_listed": pl.Boolean,
}


def match(read: str, minutes: float = 0, **overrides: Any) -> dict[str, Any]:
    """One match row: read ``read`` of ABC123 at cam-07, ``minutes`` after T0, hitting entry e1."""
    row = {
        "read_id": read,
        "detection_id": f"det-{read}",
        "image_id": f"img-{read}",
        "camera_id": "cam-07",
        "captured_at": T0 + timedelta(minutes=minutes),
        "capture_date": date(2026, 3, 10),
        "plate_text": "ABC123",
        "confidence": 0.93,
        "matched_text": "ABC123",
        "entry_id": "e1",
        "list_name": "ncic",
        "list_version": 3,
        "entry_plate": "ABC123",
        "entry_state": "CO",
        "list_code": "V",
        "match_kind": "exact",
        "state_not_read": False,
        "seen_before_listed": False,
    }
    row.update(overrides)
    return row


def matches(*rows: dict[str, Any], **extra_dtypes: Any) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema={**MATCH_DTYPES, **extra_dtypes})


def add_users(engine: sa.Engine, settings: Settings) -> dict[str, User]:
    roles = {"chief": "administrator", "jdoe": "agent", "ann": "analyst"}
    with engine.begin() as conn:
        return {
            name: add_user(
                conn, name, role, PASSWORD, actor="operator:test", now=T0, auth=settings.auth
            )
            for name, role in roles.items()
        }


def ledger_row(engine: sa.Engine, image_id: str, key: str) -> None:
    """The ledger row of the captured frame, as ingestion writes it."""
    with engine.begin() as conn:
        conn.execute(
            camera_objects.insert().values(
                image_id=image_id,
                bucket="camera-drops",
                key=key,
                etag="etag",
                size_bytes=1,
                status="ingested",
                run_id="run",
                registered_at=T0,
            )
        )


def audit_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar_one()
