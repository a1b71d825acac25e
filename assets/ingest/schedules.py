"""Schedules: registration every hour, and yesterday's images partition rewritten nightly."""

from __future__ import annotations

import dagster as dg

from assets.ingest.jobs import images_job, ingest_job

ingest_job_schedule = dg.ScheduleDefinition(
    job=ingest_job, cron_schedule="5 * * * *", execution_timezone="UTC"
)
# A safety net behind the sensor: rewriting a partition that is current changes nothing.
images_job_schedule = dg.build_schedule_from_partitioned_job(
    images_job, hour_of_day=1, minute_of_hour=15
)
