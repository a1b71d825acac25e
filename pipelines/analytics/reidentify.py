"""Re-identifying a pseudonym: its plate text, only for a documented law-enforcement reason
(PP-9126 B.9), audited either way.

The gate is search's (``pipelines.search.reason.check_reason``) with the categories narrowed to
``analytics.reidentify_categories``, for agents and administrators as the catalog knows them
(analysts work on pseudonyms only). No mapping from pseudonym to plate is stored anywhere: the
plate is found by hashing again, under the key in force, the plate texts of the reads at the
cameras and capture dates where the pseudonym was sighted (a join of ``sightings`` and
``reads``). The audit entry keeps the pseudonym, the reason and the number of plates found,
never the plate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.analytics._key import PSEUDONYM, AnalyticsKey, AnalyticsKeyError, analytics_key
from pipelines.audit.log import record_committed, require_utc
from pipelines.audit.users import Role, User, get_user, require_role
from pipelines.config import Settings
from pipelines.errors import AlprError
from pipelines.search.reason import Reason, SearchRefusal, check_reason
from pipelines.storage.catalog import engine_for
from pipelines.storage.lake import PARTITION_COLUMN, READS, SIGHTINGS, LakeTable
from pipelines.storage.tables import scan_table

__all__ = [
    "REIDENTIFIERS",
    "REIDENTIFY_ACTION",
    "Reidentified",
    "ReidentifyRequest",
    "plates_of",
    "reidentify",
]

REIDENTIFY_ACTION = "analytics.reidentify"
REIDENTIFIERS = (Role.ADMINISTRATOR, Role.AGENT)


@dataclass(frozen=True)
class ReidentifyRequest:
    pseudonym: str
    reason_category: str = ""
    reason: str = ""
    case: str = ""

    def as_audit(self) -> dict[str, Any]:
        return {
            "pseudonym": self.pseudonym,
            **Reason(self.reason_category, self.reason, self.case).as_audit(),
        }


@dataclass(frozen=True)
class Reidentified:
    event_id: int  # the audit entry
    sightings: int  # of the pseudonym, at the places searched
    plates: pl.DataFrame = field(repr=False)  # plate_text, jurisdiction, reads


def plates_of(
    sightings: pl.LazyFrame, reads: pl.LazyFrame, pseudonym: str, key: AnalyticsKey
) -> tuple[int, pl.DataFrame]:
    """The pseudonym's sightings (counted) and the plate texts of the reads at the same cameras
    and capture dates whose pseudonym under ``key`` is ``pseudonym``."""
    seen = (
        sightings.filter(pl.col("pseudonym") == pseudonym)
        .select(PARTITION_COLUMN, "camera_id", "key_id")
        .collect()
    )
    if seen.height == 0:
        return 0, _no_plates()
    other_keys = seen.filter(pl.col("key_id") != key.key_id)
    if other_keys.height:
        raise AnalyticsKeyError(
            "the pseudonym was made with another key than the one in force: rebuild the "
            "sightings (alpr analytics rotate-key) and use the new pseudonym"
        )
    places = seen.select(PARTITION_COLUMN, "camera_id").unique()
    candidates = (
        reads.filter(
            pl.col(PARTITION_COLUMN).is_in(places.get_column(PARTITION_COLUMN).unique().implode()),
            pl.col("camera_id").is_in(places.get_column("camera_id").unique().implode()),
        )
        .join(places.lazy(), on=[PARTITION_COLUMN, "camera_id"], how="semi")
        .filter(pl.col("plate_text").is_not_null() & (pl.col("plate_text") != ""))
        .group_by("plate_text", "jurisdiction")
        .agg(reads=pl.len())
        .collect()
    )
    texts = candidates.get_column("plate_text").unique()
    hashed = pl.DataFrame([texts, key.pseudonyms(texts)])
    plates = (
        candidates.join(hashed, on="plate_text")
        .filter(pl.col("pseudonym") == pseudonym)
        .select("plate_text", "jurisdiction", "reads")
        .sort("plate_text", "jurisdiction")
    )
    return seen.height, plates


def reidentify(
    settings: Settings, user: User, request: ReidentifyRequest, *, now: datetime
) -> Reidentified:
    """The plate text(s) behind ``request.pseudonym`` once role and reason pass; audited either
    way. Raises ``PermissionDenied``/``AuthenticationError`` or ``SearchRefusal``."""
    now = require_utc(now)
    engine = engine_for(settings.catalog_url)
    try:
        with engine.connect() as conn:
            current = get_user(conn, user.name)
        require_role(current, *REIDENTIFIERS, action="re-identify a pseudonym")
        reason = check_reason(
            Reason(request.reason_category, request.reason, request.case), settings.audit
        )
        allowed = settings.analytics.reidentify_categories
        if reason.category not in allowed:
            raise SearchRefusal(
                "reason_category",
                "not a law-enforcement reason for re-identification (PP-9126 B.9, "
                f"analytics.reidentify_categories); valid values: {list(allowed)}",
            )
        if not PSEUDONYM.fullmatch(request.pseudonym):
            raise SearchRefusal("pseudonym", "not a pseudonym (32 hexadecimal characters)")
        key = analytics_key(settings.analytics)
    except AlprError as exc:
        refusal = {"why": str(exc), "field": getattr(exc, "field", "user")}
        _audit(engine, user.name, "refused", {**request.as_audit(), **refusal}, now)
        raise
    audited = {"pseudonym": request.pseudonym, **reason.as_audit()}
    try:
        sightings, plates = plates_of(
            _scan(settings, SIGHTINGS), _scan(settings, READS), request.pseudonym, key
        )
    except Exception as exc:
        outcome = "refused" if isinstance(exc, AnalyticsKeyError) else "failed"
        _audit(engine, current.name, outcome, {**audited, "why": type(exc).__name__}, now)
        raise
    details = {**audited, "sightings": sightings, "results": plates.height}
    event_id = _audit(engine, current.name, "ok", details, now)
    return Reidentified(event_id, sightings, plates)


def _scan(settings: Settings, table: LakeTable) -> pl.LazyFrame:
    try:
        return scan_table(settings, table)
    except FileNotFoundError:
        return pl.DataFrame(schema=table.schema).lazy()


def _no_plates() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"plate_text": pl.String, "jurisdiction": pl.String, "reads": pl.UInt32}
    )


def _audit(
    engine: sa.Engine, actor: str, outcome: str, details: dict[str, Any], now: datetime
) -> int:
    return record_committed(
        engine,
        actor=actor,
        action=REIDENTIFY_ACTION,
        subject=f"pseudonym:{details['pseudonym'][:64]}",
        outcome=outcome,
        details=details,
        now=now,
    )
