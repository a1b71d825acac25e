"""The retention pass runs every ``retention.nightly_cron`` (UTC)."""

from __future__ import annotations

import dagster as dg

from assets.partitions import utc_job_schedule
from assets.retention.jobs import retention_job
from pipelines.config import RetentionSettings

__all__ = ["build_retention_schedules"]


def build_retention_schedules(settings: RetentionSettings) -> list[dg.ScheduleDefinition]:
    return [utc_job_schedule(retention_job, settings.nightly_cron)]
