"""What crime analysts ask of ``sightings`` (PP-9126 B.8): counts, pseudonyms seen at several
cameras, time-of-day profiles and the sightings of one pseudonym, over a window of capture dates.

The queries are pure functions of a lazy frame of sightings; :func:`pattern_counts` is the one
audited way to run them: the user is re-read from the catalog (analysts, agents and
administrators; the schedules' service account never queries), and every query is recorded with
its criteria and the number of rows, refused ones too. Pseudonyms are compared only under one
key: a window over days of two keys (a rotation under way) is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.analytics._key import PSEUDONYM, AnalyticsKeyError
from pipelines.audit.log import record_committed, require_utc
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.config import Settings
from pipelines.errors import AlprError, PolicyRefusal
from pipelines.storage.catalog import engine_for
from pipelines.storage.lake import PARTITION_COLUMN, SIGHTINGS
from pipelines.storage.tables import scan_table

__all__ = [
    "ANALYSTS",
    "QUERY_ACTION",
    "PatternKind",
    "PatternQuery",
    "PatternResult",
    "camera_day_counts",
    "hour_profile",
    "multi_camera",
    "pattern_counts",
    "track",
]

QUERY_ACTION = "analytics.query"
ANALYSTS = (Role.ANALYST, Role.AGENT, Role.ADMINISTRATOR)  # who may query sightings


class PatternKind(StrEnum):
    COUNTS = "counts"  # sightings and distinct pseudonyms per camera and day
    MULTI_CAMERA = "multi_camera"  # pseudonyms seen at min_cameras cameras or more
    HOUR_PROFILE = "hour_profile"  # sightings and pseudonyms per camera and local hour
    TRACK = "track"  # the sightings of one pseudonym, in time order


def camera_day_counts(sightings: pl.LazyFrame) -> pl.LazyFrame:
    return (
        sightings.group_by(PARTITION_COLUMN, "camera_id")
        .agg(sightings=pl.len(), pseudonyms=pl.col("pseudonym").n_unique())
        .sort(PARTITION_COLUMN, "camera_id")
    )


def multi_camera(sightings: pl.LazyFrame, min_cameras: int) -> pl.LazyFrame:
    return (
        sightings.group_by("pseudonym")
        .agg(
            cameras=pl.col("camera_id").n_unique(),
            sightings=pl.len(),
            first_seen_at=pl.col("captured_at").min(),
            last_seen_at=pl.col("captured_at").max(),
            camera_ids=pl.col("camera_id").unique().sort(),
        )
        .filter(pl.col("cameras") >= min_cameras)
        .sort(["cameras", "sightings", "pseudonym"], descending=[True, True, False])
    )


def hour_profile(sightings: pl.LazyFrame) -> pl.LazyFrame:
    return (
        sightings.group_by("camera_id", "hour_of_day")
        .agg(sightings=pl.len(), pseudonyms=pl.col("pseudonym").n_unique())
        .sort("camera_id", "hour_of_day")
    )


def track(sightings: pl.LazyFrame, pseudonym: str) -> pl.LazyFrame:
    return (
        sightings.filter(pl.col("pseudonym") == pseudonym)
        .select("captured_at", "camera_id", "hour_of_day", "jurisdiction", "confidence")
        .sort("captured_at", "camera_id")
    )


@dataclass(frozen=True)
class PatternQuery:
    """An analysis as asked for, unchecked; ``start`` and ``end`` are capture dates, inclusive."""

    kind: str
    start: date
    end: date
    cameras: tuple[str, ...] = ()
    min_cameras: int = 2
    pseudonym: str = ""

    def as_audit(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "cameras": sorted(self.cameras),
            "min_cameras": self.min_cameras,
            "pseudonym": self.pseudonym or None,
        }

    def checked(self) -> PatternKind:
        try:
            kind = PatternKind(self.kind)
        except ValueError:
            raise PolicyRefusal(
                f"analysis {self.kind!r} unknown; valid values: {[k.value for k in PatternKind]}"
            ) from None
        if self.end < self.start:
            raise PolicyRefusal("the window of capture dates must end on or after its start")
        if kind is PatternKind.MULTI_CAMERA and self.min_cameras < 2:
            raise PolicyRefusal("min_cameras must be at least 2")
        if kind is PatternKind.TRACK and not PSEUDONYM.fullmatch(self.pseudonym):
            raise PolicyRefusal("track needs a pseudonym (32 hexadecimal characters)")
        return kind


@dataclass(frozen=True)
class PatternResult:
    event_id: int  # the audit entry of this query
    rows: pl.DataFrame = field(repr=False)


def pattern_counts(
    settings: Settings, user: User, query: PatternQuery, *, now: datetime
) -> PatternResult:
    """The analysis ``query`` asks for over ``sightings``, for an analyst, agent or
    administrator as the catalog knows them now; audited either way (criteria, never rows)."""
    now = require_utc(now)
    engine = engine_for(settings.catalog_url)
    try:
        with engine.connect() as conn:
            current = get_user(conn, user.name)
        require_role(current, *ANALYSTS, action="query the analytics table")
        kind = query.checked()
    except AlprError as exc:
        _audit(engine, user.name, "refused", {**query.as_audit(), "why": str(exc)}, now)
        raise
    try:
        rows = _run(settings, query, kind)
    except Exception as exc:
        outcome = "refused" if isinstance(exc, AnalyticsKeyError) else "failed"
        _audit(engine, current.name, outcome, {**query.as_audit(), "why": type(exc).__name__}, now)
        raise
    event_id = _audit(engine, current.name, "ok", {**query.as_audit(), "rows": rows.height}, now)
    return PatternResult(event_id, rows)


def _window(settings: Settings, query: PatternQuery) -> pl.LazyFrame:
    where = [pl.col(PARTITION_COLUMN).is_between(query.start, query.end)]
    if query.cameras:
        where.append(pl.col("camera_id").is_in(list(query.cameras)))
    try:
        return scan_table(settings, SIGHTINGS).filter(*where)
    except FileNotFoundError:  # nothing built yet
        return pl.DataFrame(schema=SIGHTINGS.schema).lazy()


def _run(settings: Settings, query: PatternQuery, kind: PatternKind) -> pl.DataFrame:
    sightings = _window(settings, query)
    keys = sightings.select(pl.col("key_version").unique().sort()).collect().to_series()
    if keys.len() > 1:
        raise AnalyticsKeyError(
            f"the window holds pseudonyms of key versions {keys.to_list()}: they do not compare; "
            "finish the rotation (alpr analytics rotate-key) or narrow the window"
        )
    analyses = {
        PatternKind.COUNTS: lambda: camera_day_counts(sightings),
        PatternKind.MULTI_CAMERA: lambda: multi_camera(sightings, query.min_cameras),
        PatternKind.HOUR_PROFILE: lambda: hour_profile(sightings),
        PatternKind.TRACK: lambda: track(sightings, query.pseudonym),
    }
    return analyses[kind]().collect()


def _audit(
    engine: sa.Engine, actor: str, outcome: str, details: dict[str, Any], now: datetime
) -> int:
    return record_committed(
        engine,
        actor=actor,
        action=QUERY_ACTION,
        subject=SIGHTINGS.name,
        outcome=outcome,
        details=details,
        now=now,
    )
