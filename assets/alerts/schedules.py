"""The alert sweep runs every ``alerts.sweep_cron`` (UTC)."""

from __future__ import annotations

import dagster as dg

from assets.alerts.jobs import alerts_sweep_job
from assets.partitions import utc_job_schedule
from pipelines.config import AlertSettings

__all__ = ["build_alerts_schedules"]


def build_alerts_schedules(settings: AlertSettings) -> list[dg.ScheduleDefinition]:
    return [utc_job_schedule(alerts_sweep_job, settings.sweep_cron)]
