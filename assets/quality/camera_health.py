"""Camera health of each capture date (``pipelines.quality.camera_health``): the per-camera figures
as a Markdown table in the asset's metadata, and non-blocking checks: one per camera of
``ingest.camera_registry`` (``camera_<id>_health``), or one ``camera_health`` for all cameras
when no registry is configured. A failing camera is a warning, never a stop."""

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

import dagster as dg

from assets._keys import IMAGES_KEY, READS_KEY
from assets._time import ReferenceTime
from assets.partitions import QUALITY_GROUP, daily_partitions, partition_written_sensor
from assets.resources import AlprSettings
from pipelines.quality.camera_health import (
    FIGURES,
    CameraHealthReport,
    camera_health_report,
    health_markdown,
)

__all__ = [
    "CAMERA_HEALTH_KEY",
    "SUMMARY_CHECK",
    "build_camera_health_asset",
    "camera_check_names",
    "camera_health_job",
    "reads_updated_health_sensor",
]

CAMERA_HEALTH_KEY = dg.AssetKey(["quality", "camera_health"])
SUMMARY_CHECK = "camera_health"
_NOT_NAME = re.compile(r"[^A-Za-z0-9_]")


def camera_check_names(cameras: Iterable[str]) -> dict[str, str]:
    """``camera_<id>_health`` per camera id, the id's other characters as ``_`` (Dagster's names
    are ``[A-Za-z0-9_]``); ids that would share a name get a short hash of the id appended."""
    names = {camera: f"camera_{_NOT_NAME.sub('_', camera)}_health" for camera in cameras}
    shared = {n for n, count in Counter(names.values()).items() if count > 1}
    return {
        camera: f"{name}_{hashlib.sha1(camera.encode()).hexdigest()[:6]}"
        if name in shared
        else name
        for camera, name in names.items()
    }


def build_camera_health_asset(cameras: Iterable[str] | None) -> dg.AssetsDefinition:
    """The asset, with a check per camera of ``cameras`` (the registry) or one summary check."""
    names = camera_check_names(cameras) if cameras is not None else None
    specs = [
        dg.AssetCheckSpec(
            name,
            asset=CAMERA_HEALTH_KEY,
            partitions_def=daily_partitions,
            description=description,
        )
        for name, description in (
            [(n, f"Camera {c}: read rate, confidence and silence.") for c, n in names.items()]
            if names is not None
            else [(SUMMARY_CHECK, "Every camera: read rate, confidence and silence.")]
        )
    ]

    @dg.asset(
        key=CAMERA_HEALTH_KEY,
        group_name=QUALITY_GROUP,
        partitions_def=daily_partitions,
        deps=[IMAGES_KEY, READS_KEY],
        check_specs=specs,
        kinds={"polars"},
        description="Per camera: images, plates per image, read rate, mean OCR confidence and "
        "no-plate share against its trailing quality.camera_baseline_days baseline.",
    )
    def camera_health(
        context: dg.AssetExecutionContext, config: ReferenceTime, alpr: AlprSettings
    ) -> dg.MaterializeResult:
        day = context.partition_time_window.start.date()
        report = camera_health_report(alpr.load(), day, config.now())
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": report.cameras.height,
                "cameras": dg.MetadataValue.md(health_markdown(report.cameras)),
                "failing": dg.MetadataValue.json(report.failing),
                "reference_at": report.reference_at.isoformat(),
            },
            check_results=_check_results(report, names),
        )

    return camera_health


def _check_results(
    report: CameraHealthReport, names: dict[str, str] | None
) -> list[dg.AssetCheckResult]:
    rows = {row["camera_id"]: row for row in report.cameras.iter_rows(named=True)}
    if names is None:
        return [
            dg.AssetCheckResult(
                check_name=SUMMARY_CHECK,
                passed=not report.failing,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "cameras": len(rows),
                    "failing": dg.MetadataValue.json(report.failing),
                    "reasons": dg.MetadataValue.json(
                        {camera: _reasons(rows[camera]) for camera in report.failing}
                    ),
                },
            )
        ]
    return [
        dg.AssetCheckResult(
            check_name=name,
            passed=bool(camera in rows and rows[camera]["passed"]),
            severity=dg.AssetCheckSeverity.WARN,
            metadata=_camera_metadata(rows[camera])
            if camera in rows
            else {"error": "camera not in ingest.camera_registry when the run read it"},
        )
        for camera, name in names.items()
    ]


def _reasons(row: dict[str, Any]) -> list[str]:
    flags = ("silent", "read_rate_dropped", "confidence_dropped")
    return [flag for flag in flags if row[flag]]


def _camera_metadata(row: dict[str, Any]) -> dict[str, Any]:
    figures = {
        key: round(row[key], 4) if isinstance(row[key], float) else row[key]
        for figure in FIGURES
        for key in (figure, f"baseline_{figure}")
        if row[key] is not None
    }
    last_seen = row["last_seen_at"]
    return {
        "camera_id": row["camera_id"],
        **figures,
        "baseline_days": row["baseline_days"],
        "last_seen_at": last_seen.isoformat() if last_seen else "never in the days read",
        "reasons": dg.MetadataValue.json(_reasons(row)),
    }


camera_health_job = dg.define_asset_job(
    "camera_health_job", selection=dg.AssetSelection.assets(CAMERA_HEALTH_KEY)
)
reads_updated_health_sensor = partition_written_sensor(
    "reads_updated_health_sensor", READS_KEY, camera_health_job
)
