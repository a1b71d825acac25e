"""Staleness of each configured list (PP-9126 B.4: refreshed at least daily): fails loudly."""

from collections.abc import Iterable

import dagster as dg

from assets._time import ReferenceTime
from assets.hotlists.assets import hotlist_key
from assets.resources import AlprSettings
from pipelines.hotlists.watch import list_freshness

__all__ = ["build_freshness_check", "build_freshness_checks"]


def build_freshness_check(source: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=hotlist_key(source),
        name="hotlist_entries_freshness",
        description="The active version is at most hotlists.max_age_hours old; alerts raised "
        "meanwhile carry the list's age.",
    )
    def _freshness(config: ReferenceTime, alpr: AlprSettings) -> dg.AssetCheckResult:
        fresh = list_freshness(alpr.load(), source, now=config.now())
        return dg.AssetCheckResult(
            passed=not fresh.stale,
            severity=dg.AssetCheckSeverity.ERROR,
            description=None if not fresh.stale else f"hotlist {source!r} is stale",
            metadata={
                "version": fresh.version if fresh.version is not None else "never loaded",
                "loaded_at": fresh.loaded_at.isoformat() if fresh.loaded_at else "never",
                "age_hours": fresh.age_hours if fresh.age_hours is not None else -1.0,
                "max_age_hours": fresh.max_age_hours,
            },
        )

    return _freshness


def build_freshness_checks(sources: Iterable[str]) -> list[dg.AssetChecksDefinition]:
    return [build_freshness_check(name) for name in sources]
