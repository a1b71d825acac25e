"""One asset per configured hotlist source (``[[hotlists.sources]]``): its active version.

The sources are read from the settings when the definitions load, so adding a source to
``alpr.toml`` adds its asset after a reload; each run reads the settings again for the rest.
"""

from collections.abc import Iterable
from typing import Any

import dagster as dg

from assets._time import ReferenceTime
from assets.partitions import HOTLISTS_GROUP
from assets.resources import AlprSettings
from pipelines.hotlists.watch import refresh_named

__all__ = ["build_hotlist_asset", "build_hotlist_assets", "hotlist_key"]


def hotlist_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["hotlists", source])


def build_hotlist_asset(source: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=hotlist_key(source),
        group_name=HOTLISTS_GROUP,
        kinds={"postgres"},
        description=f"The active version of hotlist {source!r}: fetched, validated and "
        "activated atomically as the service account (a rejected file fails the run and the "
        "previous version stays active).",
    )
    def _hotlist(
        context: dg.AssetExecutionContext, config: ReferenceTime, alpr: AlprSettings
    ) -> dg.MaterializeResult:
        outcome = refresh_named(alpr.load(), source, now=config.now())
        counts = {"added": 0, "removed": 0, "changed": 0, "skipped": 0}
        summary: dict[str, Any] = {**counts, **outcome.summary()}  # unchanged: no new version
        summary.pop("source", None)
        if "entries" in summary:
            summary["dagster/row_count"] = summary["entries"]
        return dg.MaterializeResult(metadata=summary)

    return _hotlist


def build_hotlist_assets(sources: Iterable[str]) -> list[dg.AssetsDefinition]:
    return [build_hotlist_asset(name) for name in sources]
