"""Ingest camera drops from S3: register new objects exactly once, then rewrite their partitions.

The same ``pipelines.ingest`` functions as the Dagster assets; this file only adapts them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow.sdk import dag, get_current_context, task

from dags._assets import camera_objects, images


@dag(
    dag_id=Path(__file__).stem,
    schedule="5 * * * *",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["alpr", "ingest"],
    default_args={"retries": 2},
    doc_md=__doc__,
)
def alpr_ingest() -> None:
    @task(outlets=[camera_objects])
    def register_drops() -> list[str]:
        """Register new camera objects; return the capture dates whose partitions are stale."""
        from pipelines import ingest
        from pipelines.config import load_settings

        context = get_current_context()
        dag_run = context["dag_run"]
        settings = load_settings()
        report = ingest.register_drops(settings, dag_run.run_id, as_of=dag_run.run_after)
        print(
            f"listed={report.listed} ingested={report.ingested} "
            f"quarantined={report.quarantined} by_reason={report.by_reason}"
        )
        return [day.isoformat() for day in ingest.pending_image_partitions(settings)]

    @task(map_index_template="{{ task.op_kwargs['day'] }}")
    def write_images_partition(day: str) -> dict[str, int | str]:
        """Rewrite one capture date of the ``images`` table from the ledger."""
        from datetime import date

        from pipelines import ingest
        from pipelines.config import load_settings

        written = ingest.write_images_partition(load_settings(), date.fromisoformat(day))
        return {"capture_date": day, "rows": written.rows, "bytes": written.bytes}

    # Only a partition that passes its suite updates the Asset: a failed one stops here, and
    # recognition is never triggered for it.
    @task(
        outlets=[images],
        retries=0,
        map_index_template="{{ task.op_kwargs['written']['capture_date'] }}",
    )
    def validate_images(written: dict[str, int | str]) -> dict[str, object]:
        """Validate the partition just written against expectations/images.json."""
        from dags._quality import validate_day

        day = str(written["capture_date"])
        counts = validate_day("images", day)
        # Tells the recognition DAG, which this asset event triggers, which date to recognize.
        get_current_context()["outlet_events"][images].extra = {"capture_date": day}
        return counts

    validate_images.expand(written=write_images_partition.expand(day=register_drops()))


alpr_ingest()
