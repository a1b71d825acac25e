from __future__ import annotations

import dagster as dg

from assets.definitions import build_defs, defs
from pipelines.config import HotlistSource, load_settings


def test_definitions_load() -> None:
    repo = defs.get_repository_def()
    jobs = {j.name for j in repo.get_all_jobs()}
    assert {
        "ingest_job",
        "images_job",
        "recognition_job",
        "alerts_sweep_job",
        "retention_job",
        "preservation_job",
        "camera_health_job",
        "audit_head_job",
        "analytics_job",
    } <= jobs
    assert {s.name for s in repo.schedule_defs} == {
        "ingest_job_schedule",
        "images_job_schedule",
        "hotlists_job_schedule",
        "hotlist_checks_job_schedule",
        "alerts_sweep_job_schedule",
        "retention_job_schedule",
        "audit_head_job_schedule",
    }
    assert {s.name for s in repo.sensor_defs} == {
        "camera_drop_sensor",
        "images_updated_sensor",
        "hotlist_drop_sensor",
        "reads_updated_sensor",
        "hotlist_changes_sensor",
        "reads_updated_health_sensor",
        "reads_updated_analytics_sensor",
    }


def test_assets_are_grouped_and_keyed_by_domain() -> None:
    keys = {spec.key for spec in defs.resolve_all_asset_specs()}
    assert dg.AssetKey(["ingest", "camera_objects"]) in keys
    assert dg.AssetKey(["ingest", "images"]) in keys
    assert dg.AssetKey(["recognition", "reads"]) in keys
    groups = {spec.key.path[0]: spec.group_name for spec in defs.resolve_all_asset_specs()}
    assert groups == {
        "ingest": "ingest",
        "recognition": "recognition",
        "matching": "matching",
        "quality": "quality",
        "analytics": "analytics",
    }


def test_each_configured_hotlist_source_gets_an_asset_a_check_and_the_refresh_schedule() -> None:
    settings = load_settings(env={}).replace(
        hotlists={
            "sources": (
                HotlistSource("ncic", "ncic", "s3://vendor/ncic/"),
                HotlistSource("ccic", "ccic", "https://ccic.example/export.txt"),
            ),
            "refresh_cron": "45 4 * * *",
            "refresh_timezone": "America/Denver",
        }
    )
    built = build_defs(settings)
    specs = {spec.key: spec for spec in built.resolve_all_asset_specs()}
    for name in ("ncic", "ccic"):
        assert specs[dg.AssetKey(["hotlists", name])].group_name == "hotlists"
    alerts = specs[dg.AssetKey(["matching", "alerts"])]
    assert {dep.asset_key for dep in alerts.deps} == {
        dg.AssetKey(["recognition", "reads"]),
        dg.AssetKey(["hotlists", "ncic"]),
        dg.AssetKey(["hotlists", "ccic"]),
    }
    checks = built.resolve_asset_graph().asset_check_keys
    named = {(c.asset_key.path[-1], c.name) for c in checks}
    assert {
        ("ncic", "hotlist_entries_freshness"),
        ("ccic", "hotlist_entries_freshness"),
        ("alerts", "alerts_match_volume"),
        ("ncic", "hotlist_entries_identity_unique"),  # and each list's suite
        ("ccic", "hotlist_entries_identity_unique"),
    } <= named
    schedule = built.get_repository_def().get_schedule_def("hotlists_job_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("45 4 * * *", "America/Denver")
