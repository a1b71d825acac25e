"""Dagster asset keys of the lake tables, derived from their one declaration
(``pipelines.storage.lake``): ``[domain, table]``."""

import dagster as dg

from pipelines.storage.lake import (
    DETECTIONS,
    IMAGES,
    READS,
    RECOGNITION_ERRORS,
    SIGHTINGS,
    LakeTable,
)

__all__ = [
    "DETECTIONS_KEY",
    "ERRORS_KEY",
    "IMAGES_KEY",
    "READS_KEY",
    "SIGHTINGS_KEY",
    "table_key",
]


def table_key(table: LakeTable) -> dg.AssetKey:
    return dg.AssetKey(list(table.asset_path))


IMAGES_KEY = table_key(IMAGES)
DETECTIONS_KEY = table_key(DETECTIONS)
READS_KEY = table_key(READS)
ERRORS_KEY = table_key(RECOGNITION_ERRORS)
SIGHTINGS_KEY = table_key(SIGHTINGS)
