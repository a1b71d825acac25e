"""The ``analytics/sightings`` asset materialised by Dagster for one capture date, and the sensor
that follows ``recognition/reads``."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from assets.analytics.assets import sightings
from assets.analytics.sensors import reads_updated_analytics_sensor
from assets.resources import AlprSettings
from pipelines.config import Settings
from pipelines.storage.lake import SIGHTINGS
from pipelines.storage.tables import scan_table
from tests.pipelines.analytics._sightings import DAY1, KEY, READS
from tests.pipelines.search._reads import write_reads


def test_sightings_materialise_one_day_with_its_row_count(
    settings: Settings, alpr_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPR_ANALYTICS_KEY", KEY)  # a secret in the environment, not the file
    write_reads(settings, READS)
    resources = {"alpr": AlprSettings(config_path=str(alpr_config))}

    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [sightings], resources=resources, instance=instance, partition_key=DAY1.isoformat()
        )
        assert result.success
        [event] = result.asset_materializations_for_node("analytics__sightings")
        assert event.metadata["dagster/row_count"].value == 4
        assert event.metadata["key_version"].value == 1
        assert event.asset_key == dg.AssetKey(["analytics", "sightings"])
    assert scan_table(settings, SIGHTINGS, DAY1).collect().height == 4


def test_the_sensor_follows_each_reads_partition() -> None:
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=["recognition", "reads"], partition=DAY1.isoformat())
        )
        context = dg.build_sensor_context(instance=instance)
        requests = list(reads_updated_analytics_sensor(context) or [])
    assert [r.partition_key for r in requests if isinstance(r, dg.RunRequest)] == [DAY1.isoformat()]
