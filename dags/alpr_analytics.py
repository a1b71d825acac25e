"""Pseudonymize the reads of the capture dates whose ``reads`` partitions were just written: the
``sightings`` table of crime analysis (PP-9126 B.8), plates replaced by a keyed hash.

Triggered by the ``recognition.reads`` Asset; trigger it by hand with a capture date to rebuild one
day (the day's sightings are replaced, never appended to). Same ``pipelines`` call as Dagster's
``analytics/sightings`` and ``alpr analytics build``.
"""

from __future__ import annotations

from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from dags._assets import reads, sightings


@dag(
    dag_id=Path(__file__).stem,
    schedule=[reads],
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["alpr", "analytics"],
    default_args={"retries": 1},
    params={
        "capture_date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Capture date",
            description="Pseudonymize this capture date (YYYY-MM-DD, UTC) instead of the "
            "triggering ones.",
        )
    },
    doc_md=__doc__,
)
def alpr_analytics() -> None:
    @task
    def capture_dates() -> list[str]:
        """The date given by hand, else the dates of the triggering reads events."""
        context = get_current_context()
        given = context["params"].get("capture_date")
        if given:
            return [str(given)]
        events = context["triggering_asset_events"][reads]
        return sorted({e.extra["capture_date"] for e in events if "capture_date" in e.extra})

    @task(outlets=[sightings], map_index_template="{{ task.op_kwargs['day'] }}")
    def pseudonymize(day: str) -> dict[str, object]:
        """Replace one capture date's sightings."""
        from datetime import date

        from pipelines.analytics import build_sightings
        from pipelines.config import load_settings

        report = build_sightings(load_settings(), date.fromisoformat(day))
        return {"capture_date": day, "rows": report.rows, "key_version": report.key_version}

    pseudonymize.expand(day=capture_dates())


alpr_analytics()
