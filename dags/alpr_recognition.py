"""Detect and read plates of the capture dates whose ``images`` partitions were just written.

Triggered by the ``ingest.images`` Asset; trigger it by hand with a capture date to re-run one
day (the day's outputs are replaced, never appended to).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow.sdk import Param, dag, get_current_context, task

from dags._assets import detections, images, reads, recognition_errors


@dag(
    dag_id=Path(__file__).stem,
    schedule=[images],
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["alpr", "recognition"],
    default_args={"retries": 1},
    params={
        "capture_date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Capture date",
            description="Recognize this capture date (YYYY-MM-DD, UTC) instead of the triggering ones.",
        )
    },
    doc_md=__doc__,
)
def alpr_recognition() -> None:
    @task
    def capture_dates() -> list[str]:
        """The date given by hand, else the dates of the triggering images events."""
        context = get_current_context()
        given = context["params"].get("capture_date")
        if given:
            return [str(given)]
        events = context["triggering_asset_events"][images]
        return sorted({e.extra["capture_date"] for e in events if "capture_date" in e.extra})

    @task(map_index_template="{{ task.op_kwargs['day'] }}")
    def recognize(day: str) -> dict[str, float | int | str]:
        """Replace one capture date's detections, reads and recognition errors."""
        from datetime import date

        from pipelines.config import load_settings
        from pipelines.recognition.partition import recognize_partition

        run_id = get_current_context()["dag_run"].run_id
        report = recognize_partition(load_settings(), date.fromisoformat(day), run_id)
        return {
            "capture_date": day,
            "images": report.images,
            "failed": report.failed,
            "plates": report.plates,
            "images_per_second": round(report.images_per_second, 2),
        }

    # The day's outputs update their Assets (and so trigger matching) only once both suites
    # pass: a failed one stops the branch here.
    @task(
        outlets=[detections, reads, recognition_errors],
        retries=0,
        map_index_template="{{ task.op_kwargs['recognized']['capture_date'] }}",
    )
    def validate_outputs(recognized: dict[str, float | int | str]) -> dict[str, object]:
        """Validate the day's detections and reads against their suites."""
        from dags._quality import validate_day

        day = str(recognized["capture_date"])
        counts: dict[str, object] = {t: validate_day(t, day) for t in ("detections", "reads")}
        # Tells the matching DAG, which this asset event triggers, which date to match.
        get_current_context()["outlet_events"][reads].extra = {"capture_date": day}
        return counts

    validate_outputs.expand(recognized=recognize.expand(day=capture_dates()))


alpr_recognition()
