"""Match the reads of the capture dates whose ``reads`` partitions were just written against the
active hotlists, raising alerts for a person to confirm visually (PP-9126 C.1-C.3).

Triggered by the ``recognition.reads`` Asset; trigger it by hand with a capture date to re-run one
day (idempotent: an alert already raised is never raised again).
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from dags._assets import alerts, reads


@dag(
    dag_id=Path(__file__).stem,
    schedule=[reads],
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["alpr", "matching"],
    default_args={"retries": 1},
    params={
        "capture_date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Capture date",
            description="Match this capture date (YYYY-MM-DD, UTC) instead of the triggering ones.",
        )
    },
    doc_md=__doc__,
)
def alpr_matching() -> None:
    @task
    def capture_dates() -> list[str]:
        """The date given by hand, else the dates of the triggering reads events."""
        context = get_current_context()
        given = context["params"].get("capture_date")
        if given:
            return [str(given)]
        events = context["triggering_asset_events"][reads]
        return sorted({e.extra["capture_date"] for e in events if "capture_date" in e.extra})

    @task(map_index_template="{{ task.op_kwargs['day'] }}")
    def match(day: str) -> dict[str, object]:
        """Match one capture date's reads and raise its alerts."""
        from datetime import date

        from pipelines.config import load_settings
        from pipelines.matching.run import match_partition

        dag_run = get_current_context()["dag_run"]
        report = match_partition(
            load_settings(), date.fromisoformat(day), now=dag_run.run_after, run_id=dag_run.run_id
        )
        return report.summary()

    @task(
        outlets=[alerts],
        retries=0,
        map_index_template="{{ task.op_kwargs['matched']['capture_date'] }}",
    )
    def validate_alerts(matched: dict[str, object]) -> dict[str, object]:
        """Validate the day's alerts against expectations/alerts.json."""
        from dags._quality import validate_day

        return validate_day("alerts", str(matched["capture_date"]))

    validate_alerts.expand(matched=match.expand(day=capture_dates()))


alpr_matching()
