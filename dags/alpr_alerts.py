"""Escalate the pending alerts nobody reviewed within ``alerts.review_minutes`` and expire those
older than ``alerts.expire_hours``, every ``alerts.sweep_cron`` (UTC), as the service account.

Same ``pipelines`` call as Dagster's ``alerts_sweep_job`` and ``alpr alerts sweep``.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from pipelines.config import load_settings


@dag(
    dag_id=Path(__file__).stem,
    schedule=CronTriggerTimetable(load_settings().alerts.sweep_cron, timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["alpr", "alerts"],
    default_args={"retries": 1},
    doc_md=__doc__,
)
def alpr_alerts() -> None:
    @task
    def sweep() -> dict[str, int]:
        """Escalate, then expire; returns the counts (ids and plates stay in the catalog)."""
        from pipelines.alerts import AlertService

        now = get_current_context()["dag_run"].run_after
        swept = AlertService(load_settings()).sweep(now)
        return {action: len(ids) for action, ids in swept.items()}

    sweep()


alpr_alerts()
