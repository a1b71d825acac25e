"""Crime analysis without identities (PP-9126 B.8, B.9): the pseudonymized ``sightings`` table,
the audited analyses analysts run on it, re-identification behind the search reason gate, and
the rotation of the key.

``build_sightings(settings, day)`` writes a day; ``pattern_counts(settings, user, PatternQuery(...),
now=...)``, ``reidentify(settings, user, ReidentifyRequest(...), now=...)`` and
``rotate_key(settings, user, now=...)`` are the audited API; ``alpr analytics``, the Dagster
asset ``analytics/sightings`` and the Airflow DAG ``alpr_analytics`` adapt them.
"""

from __future__ import annotations

from pipelines.analytics._key import PSEUDONYM, AnalyticsKey, AnalyticsKeyError, analytics_key
from pipelines.analytics.patterns import (
    ANALYSTS,
    QUERY_ACTION,
    PatternKind,
    PatternQuery,
    PatternResult,
    camera_day_counts,
    hour_profile,
    multi_camera,
    pattern_counts,
    track,
)
from pipelines.analytics.reidentify import (
    REIDENTIFIERS,
    REIDENTIFY_ACTION,
    Reidentified,
    ReidentifyRequest,
    plates_of,
    reidentify,
)
from pipelines.analytics.rotate import ROTATE_ACTION, Rotation, rotate_key
from pipelines.analytics.sightings import (
    SightingsReport,
    build_sightings,
    pseudonymize,
    stale_days,
)

__all__ = [
    "ANALYSTS",
    "PSEUDONYM",
    "QUERY_ACTION",
    "REIDENTIFIERS",
    "REIDENTIFY_ACTION",
    "ROTATE_ACTION",
    "AnalyticsKey",
    "AnalyticsKeyError",
    "PatternKind",
    "PatternQuery",
    "PatternResult",
    "Reidentified",
    "ReidentifyRequest",
    "Rotation",
    "SightingsReport",
    "analytics_key",
    "build_sightings",
    "camera_day_counts",
    "hour_profile",
    "multi_camera",
    "pattern_counts",
    "plates_of",
    "pseudonymize",
    "reidentify",
    "rotate_key",
    "stale_days",
    "track",
]
