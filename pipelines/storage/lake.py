"""The Delta tables of the lake, each declared here once: name, schema, partition column, where it
lives, the domain that writes it, and its Great Expectations suite.

Ingestion, recognition, retention, the orchestrators (a table's Dagster asset key and Airflow
Asset are derived from ``domain`` and ``name``) and the data-quality suites all read these
declarations, so a table is renamed or re-typed in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines.config import S3Settings

__all__ = [
    "DETECTIONS",
    "IMAGES",
    "LAKE_TABLES",
    "PARTITION_COLUMN",
    "PLATE_INDEX",
    "READS",
    "RECOGNITION_ERRORS",
    "SIGHTINGS",
    "LakeTable",
    "lake_table",
]

PARTITION_COLUMN = "capture_date"  # UTC date of capture; one partition a day
_UTC = pl.Datetime("us", "UTC")


# Compared and hashed by identity: each table is declared once (a polars Schema is unhashable).
@dataclass(frozen=True, eq=False)
class LakeTable:
    domain: str  # the pipelines/ package that writes it; the first part of its asset key
    name: str
    schema: pl.Schema
    key_columns: tuple[str, ...]  # what identifies a row (unique within the table)
    suite: str | None = None  # expectations/<suite>.json validates each written partition
    partition_column: str = PARTITION_COLUMN

    def __post_init__(self) -> None:
        missing = [c for c in (*self.key_columns, self.partition_column) if c not in self.schema]
        if missing:
            raise ValueError(f"table {self.name!r} declares columns it lacks: {missing}")

    @property
    def asset_path(self) -> tuple[str, str]:
        """``[domain, table]``: its Dagster asset key; ``domain.table`` names its Airflow Asset."""
        return (self.domain, self.name)

    @property
    def qualified_name(self) -> str:
        return f"{self.domain}.{self.name}"

    def uri(self, s3: S3Settings) -> str:
        """Where the table lives: ``s3://<lake bucket>/tables/<name>``."""
        return f"s3://{s3.lake_bucket}/tables/{self.name}"


IMAGES = LakeTable(
    domain="ingest",
    name="images",
    schema=pl.Schema(
        {  # type: ignore[arg-type]  # polars' stubs do not type a dict of dtype instances
            "image_id": pl.String,
            "bucket": pl.String,
            "key": pl.String,
            "etag": pl.String,
            "size_bytes": pl.Int64,
            "sha256": pl.String,
            "image_format": pl.String,
            "width": pl.Int32,
            "height": pl.Int32,
            "camera_id": pl.String,
            "captured_at": _UTC,
            "capture_time_source": pl.String,
            "latitude": pl.Float64,
            "longitude": pl.Float64,
            "heading": pl.Float64,
            "lane": pl.Int32,
            "sidecar_key": pl.String,
            "run_id": pl.String,
            "registered_at": _UTC,
            "capture_date": pl.Date,
        }
    ),
    key_columns=("image_id",),
    suite="images",
)
DETECTIONS = LakeTable(
    domain="recognition",
    name="detections",
    schema=pl.Schema(
        {  # type: ignore[arg-type]
            "detection_id": pl.String,
            "image_id": pl.String,
            "camera_id": pl.String,
            "captured_at": _UTC,
            "x1": pl.Float32,
            "y1": pl.Float32,
            "x2": pl.Float32,
            "y2": pl.Float32,
            "score": pl.Float32,
            "detector_sha256": pl.String,
            "detector_backend": pl.String,
            "crop_key": pl.String,
            "run_id": pl.String,
            "capture_date": pl.Date,
        }
    ),
    key_columns=("detection_id",),
    suite="detections",
)
READS = LakeTable(
    domain="recognition",
    name="reads",
    schema=pl.Schema(
        {  # type: ignore[arg-type]
            "read_id": pl.String,
            "detection_id": pl.String,
            "image_id": pl.String,
            "camera_id": pl.String,
            "captured_at": _UTC,
            "plate_text": pl.String,
            "confidence": pl.Float32,
            "char_confidences": pl.List(pl.Float32),
            "candidates": pl.List(pl.Struct({"text": pl.String, "score": pl.Float32})),
            "jurisdiction": pl.String,
            "detector_sha256": pl.String,
            "ocr_model": pl.String,
            "run_id": pl.String,
            "capture_date": pl.Date,
        }
    ),
    key_columns=("read_id",),
    suite="reads",
)
RECOGNITION_ERRORS = LakeTable(
    domain="recognition",
    name="recognition_errors",
    schema=pl.Schema(
        {
            "image_id": pl.String,
            "key": pl.String,
            "error": pl.String,
            "run_id": pl.String,
            "capture_date": pl.Date,
        }
    ),
    key_columns=("image_id",),
)
# The search's plate index (pipelines/search/index.py): what a search returns of each read with a
# plate text (the read's result columns and its image's place), sorted by the look-alike fold of
# the plate and partitioned by month, so that a plate searched over a year opens a file a month
# instead of every day of ``reads``. Derived from ``reads`` and ``images``; each day's rows come
# with a row that names the files they were made from (``plate_key`` "", ``source``), and a day
# whose files changed since is searched in ``reads`` instead. Not in LAKE_TABLES (the tables of
# a partition a day): retention removes its days with theirs (pipelines/retention/run.py).
PLATE_INDEX = LakeTable(
    domain="search",
    name="plate_index",
    schema=pl.Schema(
        {  # type: ignore[arg-type]
            "plate_key": pl.String,  # pipelines.matching._keys.lookalike_key of plate_text
            "read_id": pl.String,
            "captured_at": _UTC,
            "camera_id": pl.String,
            "plate_text": pl.String,
            "jurisdiction": pl.String,
            "confidence": pl.Float32,
            "image_id": pl.String,
            "detection_id": pl.String,
            "capture_date": pl.Date,
            "image_bucket": pl.String,
            "image_key": pl.String,
            "latitude": pl.Float64,
            "longitude": pl.Float64,
            "heading": pl.Float64,
            "source": pl.String,  # on a day's coverage row only: its reads and images files
            "index_month": pl.Date,  # the first day of capture_date's month
        }
    ),
    key_columns=("capture_date", "read_id"),
    partition_column="index_month",
)
# Reads with plates pseudonymized (PP-9126 B.8, B.9): what crime analysts query, derived from
# ``reads`` per capture date by pipelines/analytics. No plate text, image or position: a keyed
# hash of the plate, the camera and the time.
SIGHTINGS = LakeTable(
    domain="analytics",
    name="sightings",
    schema=pl.Schema(
        {  # type: ignore[arg-type]
            "sighting_id": pl.String,  # keyed hash of the read id: no link back to the read
            "pseudonym": pl.String,  # keyed hash of the plate text
            "key_version": pl.Int32,  # analytics.key_version of the key that made both
            "key_id": pl.String,  # that key's fingerprint (a keyed hash of a constant)
            "camera_id": pl.String,
            "captured_at": _UTC,
            "hour_of_day": pl.Int8,  # local hour (analytics.timezone)
            "jurisdiction": pl.String,
            "confidence": pl.Float32,
            "capture_date": pl.Date,
        }
    ),
    key_columns=("sighting_id",),
)
LAKE_TABLES = (IMAGES, DETECTIONS, READS, RECOGNITION_ERRORS, SIGHTINGS)


def lake_table(name: str) -> LakeTable:
    """The declaration of table ``name``; unknown names list the valid ones."""
    for table in LAKE_TABLES:
        if table.name == name:
            return table
    raise KeyError(f"no lake table {name!r}; valid names: {[t.name for t in LAKE_TABLES]}")
