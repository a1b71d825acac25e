"""Ingestion assets: the ledger of camera objects, and the ``images`` table partitioned by day."""

import dagster as dg

from assets._keys import IMAGES_KEY
from assets._time import ReferenceTime
from assets.partitions import INGEST_GROUP, daily_partitions
from assets.resources import AlprSettings
from pipelines import ingest


@dg.asset(
    key=["ingest", "camera_objects"],
    group_name=INGEST_GROUP,
    kinds={"s3", "postgres"},
    description="Every camera object seen in the drops bucket, registered exactly once "
    "(ingested, or quarantined with its reason).",
)
def camera_objects(
    context: dg.AssetExecutionContext, config: ReferenceTime, alpr: AlprSettings
) -> dg.MaterializeResult:
    # The reference time of the plausibility checks: capture times after it, or more than
    # ingest.max_age_days before it, are quarantined.
    report = ingest.register_drops(alpr.load(), context.run_id, as_of=config.now())
    return dg.MaterializeResult(
        metadata={
            "listed": report.listed,
            "already_seen": report.already_seen,
            "ingested": report.ingested,
            "quarantined": report.quarantined,
            "quarantined_by_reason": report.by_reason,
            "bytes": dg.MetadataValue.int(report.bytes),
            "partitions_to_write": sorted(str(d) for d in report.capture_dates),
        }
    )


@dg.asset(
    key=IMAGES_KEY,
    group_name=INGEST_GROUP,
    partitions_def=daily_partitions,
    deps=[camera_objects],
    kinds={"delta", "polars"},
    description="Ingested camera images by capture date (Delta table in the lake bucket).",
)
def images(context: dg.AssetExecutionContext, alpr: AlprSettings) -> dg.MaterializeResult:
    day = context.partition_time_window.start.date()
    written = ingest.write_images_partition(alpr.load(), day)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": written.rows,
            "bytes": dg.MetadataValue.int(written.bytes),
            "cameras": written.cameras,
        }
    )
