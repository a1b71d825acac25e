"""Every source refreshed daily before the morning shift; freshness checked hourly."""

from __future__ import annotations

import dagster as dg

from assets.hotlists.jobs import hotlist_checks_job, hotlists_job
from pipelines.config import HotlistSettings

__all__ = ["build_hotlist_schedules"]


def build_hotlist_schedules(settings: HotlistSettings) -> list[dg.ScheduleDefinition]:
    return [
        dg.ScheduleDefinition(
            name="hotlists_job_schedule",
            job=hotlists_job,
            cron_schedule=settings.refresh_cron,
            execution_timezone=settings.refresh_timezone,
        ),
        dg.ScheduleDefinition(
            name="hotlist_checks_job_schedule",
            job=hotlist_checks_job,
            cron_schedule=settings.check_cron,
            execution_timezone="UTC",
        ),
    ]
