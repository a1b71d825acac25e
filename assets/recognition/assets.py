"""Recognition assets: plate detections and reads of each capture date, from ``ingest/images``."""

from collections.abc import Iterator

import dagster as dg

from assets._keys import DETECTIONS_KEY, ERRORS_KEY, IMAGES_KEY, READS_KEY
from assets.partitions import RECOGNITION_GROUP, daily_partitions
from assets.resources import AlprSettings
from pipelines.recognition.partition import recognize_partition


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            DETECTIONS_KEY,
            deps=[IMAGES_KEY],
            kinds={"delta", "yolo"},
            description="Plate boxes found by the project's YOLO detector.",
        ),
        dg.AssetSpec(
            READS_KEY,
            deps=[DETECTIONS_KEY],
            kinds={"delta", "ocr"},
            description="Plate text, confidences and alternatives per detection.",
        ),
        dg.AssetSpec(
            ERRORS_KEY,
            deps=[IMAGES_KEY],
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
        asset_key=DETECTIONS_KEY,
        metadata={"dagster/row_count": report.plates, "images": report.images, **versions},
    )
    yield dg.MaterializeResult(
        asset_key=READS_KEY,
        metadata={
            "dagster/row_count": report.plates,
            "plates_read": report.read,
            "mean_confidence": round(report.mean_confidence, 4),
            "images_per_second": round(report.images_per_second, 2),
            **versions,
        },
    )
    yield dg.MaterializeResult(asset_key=ERRORS_KEY, metadata={"dagster/row_count": report.failed})
