"""The retention pass runs every ``retention.nightly_cron`` (UTC)."""

from __future__ import annotations

import dagster as dg

from assets.retention.jobs import retention_job
from pipelines.config import RetentionSettings

__all__ = ["build_retention_schedules"]


def build_retention_schedules(settings: RetentionSettings) -> list[dg.ScheduleDefinition]:
    return [
        dg.ScheduleDefinition(
            name="retention_job_schedule",
            job=retention_job,
            cron_schedule=settings.nightly_cron,
            execution_timezone="UTC",
        )
    ]
