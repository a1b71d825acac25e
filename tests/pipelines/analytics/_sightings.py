"""Keys, reads and users of the analytics tests: two cameras see B0S123, three other plates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pipelines.audit.tables import audit_events
from pipelines.audit.users import Role, User, add_user
from pipelines.config import Settings
from pipelines.storage.catalog import engine_for, upgrade_catalog
from tests._users import FAST_AUTH, PASSWORD
from tests.pipelines.search._reads import write_reads

KEY = "analytics-test-key-0123456789abcdef"  # 35 bytes: what ALPR_ANALYTICS_KEY would hold
OTHER_KEY = "another-analytics-key-fedcba9876543210"
T0 = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # 08:00 in Denver
DAY1, DAY2 = T0.date(), (T0 + timedelta(days=1)).date()
READS = [
    ("r1", "B0S123", "cam-07", T0),
    ("r2", "B0S123", "cam-09", T0 + timedelta(minutes=5)),
    ("r3", "XKC442", "cam-07", T0 + timedelta(minutes=10)),
    ("r4", "TTT777", "cam-07", T0 + timedelta(hours=2)),
    ("r5", "B0S123", "cam-07", T0 + timedelta(days=1)),
    ("r6", "QRS555", "cam-09", T0 + timedelta(days=1, hours=1)),
]
PLATES = ("B0S123", "XKC442", "TTT777", "QRS555")
REASON = "vehicle reported stolen this morning, NCIC hit on the plate"
GOOD = {"reason_category": "stolen_vehicle", "reason": REASON}


def with_key(settings: Settings, key: str = KEY, version: int = 1) -> Settings:
    return settings.replace(analytics={"key": key, "key_version": version})


def seeded(settings: Settings) -> Settings:
    """``settings`` with the test key and fast logins, the catalog migrated, READS written."""
    upgrade_catalog(settings.catalog_url)
    result = with_key(settings.replace(auth=FAST_AUTH))
    write_reads(result, READS)
    return result


def user(settings: Settings, name: str, role: Role, now: datetime) -> User:
    with engine_for(settings.catalog_url).begin() as conn:
        return add_user(conn, name, role, PASSWORD, actor="operator", now=now, auth=settings.auth)


def entries(settings: Settings, action: str) -> list[dict[str, Any]]:
    with engine_for(settings.catalog_url).connect() as conn:
        rows = conn.execute(
            sa.select(audit_events)
            .where(audit_events.c.action == action)
            .order_by(audit_events.c.event_id)
        ).mappings()
        return [dict(r) | {"details": json.loads(r["details"])} for r in rows]
