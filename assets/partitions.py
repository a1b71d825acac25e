"""Partitions and groups, defined once: daily by capture date (UTC), Dagster's YYYY-MM-DD keys."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

__all__ = [
    "ANALYTICS_GROUP",
    "HOTLISTS_GROUP",
    "INGEST_GROUP",
    "MATCHING_GROUP",
    "QUALITY_GROUP",
    "RECOGNITION_GROUP",
    "daily_partitions",
    "partition_written_sensor",
    "utc_job_schedule",
]

# Earliest capture date the tables accept; older drops are refused by ingest.max_age_days anyway.
daily_partitions = dg.DailyPartitionsDefinition(start_date="2025-01-01", timezone="UTC")

INGEST_GROUP = "ingest"
RECOGNITION_GROUP = "recognition"
HOTLISTS_GROUP = "hotlists"
MATCHING_GROUP = "matching"
QUALITY_GROUP = "quality"
ANALYTICS_GROUP = "analytics"


def partition_written_sensor(
    name: str, asset_key: dg.AssetKey, job: dg.UnresolvedAssetJobDefinition
) -> dg.SensorDefinition:
    """A sensor that runs ``job`` for every partition of ``asset_key`` materialised, once per
    materialisation (the next daily step follows the one before it)."""

    @dg.asset_sensor(name=name, asset_key=asset_key, job=job)
    def _sensor(
        context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry
    ) -> Iterator[dg.RunRequest | dg.SkipReason]:
        materialization = asset_event.asset_materialization
        if materialization is None or materialization.partition is None:
            yield dg.SkipReason(f"{asset_key.to_user_string()} materialised without a partition")
            return
        yield dg.RunRequest(
            run_key=f"{materialization.partition}:{asset_event.run_id}",
            partition_key=materialization.partition,
        )

    return _sensor


def utc_job_schedule(job: dg.UnresolvedAssetJobDefinition, cron: str) -> dg.ScheduleDefinition:
    """``<job>_schedule``: ``job`` at the configured cron, read in UTC."""
    return dg.ScheduleDefinition(
        name=f"{job.name}_schedule", job=job, cron_schedule=cron, execution_timezone="UTC"
    )
