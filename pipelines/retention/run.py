"""One retention pass: delete what is older than its data class's period and not held.

Per capture date, the order is objects, then Delta rows, then the ledger: the ledger is what names
the objects, so it is scrubbed last and a pass killed at any point (kill -9 included) leaves work
that the next pass finds and finishes, deleting nothing twice and skipping nothing. Every pass
ends with the tables' vacuum and log cleanup and the object store's vacuum, which also completes
those of a killed pass. The report (counts per data class, day and camera, never plate text) goes
to the audit log in the transaction that closes the run.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.alerts.tables import alert_hits, alert_transitions, alerts, webhook_deliveries
from pipelines.audit.log import record, require_utc
from pipelines.config import Settings
from pipelines.preservation.holds import active_holds
from pipelines.preservation.selection import plate_key_expr
from pipelines.quality.docs import DOCS_PREFIX
from pipelines.quality.run import RESULTS_PREFIX
from pipelines.quality.tables import quality_flags, quality_verdicts
from pipelines.retention._delta import delete_rows, partitions_before, purge_history
from pipelines.retention._objects import delete_prefix_versions, delete_versions, vacuum_store
from pipelines.retention.policy import (
    ITEMS_SCHEMA,
    DataClass,
    expiry_bound,
    periods,
    plan_deletions,
)
from pipelines.retention.tables import object_deletions, retention_runs
from pipelines.search.index import drop_days
from pipelines.storage.catalog import camera_objects, engine_for, insert_new, upgrade_catalog
from pipelines.storage.lake import (
    DETECTIONS,
    IMAGES,
    LAKE_TABLES,
    PLATE_INDEX,
    READS,
    RECOGNITION_ERRORS,
    SIGHTINGS,
    LakeTable,
)
from pipelines.storage.objects import s3_client
from pipelines.storage.tables import scan_table, table_exists

__all__ = ["ClassReport", "RetentionReport", "run_retention"]

_CROPS = "crops/"
# Ledger columns a deleted object keeps: what stops it being registered again, nothing personal.
_KEPT_LEDGER = {"image_id", "bucket", "key", "etag", "status", "run_id", "registered_at"}


@dataclass
class ClassReport:
    period_days: int
    expired_before: datetime  # rows captured before this instant (UTC) are expired
    deleted: int = 0  # items: images, reads, quarantined objects, alerts
    held: int = 0  # expired items kept because a hold selects them
    objects: int = 0  # object versions (and delete markers) removed
    rows: dict[str, int] = field(default_factory=dict)  # per table
    by_day: dict[str, dict[str, int]] = field(default_factory=dict)  # day -> camera -> items

    def as_dict(self) -> dict[str, Any]:
        return {
            "period_days": self.period_days,
            "expired_before": self.expired_before.isoformat(),
            "deleted": self.deleted,
            "held": self.held,
            "objects": self.objects,
            "rows": dict(sorted(self.rows.items())),
            "by_day": {d: dict(sorted(c.items())) for d, c in sorted(self.by_day.items())},
        }


@dataclass
class RetentionReport:
    run_id: str
    as_of: datetime
    dry_run: bool
    classes: dict[str, ClassReport]  # by DataClass value
    table_files_vacuumed: int = 0
    store_vacuumed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "classes": {c: r.as_dict() for c, r in self.classes.items()},
            "table_files_vacuumed": self.table_files_vacuumed,
            "store_vacuumed": self.store_vacuumed,
        }


def run_retention(
    settings: Settings,
    *,
    as_of: datetime,
    dry_run: bool,
    actor: str = "service",
    progress: Callable[[str], None] | None = None,
) -> RetentionReport:
    """Delete (or, with ``dry_run``, count) every expired, unheld item as of ``as_of``."""
    as_of = require_utc(as_of)
    upgrade_catalog(settings.catalog_url)
    engine = engine_for(settings.catalog_url)
    period_days = periods(settings)
    report = RetentionReport(
        run_id=f"retention-{as_of:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}",
        as_of=as_of,
        dry_run=dry_run,
        classes={c.value: ClassReport(d, expiry_bound(as_of, d)) for c, d in period_days.items()},
    )
    with engine.begin() as conn:
        conn.execute(
            retention_runs.insert().values(
                run_id=report.run_id,
                as_of=as_of,
                dry_run=dry_run,
                actor=actor,
                status="running",
                started_at=as_of,
            )
        )
        holds = active_holds(conn)
    pass_ = _Pass(settings, engine, report, holds, period_days, dry_run)
    for day in _candidate_days(settings, engine, report):
        pass_.day(day)
        if progress:
            progress(day.isoformat())
    pass_.quarantine()
    if not dry_run:
        report.table_files_vacuumed = sum(
            len(purge_history(settings, t)) for t in (*LAKE_TABLES, PLATE_INDEX)
        )
        report.store_vacuumed = vacuum_store(settings)
    summary = report.as_dict()
    with engine.begin() as conn:
        conn.execute(
            retention_runs.update()
            .where(retention_runs.c.run_id == report.run_id)
            .values(status="succeeded", finished_at=as_of, summary=json.dumps(summary))
        )
        record(
            conn,
            actor=actor,
            action="retention.dry_run" if dry_run else "retention.run",
            subject=f"retention:{report.run_id}",
            details=summary,
            now=as_of,
        )
    return report


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _candidate_days(settings: Settings, engine: sa.Engine, report: RetentionReport) -> list[date]:
    """Capture dates that may hold something expired: in the ledger, a table, crops or alerts.

    Dates whose data is all held stay candidates (and cost a look each night) until released.
    """
    day_classes = (DataClass.IMAGES, DataClass.READS, DataClass.ALERTS)
    latest = max(report.classes[c].expired_before for c in day_classes).date()
    days: set[date] = set()
    with engine.connect() as conn:
        days.update(
            conn.execute(
                sa.select(camera_objects.c.capture_date)
                .where(
                    camera_objects.c.status == "ingested",
                    camera_objects.c.capture_date < latest,
                )
                .distinct()
            ).scalars()
        )
        days.update(
            conn.execute(
                sa.select(alerts.c.capture_date).where(alerts.c.capture_date < latest).distinct()
            ).scalars()
        )
    for table in LAKE_TABLES:
        days.update(partitions_before(settings, table, latest))
    pages = (
        s3_client(settings.s3)
        .get_paginator("list_objects_v2")
        .paginate(Bucket=settings.s3.lake_bucket, Prefix=_CROPS, Delimiter="/")
    )
    try:
        for page in pages:
            for prefix in page.get("CommonPrefixes", []):
                try:
                    day = date.fromisoformat(prefix["Prefix"][len(_CROPS) :].rstrip("/"))
                except ValueError:
                    continue
                if day < latest:
                    days.add(day)
    except s3_client(settings.s3).exceptions.NoSuchBucket:
        pass
    return sorted(days)


class _Pass:
    """The work of one run, day by day."""

    def __init__(
        self,
        settings: Settings,
        engine: sa.Engine,
        report: RetentionReport,
        holds: pl.DataFrame,
        period_days: dict[DataClass, int],
        dry_run: bool,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.report = report
        self.holds = holds
        self.period_days = period_days
        self.dry_run = dry_run

    def _expired(self, data_class: DataClass, day: date) -> bool:
        return _midnight(day) < self.report.classes[data_class].expired_before

    def day(self, day: date) -> None:
        images, reads, errors, alert_rows = self._day_frames(day)
        items = pl.concat(
            [
                images.select(
                    pl.lit(DataClass.IMAGES.value).alias("data_class"),
                    pl.col("image_id").alias("item_id"),
                    "image_id",
                    pl.lit(None, pl.String).alias("read_id"),
                    pl.lit(None, pl.String).alias("plate_key"),
                    "camera_id",
                    "captured_at",
                ),
                reads.select(
                    pl.lit(DataClass.READS.value).alias("data_class"),
                    pl.col("read_id").alias("item_id"),
                    "image_id",
                    "read_id",
                    plate_key_expr("plate_text").alias("plate_key"),
                    "camera_id",
                    "captured_at",
                ),
                errors.select(
                    pl.lit(DataClass.READS.value).alias("data_class"),
                    ("error:" + pl.col("image_id")).alias("item_id"),
                    "image_id",
                    pl.lit(None, pl.String).alias("read_id"),
                    pl.lit(None, pl.String).alias("plate_key"),
                    "camera_id",
                    "captured_at",
                ),
                alert_rows.select(
                    pl.lit(DataClass.ALERTS.value).alias("data_class"),
                    pl.col("alert_id").alias("item_id"),
                    "image_id",
                    "read_id",
                    plate_key_expr("plate_text").alias("plate_key"),
                    "camera_id",
                    "captured_at",
                ),
            ]
        ).cast(ITEMS_SCHEMA)
        plan = plan_deletions(items.lazy(), self.holds, self.report.as_of, self.period_days)
        judged = plan.collect()
        held = judged.filter("held")
        # an image is kept when anything of it is held (its crops and error rows with it)
        held_image_ids = set(held.get_column("image_id").drop_nulls().to_list())
        held_read_ids = held.filter(pl.col("data_class") == "reads").get_column("read_id")
        held_reads = reads.filter(pl.col("read_id").is_in(held_read_ids.drop_nulls().implode()))
        if self._expired(DataClass.IMAGES, day):
            self._images(day, images, judged, held_image_ids)
        if self._expired(DataClass.READS, day):
            self._reads(day, judged, held_reads, held_image_ids)
        if self._expired(DataClass.ALERTS, day):
            self._alerts(day, judged)
        if self._expired(DataClass.IMAGES, day) or self._expired(DataClass.READS, day):
            self._plate_index(day)

    def _day_frames(
        self, day: date
    ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        midnight = pl.lit(_midnight(day), pl.Datetime("us", "UTC"))
        with self.engine.connect() as conn:
            ledger = _frame(
                conn,
                sa.select(
                    camera_objects.c.image_id,
                    camera_objects.c.bucket,
                    camera_objects.c.key,
                    camera_objects.c.sidecar_key,
                    camera_objects.c.camera_id,
                    camera_objects.c.captured_at,
                ).where(
                    camera_objects.c.capture_date == day, camera_objects.c.status == "ingested"
                ),
                {
                    "image_id": pl.String,
                    "bucket": pl.String,
                    "key": pl.String,
                    "sidecar_key": pl.String,
                    "camera_id": pl.String,
                    "captured_at": pl.Datetime("us", "UTC"),
                },
            )
            alert_rows = _frame(
                conn,
                sa.union_all(
                    sa.select(
                        alerts.c.alert_id,
                        alerts.c.read_id,
                        alerts.c.image_id,
                        alerts.c.camera_id,
                        alerts.c.captured_at,
                        alerts.c.plate_text,
                    ).where(alerts.c.capture_date == day),
                    sa.select(
                        alerts.c.alert_id,
                        alert_hits.c.read_id,
                        alerts.c.image_id,
                        alerts.c.camera_id,
                        alerts.c.captured_at,
                        alerts.c.plate_text,
                    )
                    .join(alert_hits, alert_hits.c.alert_id == alerts.c.alert_id)
                    .where(alerts.c.capture_date == day),
                ),
                {
                    "alert_id": pl.String,
                    "read_id": pl.String,
                    "image_id": pl.String,
                    "camera_id": pl.String,
                    "captured_at": pl.Datetime("us", "UTC"),
                    "plate_text": pl.String,
                },
            )
        reads = _partition(
            self.settings,
            READS,
            day,
            ["read_id", "detection_id", "image_id", "camera_id", "captured_at", "plate_text"],
        )
        errors = (
            _partition(self.settings, RECOGNITION_ERRORS, day, ["image_id"])
            .unique("image_id")
            .join(ledger.select("image_id", "camera_id", "captured_at"), on="image_id", how="left")
            .with_columns(pl.col("captured_at").fill_null(midnight))
        )
        return ledger, reads, errors, alert_rows

    def _count(self, data_class: DataClass, day: date, judged: pl.DataFrame) -> pl.DataFrame:
        rows = judged.filter(pl.col("data_class") == data_class.value)
        gone = rows.filter("delete").unique("item_id")
        entry = self.report.classes[data_class]
        entry.deleted += gone.height
        entry.held += rows.filter(pl.col("expired") & pl.col("held")).unique("item_id").height
        counts = gone.group_by("camera_id").len()
        if counts.height:
            by_camera = entry.by_day.setdefault(day.isoformat(), {})
            for camera, n in counts.iter_rows():
                by_camera[camera or "unknown"] = by_camera.get(camera or "unknown", 0) + n
        return gone

    def _images(
        self, day: date, ledger: pl.DataFrame, judged: pl.DataFrame, held_image_ids: set[str]
    ) -> None:
        entry = self.report.classes[DataClass.IMAGES]
        gone = self._count(DataClass.IMAGES, day, judged)
        doomed_ids = set(gone.get_column("item_id").to_list())
        doomed = ledger.filter(pl.col("image_id").is_in(list(doomed_ids)))
        keep_crop = _crop_keeper(held_image_ids)
        rows = delete_rows(
            self.settings,
            IMAGES,
            day,
            ~pl.col("image_id").is_in(list(held_image_ids)),
            dry_run=self.dry_run,
        )
        entry.rows[IMAGES.name] = entry.rows.get(IMAGES.name, 0) + rows.height
        if self.dry_run:
            return
        entry.objects += self._delete_sources(doomed)
        entry.objects += delete_prefix_versions(
            self.settings, self.settings.s3.lake_bucket, f"{_CROPS}{day.isoformat()}/", keep_crop
        )
        self._scrub_ledger(doomed.get_column("image_id").to_list())

    def _reads(
        self, day: date, judged: pl.DataFrame, held_reads: pl.DataFrame, held_images: set[str]
    ) -> None:
        entry = self.report.classes[DataClass.READS]
        self._count(DataClass.READS, day, judged)
        held_read_ids = held_reads.get_column("read_id").to_list()
        held_detections = held_reads.get_column("detection_id").to_list()
        doomed = {
            READS: ~pl.col("read_id").is_in(held_read_ids),
            DETECTIONS: ~pl.col("detection_id").is_in(held_detections),
            RECOGNITION_ERRORS: ~pl.col("image_id").is_in(list(held_images)),
            # pseudonyms of the day, all of them: a hold keeps evidence, not analysis material
            SIGHTINGS: pl.lit(True),
        }
        for table, expr in doomed.items():
            rows = delete_rows(self.settings, table, day, expr, dry_run=self.dry_run)
            entry.rows[table.name] = entry.rows.get(table.name, 0) + rows.height
        if not self.dry_run:
            entry.objects += self._quality(day)

    def _plate_index(self, day: date) -> None:
        """The search's plate index copies the day's reads and their images' places: its rows of
        the day go when either is expired (a held read is then searched in ``reads``)."""
        rows = drop_days(self.settings, [day], dry_run=self.dry_run)
        if rows:
            entry = self.report.classes[DataClass.READS]
            entry.rows[PLATE_INDEX.name] = entry.rows.get(PLATE_INDEX.name, 0) + rows

    def _quality(self, day: date) -> int:
        """What validating the day kept: verdicts and flags, and the stored GX results and their
        Data Docs pages (whose samples hold plate text), named for the day they judged."""
        with self.engine.begin() as conn:
            for table in (quality_flags, quality_verdicts):
                conn.execute(table.delete().where(table.c.capture_date == day))
        of_day = f".{day.isoformat()}."
        return sum(
            delete_prefix_versions(
                self.settings, self.settings.s3.lake_bucket, prefix, lambda k: of_day not in k
            )
            for prefix in (RESULTS_PREFIX, DOCS_PREFIX)
        )

    def _alerts(self, day: date, judged: pl.DataFrame) -> None:
        entry = self.report.classes[DataClass.ALERTS]
        gone = self._count(DataClass.ALERTS, day, judged)
        ids = gone.get_column("item_id").to_list()
        entry.rows["alerts"] = entry.rows.get("alerts", 0) + len(ids)
        if self.dry_run or not ids:
            return
        with self.engine.begin() as conn:
            for table in (alert_hits, alert_transitions, webhook_deliveries):
                conn.execute(table.delete().where(table.c.alert_id.in_(ids)))
            conn.execute(alerts.delete().where(alerts.c.alert_id.in_(ids)))

    def quarantine(self) -> None:
        """Quarantined objects: they age from capture time, else from their registration."""
        entry = self.report.classes[DataClass.QUARANTINE]
        aged = sa.func.coalesce(camera_objects.c.captured_at, camera_objects.c.registered_at)
        with self.engine.connect() as conn:
            ledger = _frame(
                conn,
                sa.select(
                    camera_objects.c.image_id,
                    camera_objects.c.bucket,
                    camera_objects.c.key,
                    camera_objects.c.sidecar_key,
                    camera_objects.c.reason,
                    camera_objects.c.camera_id,
                    aged.label("captured_at"),
                ).where(camera_objects.c.status == "quarantined", aged < entry.expired_before),
                {
                    "image_id": pl.String,
                    "bucket": pl.String,
                    "key": pl.String,
                    "sidecar_key": pl.String,
                    "reason": pl.String,
                    "camera_id": pl.String,
                    "captured_at": pl.Datetime("us", "UTC"),
                },
            )
        if not ledger.height:
            return
        items = ledger.select(
            pl.lit(DataClass.QUARANTINE.value).alias("data_class"),
            pl.col("image_id").alias("item_id"),
            "image_id",
            pl.lit(None, pl.String).alias("read_id"),
            pl.lit(None, pl.String).alias("plate_key"),
            "camera_id",
            "captured_at",
        )
        judged = plan_deletions(
            items.lazy(), self.holds, self.report.as_of, self.period_days
        ).collect()
        gone = judged.filter("delete")
        entry.deleted += gone.height
        entry.held += judged.filter(pl.col("expired") & pl.col("held")).height
        for day, camera, n in (
            gone.group_by(pl.col("captured_at").dt.date(), "camera_id").len().iter_rows()
        ):
            by_camera = entry.by_day.setdefault(day.isoformat(), {})
            by_camera[camera or "unknown"] = by_camera.get(camera or "unknown", 0) + n
        if self.dry_run or not gone.height:
            return
        doomed = ledger.filter(pl.col("image_id").is_in(gone.get_column("image_id").implode()))
        entry.objects += self._delete_sources(doomed)
        copies = doomed.select(
            pl.format("quarantine/{}/{}/{}", "reason", "bucket", "key").alias("key")
        )
        entry.objects += delete_versions(
            self.settings, self.settings.s3.lake_bucket, copies.get_column("key").to_list()
        )
        self._scrub_ledger(doomed.get_column("image_id").to_list())

    def _delete_sources(self, doomed: pl.DataFrame) -> int:
        """Every version of the source objects (and their sidecars) in their buckets."""
        deleted = 0
        for (bucket,), part in doomed.group_by("bucket"):
            keys: Iterable[str] = pl.concat(
                [part.get_column("key"), part.get_column("sidecar_key").drop_nulls()]
            ).to_list()
            deleted += delete_versions(self.settings, str(bucket), keys)
        return deleted

    def _scrub_ledger(self, image_ids: list[str]) -> None:
        """Ledger rows of deleted objects keep bucket, key and ETag (no re-ingestion), no facts."""
        if not image_ids:
            return
        blank: dict[str, Any] = {
            c.name: None
            for c in camera_objects.columns
            if c.name not in _KEPT_LEDGER and c.nullable
        }
        blank.update(status="deleted", size_bytes=0)
        with self.engine.begin() as conn:
            for start in range(0, len(image_ids), 1000):
                chunk = image_ids[start : start + 1000]
                conn.execute(
                    camera_objects.update()
                    .where(camera_objects.c.image_id.in_(chunk))
                    .values(**blank)
                )
                insert_new(
                    conn,
                    object_deletions,
                    [
                        {
                            "image_id": i,
                            "deleted_at": self.report.as_of,
                            "run_id": self.report.run_id,
                        }
                        for i in chunk
                    ],
                )


def _crop_keeper(held_image_ids: set[str]) -> Callable[[str], bool]:
    """Crops live at ``crops/<date>/<image id>/<detection id>.jpg``: kept when the image is held."""

    def keep(key: str) -> bool:
        parts = key.split("/")
        return len(parts) >= 3 and parts[2] in held_image_ids

    return keep


def _frame(conn: sa.Connection, query: Any, schema: dict[str, Any]) -> pl.DataFrame:
    rows = [dict(r) for r in conn.execute(query).mappings()]
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def _partition(settings: Settings, table: LakeTable, day: date, columns: list[str]) -> pl.DataFrame:
    if not table_exists(settings, table):
        return pl.DataFrame(schema={c: table.schema[c] for c in columns})
    return scan_table(settings, table, day).select(columns).collect()
