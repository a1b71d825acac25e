"""Partitions and groups, defined once: daily by capture date (UTC), Dagster's YYYY-MM-DD keys."""

from __future__ import annotations

import dagster as dg

__all__ = [
    "HOTLISTS_GROUP",
    "INGEST_GROUP",
    "MATCHING_GROUP",
    "RECOGNITION_GROUP",
    "daily_partitions",
]

# Earliest capture date the tables accept; older drops are refused by ingest.max_age_days anyway.
daily_partitions = dg.DailyPartitionsDefinition(start_date="2025-01-01", timezone="UTC")

INGEST_GROUP = "ingest"
RECOGNITION_GROUP = "recognition"
HOTLISTS_GROUP = "hotlists"
MATCHING_GROUP = "matching"
