"""Lock the audit chain's head (its newest entry's id and hash) in the WORM evidence bucket every
``audit.head_cron`` (UTC), so that a truncated audit log is detected (PP-9126 C.7).

Same ``pipelines`` call as Dagster's ``audit_head_job`` and ``alpr audit head``.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable

from pipelines.config import load_settings


@dag(
    dag_id=Path(__file__).stem,
    schedule=CronTriggerTimetable(load_settings().audit.head_cron, timezone="UTC"),
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["alpr", "audit"],
    default_args={"retries": 2},
    doc_md=__doc__,
)
def alpr_audit() -> None:
    @task
    def chain_head() -> dict[str, int]:
        """The head written (its event id; 0 while the log is empty)."""
        from pipelines.audit.heads import write_chain_head
        from pipelines.storage.catalog import engine_for

        settings, now = load_settings(), get_current_context()["dag_run"].run_after
        with engine_for(settings.catalog_url).connect() as conn:
            head = write_chain_head(settings, conn, now=now)
        return {"event_id": head.event_id if head else 0}

    chain_head()


alpr_audit()
