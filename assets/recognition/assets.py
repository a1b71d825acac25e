"""Recognition assets: plate detections and reads of each capture date, from ``ingest/images``."""

from collections.abc import Iterator

import dagster as dg

from assets.partitions import RECOGNITION_GROUP, daily_partitions
from assets.resources import AlprSettings
from pipelines.recognition.partition import recognize_partition

detections_key = dg.AssetKey(["recognition", "detections"])
reads_key = dg.AssetKey(["recognition", "reads"])
errors_key = dg.AssetKey(["recognition", "recognition_errors"])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            detections_key,
            deps=[["ingest", "images"]],
            kinds={"delta", "yolo"},
            description="Plate boxes found by the project's YOLO detector.",
        ),
        dg.AssetSpec(
            reads_key,
            deps=[detections_key],
            kinds={"delta", "ocr"},
            description="Plate text, confidences and alternatives per detection.",
        ),
        dg.AssetSpec(
            errors_key,
            deps=[["ingest", "images"]],
            kinds={"delta"},
            description="Images that could not be fetched or decoded, with the error.",
        ),
    ],
    partitions_def=daily_partitions,
    group_name=RECOGNITION_GROUP,
)
def recognition_tables(
    context: dg.AssetExecutionContext, alpr: AlprSettings
) -> Iterator[dg.MaterializeResult]:
    day = context.partition_time_window.start.date()
    report = recognize_partition(alpr.load(), day, context.run_id)
    versions = report.model_versions
    yield dg.MaterializeResult(
        asset_key=detections_key,
        metadata={"dagster/row_count": report.plates, "images": report.images, **versions},
    )
    yield dg.MaterializeResult(
        asset_key=reads_key,
        metadata={
            "dagster/row_count": report.plates,
            "plates_read": report.read,
            "mean_confidence": round(report.mean_confidence, 4),
            "images_per_second": round(report.images_per_second, 2),
            **versions,
        },
    )
    yield dg.MaterializeResult(asset_key=errors_key, metadata={"dagster/row_count": report.failed})
