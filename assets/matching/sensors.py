"""Match every reads partition written, and retro-match every list change."""

import dagster as dg

from assets._keys import READS_KEY
from assets.matching.jobs import matching_job, retro_matching_job
from assets.partitions import HOTLISTS_GROUP, partition_written_sensor

__all__ = ["hotlist_changes_sensor", "reads_updated_sensor"]

_RETRO_OP = "matching__retro_matching"


reads_updated_sensor = partition_written_sensor("reads_updated_sensor", READS_KEY, matching_job)


@dg.multi_asset_sensor(
    monitored_assets=dg.AssetSelection.groups(HOTLISTS_GROUP), job=retro_matching_job
)
def hotlist_changes_sensor(context: dg.MultiAssetSensorEvaluationContext) -> dg.SensorResult:
    """A hotlist version that added or removed entries: retro-match (and clear) it, once."""
    requests = []
    for key in context.asset_keys:
        records = list(context.materialization_records_for_key(key, limit=100))
        for record in records:
            meta = record.asset_materialization.metadata if record.asset_materialization else {}
            changed = sum(meta[k].value for k in ("added", "removed") if k in meta)  # type: ignore[misc]
            if "version" not in meta or not changed:
                continue  # unchanged file, or a version that only edited entries
            name, version = key.path[-1], int(meta["version"].value)  # type: ignore[arg-type]
            config = {"list_name": name, "version": version}
            requests.append(
                dg.RunRequest(
                    run_key=f"{name}:{version}",
                    run_config={"ops": {_RETRO_OP: {"config": config}}},
                )
            )
        if records:
            context.advance_cursor({key: records[-1]})
    if not requests:
        return dg.SensorResult(skip_reason="no hotlist version added or removed entries")
    return dg.SensorResult(run_requests=requests)
