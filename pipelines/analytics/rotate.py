"""Rotating the pseudonymization key: every partition of ``sightings`` made with another key is
rebuilt with the key in force, by an administrator, audited (versions and fingerprints, never
the key).

The procedure (docs/analytics.md): put the new key in the secret (``ALPR_ANALYTICS_KEY`` or the
file of ``analytics.key_file``), raise ``analytics.key_version``, then run
``alpr analytics rotate-key --user ADMIN``. Pseudonyms of the old key no longer match anything:
that is the point. A rotation killed half-way is finished by running it again (it rebuilds only
the days still made with another key); until then analyses spanning both keys are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl
import sqlalchemy as sa

from pipelines.analytics._key import AnalyticsKeyError, analytics_key
from pipelines.analytics.sightings import build_sightings, stale_days
from pipelines.audit.log import record_committed, require_utc
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.config import Settings
from pipelines.errors import AlprError
from pipelines.storage.catalog import engine_for
from pipelines.storage.lake import SIGHTINGS
from pipelines.storage.tables import scan_table, table_exists

__all__ = ["ROTATE_ACTION", "Rotation", "rotate_key"]

ROTATE_ACTION = "analytics.rotate_key"


@dataclass(frozen=True)
class Rotation:
    event_id: int
    key_version: int
    key_id: str  # the fingerprint of the key in force
    previous_versions: tuple[int, ...]  # the versions the rebuilt days had
    days: tuple[date, ...]  # the capture dates rebuilt
    rows: int


def rotate_key(
    settings: Settings,
    user: User,
    *,
    now: datetime,
    progress: Callable[[str], None] | None = None,
) -> Rotation:
    """Rebuild the days of ``sightings`` made with another key than the one in force."""
    now = require_utc(now)
    engine = engine_for(settings.catalog_url)
    details: dict[str, object] = {"key_version": settings.analytics.key_version}
    try:
        with engine.connect() as conn:
            current = get_user(conn, user.name)
        require_role(current, Role.ADMINISTRATOR, action="rotate the analytics key")
        key = analytics_key(settings.analytics)
        details["key_id"] = key.key_id
        days = stale_days(settings, key)
        previous = _versions(settings, days)
        details["previous_versions"] = list(previous)
        if previous and max(previous) >= key.version:
            raise AnalyticsKeyError(
                f"analytics.key_version={key.version} must be above the versions it replaces "
                f"({list(previous)})"
            )
    except AlprError as exc:
        _audit(engine, user.name, "refused", {**details, "why": str(exc)}, now)
        raise
    done: list[date] = []
    rows = 0
    try:
        for day in days:
            rows += build_sightings(settings, day, key).rows
            done.append(day)
            if progress:
                progress(day.isoformat())
    except Exception as exc:
        failed = {**details, "days": len(done), "rows": rows, "why": type(exc).__name__}
        _audit(engine, current.name, "failed", failed, now)
        raise
    event_id = _audit(engine, current.name, "ok", {**details, "days": len(done), "rows": rows}, now)
    return Rotation(event_id, key.version, key.key_id, previous, tuple(done), rows)


def _versions(settings: Settings, days: list[date]) -> tuple[int, ...]:
    if not days or not table_exists(settings, SIGHTINGS):
        return ()
    versions = (
        scan_table(settings, SIGHTINGS)
        .filter(pl.col(SIGHTINGS.partition_column).is_in(days))
        .select(pl.col("key_version").unique().sort())
        .collect()
        .to_series()
    )
    return tuple(versions.to_list())


def _audit(
    engine: sa.Engine, actor: str, outcome: str, details: dict[str, object], now: datetime
) -> int:
    return record_committed(
        engine,
        actor=actor,
        action=ROTATE_ACTION,
        subject=SIGHTINGS.name,
        outcome=outcome,
        details=details,
        now=now,
    )
