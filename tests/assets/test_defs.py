from __future__ import annotations

import dagster as dg

from assets.definitions import defs


def test_definitions_load() -> None:
    repo = defs.get_repository_def()
    assert {"ingest_job", "images_job", "recognition_job"} <= {j.name for j in repo.get_all_jobs()}
    assert {s.name for s in repo.schedule_defs} == {"ingest_job_schedule", "images_job_schedule"}
    assert {s.name for s in repo.sensor_defs} == {"camera_drop_sensor", "images_updated_sensor"}


def test_assets_are_grouped_and_keyed_by_domain() -> None:
    keys = {spec.key for spec in defs.resolve_all_asset_specs()}
    assert dg.AssetKey(["ingest", "camera_objects"]) in keys
    assert dg.AssetKey(["ingest", "images"]) in keys
    assert dg.AssetKey(["recognition", "reads"]) in keys
    groups = {spec.key.path[0]: spec.group_name for spec in defs.resolve_all_asset_specs()}
    assert groups == {"ingest": "ingest", "recognition": "recognition"}
