"""The camera-health asset, run by Dagster over images and reads partitions written to the lake:
a camera whose read rate collapses fails its own (non-blocking) check."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from itertools import groupby
from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import build_defs
from assets.quality.camera_health import (
    CAMERA_HEALTH_KEY,
    SUMMARY_CHECK,
    build_camera_health_asset,
    camera_check_names,
)
from assets.resources import AlprSettings
from pipelines.config import Settings, load_settings
from pipelines.storage.lake import IMAGES, READS
from pipelines.storage.tables import write_partition_batches
from tests.assets.test_hotlists import at
from tests.pipelines.quality._cameras import CameraDay, frames, history

OP = "quality__camera_health"


def write_days(settings: Settings, camera_days: Iterable[CameraDay]) -> None:
    """One images and one reads partition per day, as ingestion and recognition write them."""
    for day, same_day in groupby(sorted(camera_days, key=lambda cd: cd.day), key=lambda cd: cd.day):
        images, reads = frames(same_day)
        write_partition_batches(settings, IMAGES, day, [images])
        write_partition_batches(settings, READS, day, [reads])


@pytest.fixture
def collapsed(settings: Settings, capture_day: date) -> Settings:
    """A week of steady days for two cameras; on ``capture_day`` cam-07 reads 1 frame in 10."""
    write_days(
        settings,
        [
            *history("cam-07", capture_day),
            CameraDay("cam-07", capture_day, read=1),
            *history("cam-12", capture_day),
            CameraDay("cam-12", capture_day),
        ],
    )
    return settings


def materialize(
    config: Path, cameras: list[str] | None, capture_day: date, as_of: datetime
) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance, dg.partition_loading_context(effective_dt=as_of):
        return dg.materialize(
            [build_camera_health_asset(cameras)],
            resources={"alpr": AlprSettings(config_path=str(config))},
            instance=instance,
            partition_key=capture_day.isoformat(),
            run_config=at(as_of, OP),
        )


def with_registry(config: Path, cameras: list[str]) -> Path:
    registry = config.parent / "cameras.csv"
    registry.write_text("camera_id,site\n" + "".join(f"{c},site\n" for c in cameras))
    config.write_text(config.read_text() + f'[ingest]\ncamera_registry = "{registry}"\n')
    return config


def test_a_camera_whose_read_rate_collapses_fails_its_check(
    collapsed: Settings, alpr_config: Path, capture_day: date, as_of: datetime
) -> None:
    cameras = ["cam-07", "cam-12", "cam-99"]  # cam-99 is registered and sends nothing
    result = materialize(with_registry(alpr_config, cameras), cameras, capture_day, as_of)
    assert result.success  # the checks warn; they stop nothing
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"camera_cam_07_health", "camera_cam_12_health", "camera_cam_99_health"}
    assert {e.severity for e in checks.values()} == {dg.AssetCheckSeverity.WARN}
    dirty = checks["camera_cam_07_health"]
    assert not dirty.passed
    assert dirty.metadata["read_rate"].value == 0.1
    assert dirty.metadata["baseline_read_rate"].value == 0.8
    assert dirty.metadata["reasons"].value == ["read_rate_dropped"]
    assert checks["camera_cam_12_health"].passed
    assert not checks["camera_cam_99_health"].passed
    assert checks["camera_cam_99_health"].metadata["reasons"].value == ["silent"]
    meta = result.asset_materializations_for_node(OP)[0].metadata
    table = meta["cameras"].value
    assert isinstance(table, str) and "| cam-07 | 10 (10.0) |" in table
    assert meta["failing"].value == ["cam-07", "cam-99"]


def test_without_a_registry_one_check_names_the_failing_cameras(
    collapsed: Settings, alpr_config: Path, capture_day: date, as_of: datetime
) -> None:
    result = materialize(alpr_config, None, capture_day, as_of)
    assert result.success
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == SUMMARY_CHECK and not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["failing"].value == ["cam-07"]
    assert check.metadata["reasons"].value == {"cam-07": ["read_rate_dropped"]}
    assert check.metadata["cameras"].value == 2


def test_steady_cameras_pass(
    settings: Settings, alpr_config: Path, capture_day: date, as_of: datetime
) -> None:
    write_days(settings, [*history("cam-12", capture_day), CameraDay("cam-12", capture_day)])
    (check,) = materialize(alpr_config, None, capture_day, as_of).get_asset_check_evaluations()
    assert check.passed and check.metadata["failing"].value == []


def test_the_definitions_check_each_registered_camera(tmp_path: Path) -> None:
    settings = load_settings(env={})
    registry = tmp_path / "cameras.txt"
    registry.write_text("# id\ncam-07\nCAM.12\n")
    built = build_defs(settings.replace(ingest={"camera_registry": str(registry)}))
    checks = built.resolve_asset_graph().asset_check_keys
    assert {c.name for c in checks if c.asset_key == CAMERA_HEALTH_KEY} == {
        "camera_cam_07_health",
        "camera_CAM_12_health",
    }
    unregistered = build_defs(settings).resolve_asset_graph().asset_check_keys
    assert {c.name for c in unregistered if c.asset_key == CAMERA_HEALTH_KEY} == {SUMMARY_CHECK}


def test_ids_that_sanitize_alike_get_distinct_check_names() -> None:
    names = camera_check_names(["cam-1", "cam_1", "cam 2"])
    assert names["cam 2"] == "camera_cam_2_health"
    assert len(set(names.values())) == 3
    assert all(n.startswith("camera_cam_1_health_") for c, n in names.items() if c != "cam 2")
