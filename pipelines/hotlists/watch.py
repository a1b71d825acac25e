"""What the schedules and sensors ask of the configured hotlist sources: refresh one by name,
which vendor drops are new, and which lists are stale (PP-9126 B.4: refreshed at least daily)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
import sqlalchemy as sa

from pipelines.audit.log import require_utc
from pipelines.config import HotlistSource, Settings
from pipelines.errors import ConfigError, HotlistError
from pipelines.hotlists.refresh import RefreshOutcome, refresh_source
from pipelines.hotlists.snapshot import list_status
from pipelines.hotlists.tables import hotlist_lists, hotlist_versions
from pipelines.storage.catalog import engine_for, upgrade_catalog
from pipelines.storage.objects import s3_client

__all__ = [
    "Freshness",
    "list_freshness",
    "pending_drops",
    "refresh_named",
    "source_named",
    "stale_sources",
]


@dataclass(frozen=True)
class Freshness:
    """A list's active version against ``hotlists.max_age_hours`` at a reference time."""

    list_name: str
    version: int | None  # None: never loaded
    loaded_at: datetime | None
    age_hours: float | None
    max_age_hours: float
    stale: bool


def source_named(settings: Settings, name: str) -> HotlistSource:
    source = settings.hotlists.source(name)
    if source is None:
        valid = [s.name for s in settings.hotlists.sources]
        raise ConfigError(f"no hotlist source {name!r} in hotlists.sources; valid values: {valid}")
    return source


def refresh_named(settings: Settings, name: str, *, now: datetime) -> RefreshOutcome:
    """Refresh the configured source ``name`` as the service account. A rejected file or an
    unreachable source raises HotlistError (the previous version stays active); a file whose
    bytes are the active version's gives status ``unchanged``."""
    upgrade_catalog(settings.catalog_url)
    outcome = refresh_source(settings, source_named(settings, name), now=require_utc(now))
    if outcome.status == "rejected":
        raise HotlistError(outcome.error or f"hotlist source {name!r} was rejected")
    return outcome


def pending_drops(settings: Settings) -> dict[str, str]:
    """For each ``s3://`` source whose newest object is not the one its active version was
    loaded from: source name -> ``s3://bucket/key`` of that object."""
    prefixed = [s for s in settings.hotlists.sources if s.location.startswith("s3://")]
    if not prefixed:
        return {}
    with engine_for(settings.catalog_url).connect() as conn:
        # A sensor tick does not migrate the catalog; before the first run nothing is loaded.
        migrated = sa.inspect(conn).has_table(hotlist_versions.name)
        loaded = dict(
            conn.execute(
                sa.select(hotlist_versions.c.list_name, hotlist_versions.c.source).join(
                    hotlist_lists,
                    sa.and_(
                        hotlist_lists.c.list_name == hotlist_versions.c.list_name,
                        hotlist_lists.c.active_version == hotlist_versions.c.version,
                    ),
                )
            ).all()
            if migrated
            else []
        )
    client = s3_client(settings.s3)
    pending = {}
    for source in prefixed:
        newest = _newest_object(client, source.location)
        if newest is not None and newest != loaded.get(source.name):
            pending[source.name] = newest
    return pending


def _newest_object(client: object, location: str) -> str | None:
    """The newest object under an ``s3://bucket/prefix`` location, as ``fetch_source`` picks it
    (latest LastModified, then key)."""
    bucket, _, prefix = location[5:].partition("/")
    newest: tuple[str, str] | None = None
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)  # type: ignore[attr-defined]
    for page in pages:
        for obj in page.get("Contents", []):
            candidate = (str(obj["LastModified"]), obj["Key"])
            newest = candidate if newest is None or candidate > newest else newest
    return None if newest is None else f"s3://{bucket}/{newest[1]}"


def list_freshness(settings: Settings, name: str, *, now: datetime) -> Freshness:
    """The freshness of list ``name`` at ``now``; a list never loaded is stale."""
    max_age = settings.hotlists.max_age_hours
    upgrade_catalog(settings.catalog_url)
    with engine_for(settings.catalog_url).connect() as conn:
        status = list_status(conn, require_utc(now), timedelta(hours=max_age), [name])
    row = status.filter(pl.col("list_name") == name).row(0, named=True)
    age = row["age_seconds"]
    return Freshness(
        list_name=name,
        version=row["version"],
        loaded_at=row["loaded_at"],
        age_hours=None if age is None else round(age / 3600, 3),
        max_age_hours=max_age,
        stale=bool(row["stale"]),
    )


def stale_sources(settings: Settings, *, now: datetime) -> list[Freshness]:
    """The configured sources whose lists are stale at ``now`` (older than
    ``hotlists.max_age_hours``, or never loaded)."""
    found = [list_freshness(settings, s.name, now=now) for s in settings.hotlists.sources]
    return [f for f in found if f.stale]
