"""Delete for good what is older than its data class's period and not held (PP-9126 C.4.a,
C.4.b), every ``retention.nightly_cron`` (UTC), as the service account; the run's logical time
(``run_after``) is the pass's reference time. Trigger it with ``dry_run`` to count only.

Same ``pipelines`` call as Dagster's ``retention_job`` and ``alpr retention run``.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from pipelines.config import load_settings


@dag(
    dag_id=Path(__file__).stem,
    schedule=CronTriggerTimetable(load_settings().retention.nightly_cron, timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["alpr", "retention"],
    default_args={"retries": 1},
    params={
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Count what would be deleted, per data class; delete nothing.",
        )
    },
    doc_md=__doc__,
)
def alpr_retention() -> None:
    @task
    def retention() -> dict[str, dict[str, int]]:
        """One pass; returns the counts per data class (the per-day report is in the audit log)."""
        from pipelines.audit.users import SERVICE_USER, service_user
        from pipelines.retention import run_retention
        from pipelines.storage.catalog import engine_for, upgrade_catalog

        context = get_current_context()
        settings, now = load_settings(), context["dag_run"].run_after
        upgrade_catalog(settings.catalog_url)
        with engine_for(settings.catalog_url).begin() as conn:
            service_user(conn, now=now)
        report = run_retention(
            settings, as_of=now, dry_run=bool(context["params"]["dry_run"]), actor=SERVICE_USER
        )
        return {
            name: {"deleted": c.deleted, "held": c.held, "objects": c.objects}
            for name, c in report.classes.items()
        }

    retention()


alpr_retention()
