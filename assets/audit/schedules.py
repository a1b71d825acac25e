"""The chain head is written every ``audit.head_cron`` (UTC)."""

from __future__ import annotations

import dagster as dg

from assets.audit.jobs import audit_head_job
from assets.partitions import utc_job_schedule
from pipelines.config import AuditSettings

__all__ = ["build_audit_schedules"]


def build_audit_schedules(settings: AuditSettings) -> list[dg.ScheduleDefinition]:
    return [utc_job_schedule(audit_head_job, settings.head_cron)]
