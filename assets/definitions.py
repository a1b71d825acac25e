"""The one ``Definitions`` object of the project (load with ``dagster dev -m assets.definitions``)."""

from __future__ import annotations

import os

import dagster as dg

from assets.alerts.jobs import alerts_sweep_job
from assets.alerts.schedules import build_alerts_schedules
from assets.analytics import assets as analytics_assets
from assets.analytics.jobs import analytics_job
from assets.analytics.sensors import reads_updated_analytics_sensor
from assets.audit.jobs import audit_head_job
from assets.audit.schedules import build_audit_schedules
from assets.hotlists.assets import build_hotlist_assets
from assets.hotlists.checks import build_freshness_checks
from assets.hotlists.jobs import hotlist_checks_job, hotlists_job
from assets.hotlists.schedules import build_hotlist_schedules
from assets.hotlists.sensors import hotlist_drop_sensor
from assets.ingest import assets as ingest_assets
from assets.ingest.jobs import images_job, ingest_job
from assets.ingest.schedules import images_job_schedule, ingest_job_schedule
from assets.ingest.sensors import camera_drop_sensor
from assets.matching.assets import build_matching_assets
from assets.matching.checks import alerts_match_volume
from assets.matching.jobs import matching_job, retro_matching_job
from assets.matching.sensors import hotlist_changes_sensor, reads_updated_sensor
from assets.preservation.jobs import preservation_job
from assets.quality.camera_health import (
    build_camera_health_asset,
    camera_health_job,
    reads_updated_health_sensor,
)
from assets.quality.checks import build_quality_checks
from assets.recognition import assets as recognition_assets
from assets.recognition.jobs import recognition_job
from assets.recognition.sensors import images_updated_sensor
from assets.resources import RESOURCES_BY_DEPLOYMENT
from assets.retention.jobs import retention_job
from assets.retention.schedules import build_retention_schedules
from pipelines.config import Settings, load_settings
from pipelines.ingest.register import load_camera_registry

deployment = os.environ.get("ALPR_DEPLOYMENT", "local")


def build_defs(settings: Settings, deployment: str = "local") -> dg.Definitions:
    """The definitions for these settings: one hotlist asset (and freshness check) per
    configured source, the refresh schedule at the configured time, a camera-health check per
    camera of ``ingest.camera_registry`` (one for all cameras without a registry)."""
    sources = [source.name for source in settings.hotlists.sources]
    return dg.Definitions(
        assets=[
            *dg.load_assets_from_modules([ingest_assets, recognition_assets, analytics_assets]),
            *build_hotlist_assets(sources),
            *build_matching_assets(sources),
            build_camera_health_asset(load_camera_registry(settings.ingest.camera_registry)),
        ],
        asset_checks=[
            *build_freshness_checks(sources),
            alerts_match_volume,
            *build_quality_checks(sources),
        ],
        jobs=[
            ingest_job,
            images_job,
            recognition_job,
            hotlists_job,
            hotlist_checks_job,
            matching_job,
            retro_matching_job,
            alerts_sweep_job,
            retention_job,
            preservation_job,
            camera_health_job,
            audit_head_job,
            analytics_job,
        ],
        schedules=[
            ingest_job_schedule,
            images_job_schedule,
            *build_hotlist_schedules(settings.hotlists),
            *build_alerts_schedules(settings.alerts),
            *build_retention_schedules(settings.retention),
            *build_audit_schedules(settings.audit),
        ],
        sensors=[
            camera_drop_sensor,
            images_updated_sensor,
            hotlist_drop_sensor,
            reads_updated_sensor,
            hotlist_changes_sensor,
            reads_updated_health_sensor,
            reads_updated_analytics_sensor,
        ],
        resources=RESOURCES_BY_DEPLOYMENT[deployment],
    )


# The sources and the refresh time are part of the definitions: read once when they load (the
# same file the AlprSettings resource reads, ALPR_CONFIG in production).
defs = build_defs(load_settings(), deployment)
