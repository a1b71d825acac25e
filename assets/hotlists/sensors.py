"""A new vendor file under a source's S3 prefix refreshes that source's asset."""

import dagster as dg

from assets.hotlists.assets import hotlist_key
from assets.hotlists.jobs import hotlists_job
from assets.resources import AlprSettings
from pipelines.hotlists.watch import pending_drops

__all__ = ["hotlist_drop_sensor"]


@dg.sensor(job=hotlists_job, minimum_interval_seconds=300)
def hotlist_drop_sensor(context: dg.SensorEvaluationContext, alpr: AlprSettings) -> dg.SensorResult:
    pending = pending_drops(alpr.load())
    if not pending:
        return dg.SensorResult(skip_reason="no new vendor file under any s3:// source")
    return dg.SensorResult(
        run_requests=[
            # Keyed by the object: a file that is rejected (or unchanged) is requested once.
            dg.RunRequest(run_key=f"{name}:{location}", asset_selection=[hotlist_key(name)])
            for name, location in sorted(pending.items())
        ]
    )
