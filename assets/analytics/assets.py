"""``analytics/sightings``: each capture date's reads with plates pseudonymized (PP-9126 B.8)."""

import dagster as dg

from assets._keys import READS_KEY, SIGHTINGS_KEY
from assets.partitions import ANALYTICS_GROUP, daily_partitions
from assets.resources import AlprSettings


@dg.asset(
    key=SIGHTINGS_KEY,
    deps=[READS_KEY],
    partitions_def=daily_partitions,
    group_name=ANALYTICS_GROUP,
    kinds={"delta"},
    description="Reads with a keyed hash (HMAC) for the plate: no plate text, image or position.",
)
def sightings(context: dg.AssetExecutionContext, alpr: AlprSettings) -> dg.MaterializeResult:
    from pipelines.analytics import build_sightings

    report = build_sightings(alpr.load(), context.partition_time_window.start.date())
    return dg.MaterializeResult(
        metadata={"dagster/row_count": report.rows, "key_version": report.key_version}
    )
