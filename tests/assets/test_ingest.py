"""The ingest assets and sensor, run by Dagster against the real services."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import polars as pl

from assets._time import ReferenceTime
from assets.ingest.assets import camera_objects, images
from assets.ingest.sensors import camera_drop_sensor
from assets.resources import AlprSettings
from pipelines.config import Settings
from pipelines.ingest.sample import seed_sample_drop
from pipelines.storage.lake import IMAGES
from pipelines.storage.tables import scan_table


def _registration(as_of: datetime) -> dg.RunConfig:
    return dg.RunConfig({"ingest__camera_objects": ReferenceTime(as_of=as_of.isoformat())})


def test_assets_materialise_with_metadata(
    settings: Settings, alpr_config: Path, as_of: datetime, capture_day: date
) -> None:
    drop = seed_sample_drop(settings, capture_day, n_images=3, size=(160, 120))
    resources = {"alpr": AlprSettings(config_path=str(alpr_config))}
    # Daily partitions end at "today": judged at the reference time, like everything else.
    with dg.instance_for_test() as instance, dg.partition_loading_context(effective_dt=as_of):
        ledger = dg.materialize(
            [camera_objects],
            resources=resources,
            instance=instance,
            run_config=_registration(as_of),
        )
        assert ledger.success
        meta = ledger.asset_materializations_for_node("ingest__camera_objects")[0].metadata
        assert meta["ingested"].value == 3
        assert meta["quarantined"].value == len(drop.bad)
        assert meta["partitions_to_write"].value == [capture_day.isoformat()]

        result = dg.materialize(
            [images], resources=resources, instance=instance, partition_key=capture_day.isoformat()
        )
        assert result.success
        materialization = result.asset_materializations_for_node("ingest__images")[0]
        assert materialization.partition == capture_day.isoformat()
        assert materialization.metadata["dagster/row_count"].value == 3
    table = scan_table(settings, IMAGES, capture_day).collect()
    assert table.height == 3 and table.get_column("run_id").n_unique() == 1
    assert table.get_column("run_id").item(0) == ledger.run_id
    assert table.filter(pl.col("camera_id").is_null()).is_empty()


def test_sensor_requests_registration_then_stale_partitions(
    settings: Settings, alpr_config: Path, as_of: datetime, capture_day: date
) -> None:
    resources = {"alpr": AlprSettings(config_path=str(alpr_config))}
    with dg.instance_for_test() as instance, dg.partition_loading_context(effective_dt=as_of):
        context = dg.build_sensor_context(instance=instance, resources=resources)
        idle = camera_drop_sensor(context)
        assert isinstance(idle, dg.SensorResult) and not idle.run_requests

        seed_sample_drop(settings, capture_day, n_images=2, size=(160, 120), with_bad=False)
        first = camera_drop_sensor(dg.build_sensor_context(instance=instance, resources=resources))
        assert [r.job_name for r in first.run_requests] == ["ingest_job"]

        dg.materialize(
            [camera_objects],
            resources=resources,
            instance=instance,
            run_config=_registration(as_of),
        )
        second = camera_drop_sensor(dg.build_sensor_context(instance=instance, resources=resources))
        assert [(r.job_name, r.partition_key) for r in second.run_requests] == [
            ("images_job", capture_day.isoformat())
        ]
