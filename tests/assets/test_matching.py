"""The matching assets, volume check and sensors, run by Dagster against the real services."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg

from assets._keys import READS_KEY
from assets.hotlists.assets import build_hotlist_asset, hotlist_key
from assets.matching.assets import RetroConfig, build_matching_assets
from assets.matching.checks import alerts_match_volume
from assets.matching.sensors import hotlist_changes_sensor, reads_updated_sensor
from assets.resources import AlprSettings
from pipelines.config import Settings
from pipelines.storage.catalog import upgrade_catalog
from tests.assets.test_hotlists import ASSET_OP, at, ncic_file, with_source
from tests.pipelines.matching.test_run import alert_rows, load_list, read, write_reads
from tests.pipelines.matching.test_run import at as at_hour


def test_the_alerts_asset_matches_one_capture_date(
    settings: Settings, alpr_config: Path, tmp_path: Path, as_of: datetime, capture_day: date
) -> None:
    upgrade_catalog(settings.catalog_url)
    load_list(settings, as_of - timedelta(hours=1), ("ABC123", "CO"))
    write_reads(settings, capture_day, read("r1", "ABC123", "CO", at_hour(capture_day, 14)))
    resources = {"alpr": AlprSettings(config_path=str(alpr_config))}
    alerts_asset, _ = build_matching_assets(["ncic"])
    with dg.instance_for_test() as instance, dg.partition_loading_context(effective_dt=as_of):
        result = dg.materialize(
            [alerts_asset, alerts_match_volume],
            resources=resources,
            instance=instance,
            partition_key=capture_day.isoformat(),
            run_config=at(as_of, "matching__alerts"),
        )
    assert result.success
    meta = result.asset_materializations_for_node("matching__alerts")[0].metadata
    assert meta["alerts_raised"].value == 1 and meta["reads"].value == 1
    (volume,) = result.get_asset_check_evaluations()
    assert volume.passed and volume.severity == dg.AssetCheckSeverity.WARN
    assert volume.metadata["count"].value == 1
    assert alert_rows(settings)["read_id"].to_list() == ["r1"]


def test_reads_written_request_their_partition(as_of: datetime, capture_day: date) -> None:
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(asset_key=READS_KEY, partition=capture_day.isoformat())
        )
        (request,) = reads_updated_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == capture_day.isoformat()


def test_a_list_change_starts_retro_matching_of_its_version(
    settings: Settings, alpr_config: Path, tmp_path: Path, as_of: datetime, capture_day: date
) -> None:
    drop = tmp_path / "ncic.txt"
    drop.write_bytes(ncic_file("ABC123"))
    resources = with_source(alpr_config, str(drop))
    write_reads(settings, capture_day, read("r1", "NEW777", "CO", at_hour(capture_day, 9)))
    hotlist = build_hotlist_asset("ncic")
    _, retro = build_matching_assets(["ncic"])
    cursor: list[str | None] = [None]  # what the daemon keeps between ticks
    with dg.instance_for_test() as instance:

        def tick() -> dg.SensorResult:
            context = dg.build_multi_asset_sensor_context(
                monitored_assets=[hotlist_key("ncic")],
                instance=instance,
                definitions=dg.Definitions(assets=[hotlist], resources=resources),
                cursor=cursor[0],
            )
            result = hotlist_changes_sensor(context)
            cursor[0] = context.cursor
            return result

        for _ in range(2):  # the same file twice: one version, then "unchanged"
            dg.materialize(
                [hotlist], resources=resources, instance=instance, run_config=at(as_of, ASSET_OP)
            )
        first = tick()
        assert [r.run_key for r in first.run_requests] == ["ncic:1"]
        assert not tick().run_requests  # the cursor moved on

        drop.write_bytes(ncic_file("ABC123", "NEW777"))
        dg.materialize(
            [hotlist], resources=resources, instance=instance, run_config=at(as_of, ASSET_OP)
        )
        (request,) = tick().run_requests
        assert request.run_key == "ncic:2"
        config = request.run_config["ops"]["matching__retro_matching"]["config"]
        result = dg.materialize(
            [retro],
            resources=resources,
            instance=instance,
            run_config=dg.RunConfig(
                {"matching__retro_matching": RetroConfig(**config, as_of=as_of.isoformat())}
            ),
        )
    meta = result.asset_materializations_for_node("matching__retro_matching")[0].metadata
    assert (meta["added"].value, meta["alerts_raised"].value) == (1, 1)
    raised = alert_rows(settings)
    assert raised["read_id"].to_list() == ["r1"] and raised["seen_before_listed"].to_list() == [
        True
    ]
