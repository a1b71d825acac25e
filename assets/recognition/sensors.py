"""Recognise a capture date whenever its ``images`` partition is (re)materialised."""

from collections.abc import Iterator

import dagster as dg

from assets.recognition.jobs import recognition_job


@dg.asset_sensor(asset_key=dg.AssetKey(["ingest", "images"]), job=recognition_job)
def images_updated_sensor(
    context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    materialization = asset_event.asset_materialization
    if materialization is None or materialization.partition is None:
        yield dg.SkipReason("images materialised without a partition")
        return
    yield dg.RunRequest(
        run_key=f"{materialization.partition}:{asset_event.run_id}",
        partition_key=materialization.partition,
    )
