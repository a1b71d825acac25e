"""The chain head is written every ``audit.head_cron`` (UTC)."""

from __future__ import annotations

import dagster as dg

from assets.audit.jobs import audit_head_job
from pipelines.config import AuditSettings

__all__ = ["build_audit_schedules"]


def build_audit_schedules(settings: AuditSettings) -> list[dg.ScheduleDefinition]:
    return [
        dg.ScheduleDefinition(
            name="audit_head_job_schedule",
            job=audit_head_job,
            cron_schedule=settings.head_cron,
            execution_timezone="UTC",
        )
    ]
