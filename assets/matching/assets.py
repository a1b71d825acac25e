"""Matching assets: each capture date's alerts, downstream of its reads and of every hotlist, and
the retro-matching that a list change starts."""

from collections.abc import Iterable

import dagster as dg

from assets._keys import READS_KEY
from assets._time import ReferenceTime
from assets.hotlists.assets import hotlist_key
from assets.partitions import MATCHING_GROUP, daily_partitions
from assets.resources import AlprSettings
from pipelines.matching.run import match_partition, retro_match_version

__all__ = ["ALERTS_KEY", "RETRO_KEY", "RetroConfig", "build_matching_assets"]

ALERTS_KEY = dg.AssetKey(["matching", "alerts"])
RETRO_KEY = dg.AssetKey(["matching", "retro_matching"])


class RetroConfig(ReferenceTime):
    """The list version whose change is retro-matched (set by ``hotlist_changes_sensor``)."""

    list_name: str
    version: int


def build_matching_assets(sources: Iterable[str]) -> list[dg.AssetsDefinition]:
    hotlists = [hotlist_key(name) for name in sources]

    @dg.asset(
        key=ALERTS_KEY,
        group_name=MATCHING_GROUP,
        partitions_def=daily_partitions,
        deps=[READS_KEY, *hotlists],
        kinds={"polars", "postgres"},
        description="Alerts raised on a capture date's reads by the hotlists active at the run "
        "(duplicates suppressed; each alert awaits a person's visual confirmation).",
    )
    def alerts(
        context: dg.AssetExecutionContext, config: ReferenceTime, alpr: AlprSettings
    ) -> dg.MaterializeResult:
        day = context.partition_time_window.start.date()
        report = match_partition(alpr.load(), day, now=config.now(), run_id=context.run_id)
        return dg.MaterializeResult(
            metadata={"dagster/row_count": report.alerts_raised, **report.summary()}
        )

    @dg.asset(
        key=RETRO_KEY,
        group_name=MATCHING_GROUP,
        deps=hotlists,
        kinds={"polars", "postgres"},
        description="A list change applied to what is stored: pending alerts on removed entries "
        "cleared, reads within retention matched against the added entries.",
    )
    def retro_matching(config: RetroConfig, alpr: AlprSettings) -> dg.MaterializeResult:
        report = retro_match_version(
            alpr.load(), config.list_name, config.version, now=config.now()
        )
        return dg.MaterializeResult(metadata=report.summary())

    return [alerts, retro_matching]
