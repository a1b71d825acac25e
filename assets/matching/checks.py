"""A day's alert count against the trailing baseline: a jump or a drop is worth a look."""

import dagster as dg

from assets.matching.assets import ALERTS_KEY
from assets.partitions import daily_partitions
from assets.resources import AlprSettings
from pipelines.matching.run import match_volume

__all__ = ["alerts_match_volume"]


@dg.asset_check(
    asset=ALERTS_KEY,
    name="alerts_match_volume",
    partitions_def=daily_partitions,
    description="Alerts on the day's reads within matching.volume_factor of the mean of the "
    "matching.volume_baseline_days days before it.",
)
def alerts_match_volume(
    context: dg.AssetCheckExecutionContext, alpr: AlprSettings
) -> dg.AssetCheckResult:
    volume = match_volume(alpr.load(), context.partition_time_window.start.date())
    return dg.AssetCheckResult(
        passed=volume.passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "count": volume.count,
            "baseline": round(volume.baseline, 3),
            "baseline_days": volume.baseline_days,
            "days_with_alerts": volume.days_with_alerts,
            "factor": volume.factor,
        },
    )
