"""Airflow Assets of the project, defined once; names follow ``<domain>.<table>``. The lake
tables' Assets come from their declarations (``pipelines.storage.lake``)."""

from __future__ import annotations

from airflow.sdk import Asset

from pipelines.storage.lake import (
    DETECTIONS,
    IMAGES,
    READS,
    RECOGNITION_ERRORS,
    SIGHTINGS,
    LakeTable,
)


def _table_asset(table: LakeTable) -> Asset:
    return Asset(name=table.qualified_name, uri=f"alpr://{table.domain}/{table.name}")


camera_objects = Asset(name="ingest.camera_objects", uri="alpr://ingest/camera_objects")
images = _table_asset(IMAGES)
detections = _table_asset(DETECTIONS)
reads = _table_asset(READS)
recognition_errors = _table_asset(RECOGNITION_ERRORS)
sightings = _table_asset(SIGHTINGS)
hotlist_entries = Asset(name="hotlists.hotlist_entries", uri="alpr://hotlists/hotlist_entries")
alerts = Asset(name="matching.alerts", uri="alpr://matching/alerts")
