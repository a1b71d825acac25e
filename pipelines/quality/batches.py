"""What each suite validates: a batch of rows as written, with the columns its expectations judge
(links to other tables, boxes against their image) and the parameters it is judged with.

Cross-table checks are joins made here, in polars, so each becomes a boolean column that one
plain expectation reads (GX judges one frame at a time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.alerts.states import AlertState
from pipelines.alerts.tables import alerts
from pipelines.config import Settings
from pipelines.hotlists.schema import CCIC_LIST_TYPES, NCIC_LIST_CODES
from pipelines.hotlists.tables import hotlist_entries, hotlist_lists, hotlist_versions
from pipelines.ingest.register import load_camera_registry
from pipelines.matching.schema import MATCH_KINDS
from pipelines.quality.suites import load_suite, settings_parameters
from pipelines.recognition.plates import PLATE_ALPHABET
from pipelines.storage.catalog import engine_for
from pipelines.storage.lake import DETECTIONS, IMAGES, LAKE_TABLES, READS, LakeTable
from pipelines.storage.tables import scan_table, table_exists

__all__ = [
    "DAILY_SUITES",
    "Batch",
    "alerts_batch",
    "alerts_frame",
    "alerts_parameters",
    "day_batch",
    "detections_frame",
    "hotlist_batch",
    "hotlist_parameters",
    "images_frame",
    "lake_batch",
    "lake_parameters",
    "reads_frame",
]


@dataclass(frozen=True)
class Batch:
    suite: str  # expectations/<suite>.json
    label: str  # what was validated: a capture date, a list version
    frame: pl.DataFrame
    key_column: str  # names a failing row in the flags
    parameters: dict[str, Any] = field(default_factory=dict)
    capture_date: date | None = None


def _with_settings(settings: Settings, suite: str, own: dict[str, Any]) -> dict[str, Any]:
    names = frozenset().union(*(e.parameters for e in load_suite(suite).expectations))
    return {**settings_parameters(settings, names), **own}


def _scan(settings: Settings, table: LakeTable, day: date) -> pl.LazyFrame:
    if not table_exists(settings, table):
        return pl.LazyFrame(schema=table.schema)
    return scan_table(settings, table, day)


def images_frame(images: pl.LazyFrame) -> pl.LazyFrame:
    """``images`` with what its suite judges: the row's partition, its pixel count."""
    return images.with_columns(
        _in_partition=pl.col("captured_at").dt.date() == pl.col("capture_date"),
        _pixels=pl.col("width").cast(pl.Int64) * pl.col("height"),
    )


def detections_frame(detections: pl.LazyFrame, images: pl.LazyFrame) -> pl.LazyFrame:
    """``detections`` with its image found (``_image_known``) and its box inside it."""
    sizes = images.select("image_id", "width", "height", _image_known=pl.lit(True))
    inside = (
        (pl.col("x1") >= 0)
        & (pl.col("y1") >= 0)
        & (pl.col("x1") < pl.col("x2"))
        & (pl.col("y1") < pl.col("y2"))
        & (pl.col("x2") <= pl.col("width"))
        & (pl.col("y2") <= pl.col("height"))
    )
    return (
        detections.join(sizes, on="image_id", how="left")
        .with_columns(
            _image_known=pl.col("_image_known").fill_null(False),
            _box_inside=inside,  # null (not judged) when the image is unknown
        )
        .drop("width", "height")
    )


def reads_frame(
    reads: pl.LazyFrame, detections: pl.LazyFrame, images: pl.LazyFrame
) -> pl.LazyFrame:
    """``reads`` with its detection and image found, and its per-character confidences judged."""
    found = detections.select("detection_id", _detection_known=pl.lit(True))
    return (
        reads.join(found, on="detection_id", how="left")
        .join(images.select("image_id", _image_known=pl.lit(True)), on="image_id", how="left")
        .with_columns(
            pl.col("_detection_known", "_image_known").fill_null(False),
            _char_confidences_ok=pl.col("char_confidences")
            .list.eval(pl.element().is_between(0.0, 1.0))
            .list.all()
            .fill_null(False),
        )
    )


def lake_parameters(settings: Settings, table: LakeTable, as_of: datetime) -> dict[str, Any]:
    """The parameters of ``table``'s suite: settings, and the window judged as of ``as_of``."""
    own: dict[str, Any] = {}
    if table is IMAGES:
        registry = load_camera_registry(settings.ingest.camera_registry)
        # The ingestion checks' own window: older than max_age_days, or later than the camera
        # clock-skew tolerance, is implausible.
        oldest = as_of - timedelta(days=settings.ingest.max_age_days)
        latest = as_of + timedelta(seconds=settings.ingest.future_tolerance_seconds)
        own = {
            "captured_at_min": oldest.isoformat(),
            "captured_at_max": latest.isoformat(),
            "known_cameras": sorted(registry) if registry is not None else None,
        }
    elif table is READS:
        shortest, longest = settings.quality.plate_min_length, settings.quality.plate_max_length
        own = {"plate_text_pattern": f"^(?:[{PLATE_ALPHABET}]{{{shortest},{longest}}})?$"}
    return _with_settings(settings, table.suite or "", own)


def lake_batch(settings: Settings, table: LakeTable, day: date, as_of: datetime) -> Batch:
    """Partition ``day`` of a lake table, judged as of ``as_of`` (capture-time plausibility)."""
    images = _scan(settings, IMAGES, day)
    if table is IMAGES:
        frame = images_frame(images)
    elif table is DETECTIONS:
        frame = detections_frame(_scan(settings, DETECTIONS, day), images)
    elif table is READS:
        frame = reads_frame(_scan(settings, READS, day), _scan(settings, DETECTIONS, day), images)
    else:
        raise ValueError(f"table {table.name!r} has no suite")
    return Batch(
        table.suite or "",
        day.isoformat(),
        frame.collect(),
        table.key_columns[0],
        lake_parameters(settings, table, as_of),
        day,
    )


def hotlist_batch(settings: Settings, list_name: str, version: int | None = None) -> Batch:
    """The entries of one version of ``list_name`` (its active one by default), judged against
    the size of the version before it."""
    with engine_for(settings.catalog_url).connect() as conn:
        listed = conn.execute(
            sa.select(hotlist_lists.c.format, hotlist_lists.c.active_version).where(
                hotlist_lists.c.list_name == list_name
            )
        ).first()
        if listed is None or (version is None and listed.active_version is None):
            raise ValueError(f"hotlist {list_name!r} has no version to validate")
        version = version if version is not None else listed.active_version
        previous = conn.execute(
            sa.select(hotlist_versions.c.entries)
            .where(hotlist_versions.c.list_name == list_name, hotlist_versions.c.version < version)
            .order_by(hotlist_versions.c.version.desc())
            .limit(1)
        ).scalar()
        e = hotlist_entries
        query = sa.select(
            e.c.entry_id, e.c.list_name, e.c.plate, e.c.state, e.c.match_key, e.c.list_code
        ).where(e.c.list_name == list_name, e.c.version == version)
        frame = pl.read_database(
            query,
            conn,
            schema_overrides={
                c: pl.String
                for c in ("entry_id", "list_name", "plate", "state", "match_key", "list_code")
            },
        )
    return Batch(
        "hotlist_entries",
        f"{list_name}@{version}",
        frame,
        "entry_id",
        hotlist_parameters(settings, listed.format, previous),
    )


def hotlist_parameters(settings: Settings, fmt: str, previous: int | None) -> dict[str, Any]:
    """The hotlist suite's parameters for a list of format ``fmt`` whose version before had
    ``previous`` entries (None: the first version, whose size is not judged)."""
    band = settings.quality.hotlist_size_band
    codes = {"ncic": sorted(NCIC_LIST_CODES), "ccic": list(CCIC_LIST_TYPES)}.get(fmt)
    own = {
        "list_codes": codes,  # CSV lists name their own codes: not judged
        "row_count_min": int(previous * (1 - band)) if previous else None,
        "row_count_max": int(previous * (1 + band)) if previous else None,
    }
    return _with_settings(settings, "hotlist_entries", own)


def alerts_batch(settings: Settings, day: date) -> Batch:
    """The alerts raised on the reads captured on ``day``, each checked against its read."""
    with engine_for(settings.catalog_url).connect() as conn:
        a = alerts
        query = sa.select(a.c.alert_id, a.c.state, a.c.read_id, a.c.entry_id, a.c.match_kind).where(
            a.c.capture_date == day
        )
        frame = pl.read_database(
            query,
            conn,
            schema_overrides={
                c: pl.String for c in ("alert_id", "state", "read_id", "entry_id", "match_kind")
            },
        )
    frame = alerts_frame(frame.lazy(), _scan(settings, READS, day)).collect()
    return Batch(
        "alerts",
        day.isoformat(),
        frame,
        "alert_id",
        alerts_parameters(settings),
        day,
    )


def alerts_frame(alerts: pl.LazyFrame, reads: pl.LazyFrame) -> pl.LazyFrame:
    """``alerts`` with the read each was raised on found (``_read_known``)."""
    found = reads.select("read_id", _read_known=pl.lit(True))
    return alerts.join(found, on="read_id", how="left").with_columns(
        pl.col("_read_known").fill_null(False)
    )


def alerts_parameters(settings: Settings) -> dict[str, Any]:
    own = {"alert_states": [s.value for s in AlertState], "match_kinds": list(MATCH_KINDS)}
    return _with_settings(settings, "alerts", own)


DAILY_SUITES = (*(t.suite for t in LAKE_TABLES if t.suite), "alerts")


def day_batch(settings: Settings, suite: str, day: date, as_of: datetime) -> Batch:
    """The batch of capture date ``day`` that ``suite`` validates (``DAILY_SUITES``)."""
    if suite == "alerts":
        return alerts_batch(settings, day)
    for table in LAKE_TABLES:
        if table.suite == suite:
            return lake_batch(settings, table, day, as_of)
    raise ValueError(f"no daily suite {suite!r}; valid values: {list(DAILY_SUITES)}")
