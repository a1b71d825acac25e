"""Sensors: notice new camera drops, and images partitions that fell behind the ledger."""

import dagster as dg

from assets.ingest.jobs import images_job, ingest_job
from assets.resources import AlprSettings
from pipelines import ingest


@dg.sensor(jobs=[ingest_job, images_job], minimum_interval_seconds=120)
def camera_drop_sensor(context: dg.SensorEvaluationContext, alpr: AlprSettings) -> dg.SensorResult:
    settings = alpr.load()
    requests = []
    first_new = ingest.first_unregistered(settings)
    if first_new is not None:
        # Keyed by the first unregistered object: a tick during a running registration adds nothing.
        requests.append(dg.RunRequest(job_name=ingest_job.name, run_key=f"drop:{first_new}"))
    for day, generation in ingest.pending_image_partitions(settings).items():
        requests.append(
            dg.RunRequest(
                job_name=images_job.name,
                partition_key=day.isoformat(),
                run_key=f"images:{day}:{generation}",
            )
        )
    if not requests:
        return dg.SensorResult(skip_reason="no new camera objects, all images partitions current")
    return dg.SensorResult(run_requests=requests)
