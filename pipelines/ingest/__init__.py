"""Ingestion of camera drops from S3 into the ledger and the ``images`` Delta table."""

from __future__ import annotations

from pipelines.ingest.images import (
    PartitionWrite,
    ingest_drops,
    pending_image_partitions,
    write_images_partition,
)
from pipelines.ingest.quarantine import QuarantineReason
from pipelines.ingest.register import (
    IngestReport,
    first_unregistered,
    register_drops,
)
from pipelines.ingest.status import ingest_counts, recent_runs

__all__ = [
    "IngestReport",
    "PartitionWrite",
    "QuarantineReason",
    "first_unregistered",
    "ingest_counts",
    "ingest_drops",
    "pending_image_partitions",
    "recent_runs",
    "register_drops",
    "write_images_partition",
]
