"""The alert sweep runs every ``alerts.sweep_cron`` (UTC)."""

from __future__ import annotations

import dagster as dg

from assets.alerts.jobs import alerts_sweep_job
from pipelines.config import AlertSettings

__all__ = ["build_alerts_schedules"]


def build_alerts_schedules(settings: AlertSettings) -> list[dg.ScheduleDefinition]:
    return [
        dg.ScheduleDefinition(
            name="alerts_sweep_job_schedule",
            job=alerts_sweep_job,
            cron_schedule=settings.sweep_cron,
            execution_timezone="UTC",
        )
    ]
